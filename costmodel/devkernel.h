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
 * that figure over the peak.  Such a sweep runs at whatever clock the GPU
 * sustains under that load, so the sustained clock is already inside the
 * ceiling; it is recorded (and printed by `clustersim devices --sources`),
 * not applied a second time.  A device with no measurement of its own says
 * so in its source and borrows the H200's figure.  test_device_system
 * fails when a catalog device has no entry or an entry has no source. */
#ifndef CS_DEVKERNEL_H
#define CS_DEVKERNEL_H

#include "device.h"

typedef struct dev_kernel {
    const char *device;          /* dev_type.name */
    double gemm_ceiling;         /* of the dense fp16/bf16 tensor peak */
    const char *gemm_source;
    double hbm_eff;              /* of hbm_bw_bytes_per_s */
    const char *hbm_source;
    double sustained_mhz, boost_mhz; /* 0: not published */
    const char *clock_source;
} dev_kernel;

/* The entry of a device by its catalog name, or NULL. */
const dev_kernel *dev_kernel_of(const dev_type *dev);

/* The i-th entry (0 .. dev_kernel_count() - 1). */
int dev_kernel_count(void);
const dev_kernel *dev_kernel_at(int i);

#endif
