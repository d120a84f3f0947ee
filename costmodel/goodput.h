/* goodput: a long training job under failures and checkpoints, simulated
 * run by run, and Daly's closed forms to check it against.
 *
 * Owns the job model: the job trains in intervals of interval_s, each
 * followed by a checkpoint; an interruption loses the work since the last
 * checkpoint that completed, then costs a downtime (detect + restart +
 * reload) during which further failures restart the downtime.  Failures
 * arrive as a renewal process: exponential lifetimes (memoryless) or Weibull
 * with the same mean (shape < 1: early failures cluster), drawn with GSL.
 * Planned interruptions (maintenance) arrive at a fixed rate and lose the
 * work since the last checkpoint like any other, without the detection.
 *
 * Checkpoint policies:
 *   sync    training stops for stall_s (every rank writes its shard to
 *           shared storage); the checkpoint completes at the end;
 *   async   training stops for stall_s (the copy to host memory), then the
 *           write runs in the background for write_s; the checkpoint
 *           completes when the write does, and the next one cannot start
 *           before (a failure in between falls back to the previous one);
 *   memory  like async, but the background copy goes to a peer host's
 *           memory, and a restart reloads from there (reload_s of the
 *           policy) instead of from shared storage.
 *
 * Figures per run: useful (committed) training time, work lost,
 * checkpointing stalls, downtime, interruptions; goodput = useful time /
 * horizon.  Runs use seed + run index, so any run can be replayed alone
 * and the mean does not depend on how runs are split across threads.
 *
 * Daly 2006 ("A higher order estimate of the optimum checkpoint interval
 * for restart dumps", FGCS 22(3)), for exponential failures with mean M,
 * checkpoint time d and restart time R:
 *   optimum interval  sqrt(2 d M) [1 + sqrt(d / 2M) / 3 + (d / 2M) / 9] - d
 *                     (d < 2M), else M;
 *   wall time per unit of work  M e^(R/M) (e^((t + d)/M) - 1) / t,
 *   so expected goodput = t / (M e^(R/M) (e^((t + d)/M) - 1)). */
#ifndef CS_GOODPUT_H
#define CS_GOODPUT_H

#include <stdint.h>

#include "cs_error.h"

typedef enum goodput_ckpt { GOODPUT_SYNC, GOODPUT_ASYNC, GOODPUT_MEMORY } goodput_ckpt;
typedef enum goodput_dist { GOODPUT_EXPONENTIAL, GOODPUT_WEIBULL } goodput_dist;

typedef struct goodput_job {
    double horizon_s;         /* wall time simulated */
    double mtbf_s;            /* mean time between unexpected interruptions of the job */
    goodput_dist dist;
    double weibull_shape;     /* Weibull only (1 = exponential) */
    double planned_per_s;     /* planned interruptions per second (0: none) */
    double detect_s;          /* unexpected only: noticing the failure */
    double restart_s;         /* rescheduling and initialising */
    double reload_s;          /* reading the checkpoint back from shared storage */
} goodput_job;

typedef struct goodput_policy {
    goodput_ckpt kind;
    double interval_s;        /* training between checkpoints */
    double stall_s;           /* training stopped per checkpoint */
    double write_s;           /* async, memory: background part */
    double memory_reload_s;   /* memory: reload from the peer's copy */
} goodput_policy;

typedef struct goodput_run {
    double useful_s, lost_s, ckpt_s, down_s;
    int interruptions, planned;
    double goodput;
} goodput_run;

typedef struct goodput_stats {
    int runs;
    double goodput_mean, goodput_ci95;          /* half-width, t-based (normal beyond 30) */
    double interruptions_mean, interruptions_ci95;
    double planned_mean;                        /* planned interruptions per run */
    double lost_hours_mean, ckpt_hours_mean, down_hours_mean;
} goodput_stats;

/* Checks the job and policy (positive times, interval > 0, ...). */
int goodput_check(const goodput_job *job, const goodput_policy *p, cs_err *err);

/* One run with the given seed. */
void goodput_simulate(const goodput_job *job, const goodput_policy *p, uint64_t seed,
                      goodput_run *out);

/* runs runs with seeds seed, seed + 1, ...; their mean and 95% interval. */
int goodput_runs(const goodput_job *job, const goodput_policy *p, int runs, uint64_t seed,
                 goodput_stats *out, cs_err *err);

/* The interval with the best mean goodput over runs (the same seeds for
 * every interval tried, so the comparison is not noise), by golden-section
 * search on the logarithm of the interval between lo_s and hi_s. */
double goodput_best_interval(const goodput_job *job, const goodput_policy *p, int runs,
                             uint64_t seed, double lo_s, double hi_s);

/* Daly's optimum interval and expected goodput (see above). */
double goodput_daly_interval(double ckpt_s, double mtbf_s);
double goodput_daly_goodput(double interval_s, double ckpt_s, double restart_s, double mtbf_s);

int goodput_ckpt_parse(const char *text, goodput_ckpt *out, cs_err *err);
const char *goodput_ckpt_name(goodput_ckpt kind);

#endif
