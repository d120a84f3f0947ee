/* stragglers: training iterations with slow GPUs or slow links, every rank
 * simulated, and who held the others up.
 *
 * Owns the straggler description (a GPU whose compute is slower by a factor,
 * or a node whose NIC links carry less by a factor, for a range of
 * iterations; or GPUs slowed at random, each iteration each GPU with a
 * probability), running the iterations through trainsim's all-ranks mode
 * (a synchronous step: the data-parallel reduction and the pipeline wait for
 * the slowest rank), and per iteration its time and the rank that held the
 * others up: the GPU whose compute took longer than its own without
 * stragglers by the most (the others waited for it); none when no GPU's
 * compute grew (slow links hold everyone up alike).  An iteration with the same slowdowns as the one before reuses
 * its result: the simulation is deterministic. */
#ifndef CS_STRAGGLERS_H
#define CS_STRAGGLERS_H

#include <stdint.h>

#include "estimate.h"

/* A slowdown factor beyond a million (a GPU at a millionth of its speed)
 * is no straggler but a dead GPU; infinity would saturate the clock. */
#define STRAGGLER_MAX_FACTOR 1e6

/* At most this many GPU-iterations simulated: the distinct iterations a plan
 * can have (every iteration with random stragglers, else one per change of
 * the given stragglers' ranges, and the baseline) times the job's GPUs.  An
 * iteration with every rank simulated costs about 60 to 110 us per GPU in
 * the default (debugoptimized) build (16 to 8,192 GPUs); 2^20 is 65,536
 * GPUs x 16 iterations or 16 GPUs x 65,536, a minute or two with the
 * command's progress bar showing.  --iterations 100000 of random stragglers
 * on 16 GPUs took 94 s, 20 on 8,192 GPUs 19 s.  The fuzzing build sets a
 * lower bound (meson.build). */
#ifndef STRAGGLER_MAX_GPU_ITERATIONS
#define STRAGGLER_MAX_GPU_ITERATIONS (1L << 20)
#endif

typedef enum straggler_kind { STRAGGLER_GPU, STRAGGLER_LINK } straggler_kind;

typedef struct straggler {
    straggler_kind kind;
    int target;            /* GPU rank, or node whose NIC links slow down */
    double factor;         /* > 1: that many times slower */
    int from_iter, to_iter; /* first and last iteration it lasts, 0-based */
} straggler;

/* Called after each iteration with the iterations done and the total. */
typedef void (*straggler_progress_fn)(void *ctx, int done, int total);

typedef struct straggler_plan {
    int iterations;
    const straggler *list;
    int n;
    double random_prob;    /* each GPU, each iteration (0: none) */
    double random_factor;
    uint64_t seed;
    straggler_progress_fn progress; /* NULL: none */
    void *progress_ctx;
} straggler_plan;

typedef struct straggler_iter {
    double iteration_s;
    int held_up_by;        /* GPU, or -1 when none stood out */
    double busiest_s, base_busy_s; /* that GPU's compute busy time, and without stragglers */
    int gpus_slowed, links_slowed;
} straggler_iter;

typedef struct straggler_result {
    double baseline_s;     /* no straggler */
    straggler_iter *iters; /* plan->iterations entries, owned */
    int n;
    int simulations;       /* distinct iterations simulated (the baseline included) */
} straggler_result;

/* "gpu:RANK:FACTOR[:FROM-TO]" or "link:NODE:FACTOR[:FROM-TO]" (iterations,
 * 0-based, inclusive; default every iteration). */
int straggler_parse(const char *text, straggler *out, cs_err *err);

/* Checks one straggler against the job: its GPU or node exists, factor >= 1,
 * 0 <= from <= to.  The message names the field at fault, without a prefix,
 * so each face can say which straggler it was. */
int straggler_check(const estimate_input *in, const straggler *s, cs_err *err);

/* The most distinct iterations the plan can simulate, the baseline
 * included (what STRAGGLER_MAX_GPU_ITERATIONS bounds, times the GPUs). */
long straggler_max_simulations(const straggler_plan *plan);

/* Checks the plan against the job (every straggler_check, the random
 * probability and factor, the bound on GPU-iterations) and runs it.  The
 * topology's links are restored afterwards. */
int straggler_run(const estimate_input *in, const straggler_plan *plan, straggler_result *out,
                  cs_err *err);
void straggler_result_free(straggler_result *r);

/* What the CLI's table and the Lua table both report about a run. */
typedef struct straggler_culprit {
    int gpu;
    int iterations;        /* iterations it held the others up */
} straggler_culprit;

typedef struct straggler_summary {
    double min_s, median_s, p90_s, max_s, mean_s; /* iteration times */
    straggler_culprit *culprits; /* most often first, ties by rank; owned */
    int nculprits;
    int none;              /* iterations no GPU stood out */
} straggler_summary;

void straggler_summarize(const straggler_result *r, straggler_summary *out);
void straggler_summary_free(straggler_summary *s);

/* Where a GPU rank sits in the layout: ranks run tp fastest, then cp, dp, pp. */
typedef struct straggler_place {
    int stage, tp, dp;
} straggler_place;

straggler_place straggler_place_of(const layout_desc *l, int gpu);

#endif
