/* replay_print: what `clustersim replay` and replay{} show: the iteration
 * time, what the traces held, and where each rank's time went; as a table
 * or as CSV whose iteration_s column is estimate's. */
#ifndef CS_REPLAY_PRINT_H
#define CS_REPLAY_PRINT_H

#include <stdio.h>

#include "replay.h"

typedef struct replay_label {
    const char *traces;      /* the prefix the files share */
    const char *system;
    long gpus;
} replay_label;

/* Summary lines, then one row per rank (at most max_ranks, the slowest
 * ones first when there are more). */
void replay_print_table(FILE *f, const replay_label *lab, const replay_result *r, int max_ranks);

/* One header line, then one row per rank. */
void replay_print_csv(FILE *f, const replay_label *lab, const replay_result *r);

#endif
