/* calib_fit: fitting the calibrated device model (calib.h) to measurements,
 * held-out validation, and synthetic measurements from known parameters.
 *
 * Owns the nonlinear least squares (GSL's gsl_multifit_nlinear, trust
 * region, finite-difference Jacobian) on log(predicted / measured) of the
 * median times, so every row weighs by its relative error whatever its
 * size; the choice of the matrix multiply's tile among a few candidates
 * (the one with the smallest squared error); and the k-fold split: a row's
 * fold is a hash of its kernel, data type and shape, so repeated
 * measurements of one shape fall in the same fold and the split does not
 * depend on the row order.  Fold 0 is the held-out part: calibrate fits
 * the profile on the other folds and validate reports the error on it. */
#ifndef CS_CALIB_FIT_H
#define CS_CALIB_FIT_H

#include "calib.h"

/* Error summary groups: the families (attention: our own kernel's rows),
 * then PyTorch's attention (sdpa_torch rows) apart. */
enum { CALIB_GROUP_SDPA = CALIB_NFAMILY, CALIB_NGROUP };

typedef struct calib_group_err {
    int rows;
    double median_pct, max_pct; /* absolute error |pred - meas| / meas */
} calib_group_err;

typedef struct calib_summary {
    calib_group_err group[CALIB_NGROUP];
    int unpredicted; /* rows the profile has no fit for */
} calib_summary;

const char *calib_group_name(int g);

/* The fold of a row in 0..folds-1. */
int calib_fold(const calib_meas *r, int folds);

/* Fits every family that has enough rows, on the rows whose fold is not
 * `skip_fold` (-1: all rows).  p->device, sms and folds come from dev. */
int calib_fit(const calib_meas *rows, int n, int folds, int skip_fold, const dev_type *dev,
              const char *measured_on, calib_profile *p, cs_err *err);

/* Errors of p on the rows of fold `only_fold` (-1: every row). */
void calib_validate(const calib_profile *p, const calib_meas *rows, int n, int only_fold,
                    calib_summary *s);

/* The same with each row's time from predict (seconds, or < 0 for a row it
 * has no figure for), given ctx and p: the built-in model's own kernel times
 * (calib_builtin.h), which a profile cannot hold. */
typedef double (*calib_predict_fn)(const void *ctx, const calib_profile *p, const calib_meas *r);
void calib_validate_with(const calib_profile *p, const calib_meas *rows, int n, int only_fold,
                         calib_predict_fn predict, const void *ctx, calib_summary *s);

/* k-fold cross-validation: each fold predicted by a fit on the others. */
int calib_crossval(const calib_meas *rows, int n, int folds, const dev_type *dev,
                   calib_summary *s, cs_err *err);

/* The parameters synthetic measurements are drawn from: the built-in model
 * of dev (its attention is sdpa_torch's), our own attention kernel at half
 * the fp32 peak, plus copies and collectives over `ranks` GPUs. */
void calib_synthetic_truth(const dev_type *dev, int ranks, calib_profile *p);

/* Measurements of the sweep kernels/ runs, timed by `truth` with
 * log-normal noise of sigma `noise` (deterministic in seed).  *rows is
 * malloc'ed; the caller frees it. */
int calib_synthesize(const calib_profile *truth, int ranks, double noise, unsigned long seed,
                     calib_meas **rows, int *n, cs_err *err);

#endif
