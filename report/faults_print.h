/* faults_print: the figures of `clustersim faults` as a table or CSV.
 *
 * Owns the output format of a goodput study: the job's header lines, the
 * figures with their 95% intervals, interruptions by class, and the CSV
 * columns (docs/faults.md). */
#ifndef CS_FAULTS_PRINT_H
#define CS_FAULTS_PRINT_H

#include <stdio.h>

#include "checkpoint.h"
#include "goodput.h"

/* What the study was about, besides the goodput job and policy. */
typedef struct faults_study {
    long gpus;
    double days;
    const char *failures;      /* how failures were given, for the header */
    int auto_interval;
    const ckpt_cost *ckpt;     /* NULL unless derived from a layout */
    const char *layout;        /* the layout's description, or NULL */
    double tokens_per_s;       /* 0 without a layout */
    double daly_interval_s, daly_goodput; /* 0 when Daly's forms do not apply */
} faults_study;

void faults_print_table(FILE *f, const faults_study *st, const goodput_job *job,
                        const goodput_policy *p, const goodput_stats *s);
void faults_print_csv(FILE *f, const faults_study *st, const goodput_job *job,
                      const goodput_policy *p, const goodput_stats *s);

#endif
