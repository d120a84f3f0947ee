/* devkernel: what each catalog GPU achieves on kernels, with the source of
 * every figure.
 *
 * Owns the per-device kernel parameters the built-in kernel model (opcost)
 * prices with: the fraction of the dense 16-bit tensor peak a full wave of
 * large tiles sustains (gemm_ceiling), the fraction of HBM bandwidth a
 * streaming kernel reaches (hbm_eff), and the sustained and boost clocks,
 * each with where it comes from.  The ceilings are best-shape matrix
 * multiplies measured on the device (the MAMF sweep of stas00/ml-engineering
 * in ../shared/reference/component_measurements.csv, or the project's own
 * H200 measurement): the best shape fills whole waves, so the ceiling is
 * that figure over the peak.  FP8 multiplies have a ceiling of their own
 * (fp8_ceiling: the same sweep's FP8 table), lower than bf16's on Hopper.
 * That sweep (mamf-finder.py) times 100 calls per shape after 50 warm-up calls, each call after a 256 MiB memset and a
 * copy into the output (its L2 flush), so the tensor cores idle between
 * timed calls and the clock it ran at is neither held nor reported; under
 * sustained dense load the GPU holds a lower clock at its power limit.
 * Where that sustained clock is published (A100: 1305 of 1410 MHz, NVIDIA's
 * HPL Rpeak), the kernel model scales the ceiling by sustained / boost
 * (dev_kernel_gemm_fraction); where it is not (0), the ceiling stands as
 * measured.  HBM is clocked apart from the SMs: hbm_eff is not scaled.  The
 * batched score GEMMs of unfused attention (QK^T, P V and their gradients,
 * bound by the s x s matrix they write or read) move their bytes at
 * score_gemm_eff, solved from the one published timing of such a chain (the
 * A100's; the other devices borrow it as a fraction of their own HBM peak, as
 * every borrowed figure here is); other memory-bound kernels at hbm_eff.
 * `clustersim devices --sources` prints them all.  A device with no
 * measurement of its own says so in its source and borrows the H200's
 * figure (the A100's for score_gemm_eff).  test_device_system
 * fails when a catalog device has no entry or an entry has no source. */
#ifndef CS_DEVKERNEL_H
#define CS_DEVKERNEL_H

#include "device.h"

typedef struct dev_kernel {
    const char *device;          /* dev_type.name */
    double gemm_ceiling;         /* of the dense fp16/bf16 tensor peak */
    const char *gemm_source;
    double fp8_ceiling;          /* of the dense FP8 peak; 0: no FP8 units (the 16-bit one) */
    const char *fp8_source;
    double hbm_eff;              /* of hbm_bw_bytes_per_s */
    const char *hbm_source;
    double sustained_mhz, boost_mhz; /* 0: not published */
    const char *clock_source;
    double score_gemm_eff;       /* of hbm_bw_bytes_per_s, unfused attention's score GEMMs' */
    const char *score_gemm_source;
} dev_kernel;

/* The fraction of the dense 16-bit peak (fp8: of the FP8 peak, on a device
 * with FP8 units) a full wave of large tiles runs at on this device under
 * sustained load: the ceiling x sustained / boost clock where the sustained
 * clock is published, else the ceiling. */
double dev_kernel_gemm_fraction(const dev_kernel *k, int fp8);

/* The entry of a device by its catalog name, or NULL. */
const dev_kernel *dev_kernel_of(const dev_type *dev);

/* The i-th entry (0 .. dev_kernel_count() - 1). */
int dev_kernel_count(void);
const dev_kernel *dev_kernel_at(int i);

#endif
