/* calib_builtin: the built-in kernel model (opcost) written as a calibration
 * profile, the starting point of a fit and what a missing fit falls back to.
 *
 * It sits apart from calib so that the arrow runs one way: opcost reads
 * profiles (calib.h); this module reads both, and nothing it uses reads it. */
#ifndef CS_CALIB_BUILTIN_H
#define CS_CALIB_BUILTIN_H

#include "calib.h"

/* The built-in model (opcost_eff_default) written as a profile of dev: the
 * device's ceiling and memory rate with one 128 x 256 tile, the model before
 * the per-device tile choice (opcost_eff.per_device 0), and the starting
 * point of a fit. */
void calib_profile_default(const dev_type *dev, calib_profile *p);

/* A row's time as estimates price it without a profile (opcost with its
 * defaults: per device, the best of its tile shapes with split-K for matrix
 * multiplies, fused attention at its efficiency); rows of other kinds (copies,
 * collectives, fp32/tf32 multiplies) from p, calib_profile_default's.  ctx is
 * the dev_type.  For calib_validate_with: `validate kernels --builtin`. */
double calib_builtin_predict_s(const void *dev, const calib_profile *p, const calib_meas *r);

#endif
