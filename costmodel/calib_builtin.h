/* calib_builtin: the built-in kernel model (opcost) written as a calibration
 * profile, the starting point of a fit and what a missing fit falls back to.
 *
 * It sits apart from calib so that the arrow runs one way: opcost reads
 * profiles (calib.h); this module reads both, and nothing it uses reads it. */
#ifndef CS_CALIB_BUILTIN_H
#define CS_CALIB_BUILTIN_H

#include "calib.h"

/* The built-in model (opcost_eff_default) written as a profile of dev:
 * with it every kernel time equals opcost's. */
void calib_profile_default(const dev_type *dev, calib_profile *p);

#endif
