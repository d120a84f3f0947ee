/* svg_job: the picture of one simulated job under failures: wall time in
 * rows (a day per row, or an hour for jobs shorter than two days), each
 * pixel coloured by what the job did most in it: training kept, training
 * lost to an interruption, checkpointing, or down (detection, waiting for a
 * spare, restart, reload).  A legend gives each kind's total.
 *
 * Owns the binning of a goodput_trace into pixels and its markup. */
#ifndef CS_SVG_JOB_H
#define CS_SVG_JOB_H

#include <stdio.h>

#include "cs_error.h"
#include "goodput.h"

/* title is the picture's heading (the job and policy). */
int svg_job_write(FILE *f, const goodput_trace *tr, double horizon_s, const char *title,
                  cs_err *err);

#endif
