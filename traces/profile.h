/* profile: device profiles as Lua files.
 *
 * Owns writing a fitted calib_profile as a Lua chunk that returns a table
 * (readable, diffable, loadable by scenarios) and loading one back.  The
 * loader runs the chunk in a Lua state with no library at all (the file
 * can compute nothing but its table) and checks every field: a missing or
 * wrong one is an error naming the file and the key.  The keys are
 * documented in docs/calibration.md. */
#ifndef CS_PROFILE_H
#define CS_PROFILE_H

#include <stdio.h>

#include "calib_fit.h"

/* Writes p; source names the measurements, heldout (may be NULL) the
 * held-out errors to record beside the parameters. */
void profile_write(FILE *f, const calib_profile *p, const char *source,
                   const calib_summary *heldout);

int profile_load(const char *path, calib_profile *p, cs_err *err);

/* Loads path into p for an estimate on dev: checks that p was fitted on
 * dev and points eff at it (p must outlive eff's use). */
struct opcost_eff;
int profile_apply(const char *path, const dev_type *dev, calib_profile *p, struct opcost_eff *eff,
                  cs_err *err);

/* Writes p to path staged (a temporary file renamed when complete). */
int profile_save(const char *path, const calib_profile *p, const char *source,
                 const calib_summary *heldout, cs_err *err);

#endif
