/* moe_hist: a measured histogram of tokens per expert, read from CSV, for
 * the histogram routing of expert parallelism (layout_ep.h).
 *
 * Format: a header row naming the columns expert and tokens (others are
 * ignored; '#' lines are comments), then one row per expert: expert is its
 * index 0 .. n-1, each exactly once, in any order; tokens a finite number
 * >= 0 (a count, or any figure in proportion to one), not all zero.
 * Errors name the file and line. */
#ifndef CS_MOE_HIST_H
#define CS_MOE_HIST_H

#include "cs_error.h"

#define MOE_HIST_MAX_EXPERTS 65536

typedef struct moe_hist {
    double *tokens; /* n entries, by expert index; owned */
    int n;
} moe_hist;

int moe_hist_read(const char *path, moe_hist *out, cs_err *err);
void moe_hist_free(moe_hist *h);

#endif
