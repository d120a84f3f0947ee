/* estimate_print: how estimate results are shown: the table for people and
 * the CSV row for programs (columns documented in docs/estimate.md). */
#ifndef CS_ESTIMATE_PRINT_H
#define CS_ESTIMATE_PRINT_H

#include <stdio.h>

#include "estimate.h"

typedef struct estimate_label {
    const char *system;
    const char *mode;  /* "sim", "sim-all-ranks" or "analytic" */
    long gpus;
} estimate_label;

void estimate_print_csv_header(FILE *f);
void estimate_print_csv_row(FILE *f, const estimate_input *in, const estimate_label *lab,
                            const estimate_result *r);
/* The summary and the per-stage breakdown (every stage, or the first, the
 * last and the peak-memory stage when there are more than max_stages). */
void estimate_print_table(FILE *f, const estimate_input *in, const estimate_label *lab,
                          const estimate_result *r, int max_stages);

#endif
