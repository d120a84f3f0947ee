/* search: every parallel layout of a model on a cluster for a global batch,
 * filtered by the layout rules and evaluated with the closed form.
 *
 * Owns the layout space and its enumeration, the count each rule removes,
 * the closed-form evaluation of what remains (estimate_analytic_with, over
 * threads, each on its own slice of the list, so the figures do not depend
 * on the thread count), the ranking by an objective, and the Pareto front of
 * iteration time against peak memory.
 *
 * The space: every combination of
 *   tp    divisors of the job's GPUs up to max_tp (default: GPUs per node)
 *   cp    1, or with max_cp > 1 the divisors of GPUs / tp up to it, each
 *         with cp_comm p2p, a2a and a2a+p2p (context parallelism is opt-in:
 *         searches without max_cp are as before)
 *   pp    divisors of GPUs / (tp cp);  dp = GPUs / (tp cp pp)
 *   vpp   1 to max_vpp (default 8); schedule gpipe, 1f1b, zb-h1, zb-h2,
 *         zb-auto or dualpipe when vpp is 1; interleaved, zbv, v-half or
 *         v-min when vpp is 2; interleaved otherwise
 *   mbs   powers of two up to the global batch
 *   sp    off, on;  recompute none, selective, full;  zero 0, 1, 2, 3
 *         (zero >= 1 with the space's HSDP shard group, zero 3 with its
 *         prefetch and resharding: FSDP's defaults unless set)
 *   ep    (mixture-of-experts models) divisors of the routed experts, etp = tp,
 *         flat all-to-all, uniform routing; 1 for dense models and with cp > 1
 * less what `fix` pins.  The rules, checked in this order (the first one a
 * layout breaks is the one counted), mirror layout_validate, which has the
 * last word on what remains:
 *   tp divides heads, kv heads and MLP width; tp within a node;
 *   pp x vpp divides the layers; dp x mbs divides the global batch;
 *   interleaved needs pp >= 2 and microbatches a multiple of pp;
 *   sp needs tp > 1 dividing the sequence; zero >= 1 needs dp x cp > 1;
 *   the HSDP shard group divides dp;
 *   cp: seq divisible by 2 cp, the all-to-all group dividing heads / tp
 *   and kv heads / tp (layout_check_cp);
 *   the V-shapes' and dualpipe's rules (layout_validate) count as "other";
 *   with offload in the space, offload_validate's rules (counted as
 *   "offload rules", checked before layout_validate).
 *   etp x ep divides tp x dp (counted last, as "ep").
 * A fixed ep that does not divide the experts fails the search with the
 * nearest values that do.
 * Then the memory check removes layouts whose peak exceeds the device. */
#ifndef CS_SEARCH_H
#define CS_SEARCH_H

#include <signal.h>

#include "checkpoint.h"
#include "estimate.h"

enum {
    SEARCH_RULE_TP_SHAPE,
    SEARCH_RULE_TP_NODE,
    SEARCH_RULE_LAYERS,
    SEARCH_RULE_BATCH,
    SEARCH_RULE_INTERLEAVED,
    SEARCH_RULE_SP,
    SEARCH_RULE_ZERO,
    SEARCH_RULE_HSDP, /* the shard group divides dp (sharding.h) */
    SEARCH_RULE_ONE_STAGE,
    SEARCH_RULE_CP,    /* context parallelism: seq % 2 cp, the all-to-all's heads */
    SEARCH_RULE_OTHER, /* layout_validate refused what the rules above let through */
    SEARCH_RULE_OFFLOAD, /* offload_validate (issue 17), checked before layout_validate */
    SEARCH_RULE_EP,    /* etp x ep divides tp x dp (layout_ep.h) */
    SEARCH_NRULES
};

typedef enum search_objective { SEARCH_TIME, SEARCH_MFU, SEARCH_MEMORY, SEARCH_GOODPUT } search_objective;

/* The fault model of the goodput objective: every layout of the job fails
 * as often (the same GPUs), but their checkpoints differ in size per GPU
 * and node, hence in checkpoint and reload time (costmodel/checkpoint).  A
 * layout's expected goodput is Daly's at his optimum interval (goodput.h)
 * with checkpoint time d and restart R = down_s + reload: for sync, d the
 * whole write; for async, d the snapshot stall and the background write
 * added to R (a failure during it falls back one interval: an
 * approximation the Monte Carlo of `clustersim faults` refines). */
typedef struct search_faults {
    double mtbf_s;            /* the job's mean time between failures */
    double down_s;            /* detection and restart, before the reload */
    int async;                /* 0: sync checkpoints */
    ckpt_storage storage;
    const sys_node_type *node;
} search_faults;

/* Values pinned by --fix; 0 (or -1 for the enums and flags) leaves a knob free. */
typedef struct search_fix {
    int tp, pp, dp, vpp, mbs;
    int sp;                   /* -1 free, else 0 or 1 */
    int zero;                 /* -1 free, else 0 to 3 */
    int recompute, schedule;  /* -1 free, else a layout enum */
    int cp;                   /* context parallelism: 0 free */
    int cp_comm;              /* -1 free, else a layout_cp_comm */
    int ep;                   /* expert parallelism (layout_ep.h); 0 free */
    /* uneven pipeline stages (layout_stages.h): the first and last stage's
     * layers; 0 and 0: the even split where it divides, else the search's
     * own uneven split (layout_stage_auto_split) */
    int first_layers, last_layers;
} search_fix;

typedef struct search_space {
    int max_tp;      /* 0: the GPUs of a node (tp stays on NVLink) */
    int max_vpp;     /* 0: 8 */
    search_fix fix;
    /* sharding: applied to the layouts with zero >= 1 (shard_group) and
     * zero 3 (prefetch, no_reshard); layout_desc's meanings */
    int shard_group; /* 0: shards over all of dp */
    int has_prefetch, prefetch; /* prefetch when has_prefetch, else FSDP's 1 */
    int no_reshard;
    /* offload (issue 17, offload.h): offload -1 searches no offload and
     * every offload the rules allow (what x tier x engine), 0 none (the
     * default), else that offload_what; offload_to -1 both tiers, else that
     * one.  Ranked with the rest: a model that fits only offloaded gets the
     * fastest (cheapest) offload that fits */
    int offload, offload_to;
    int max_cp;      /* 0 or 1: cp 1 only; else every cp up to it that divides
                      * GPUs / tp, each with p2p, a2a and a2a+p2p */
} search_space;

typedef struct search_candidate {
    layout_desc layout;
    int evaluated;   /* 0 when the search stopped before it */
    int fits;
    double iteration_s, tokens_per_s, mfu, peak_mem_bytes;
    int peak_stage;
    double ckpt_s, goodput, tokens_per_day; /* with a fault model, for layouts that fit */
} search_candidate;

/* Called from the searching thread as work is done (the closed form about
 * ten times a second; plans once per mapping, finalists once each), with
 * what is counted: "layouts planned" while the collectives of each (tp, pp, dp)
 * mapping are routed (seconds each on tens of thousands of GPUs), then
 * "layouts" through the closed form, then "finalists" simulated
 * (sim/searchsim). */
typedef void (*search_progress_fn)(void *ctx, const char *units, long done, long total,
                                   double elapsed_s);

typedef struct search_input {
    const model_desc *model;
    topo *topology;
    int gpus;                 /* GPUs the job uses */
    int gbs;                  /* global batch, sequences */
    model_dtype dtype;
    int flash_attention;
    const opcost_eff *eff;
    search_space space;
    int threads;              /* 0: 1 */
    search_progress_fn progress;
    void *progress_ctx;
    volatile sig_atomic_t *stop; /* set (by a signal handler) to stop early; may be NULL */
    const search_faults *faults; /* NULL: no goodput figures */
    framework_kind framework; /* every layout's (layout_desc.framework; 0: megatron-core) */
    int post_validation;      /* every layout's (layout_desc.post_validation) */
    /* Time the layouts that do not fit memory too (1: their iteration_s for
     * `search --csv`); 0 (the default): their memory only, iteration_s 0 --
     * nothing ranks or draws them, and their time is most of a search whose
     * layouts mostly do not fit. */
    int time_misfits;
} search_input;

typedef struct search_result {
    long space;                      /* combinations enumerated */
    long removed[SEARCH_NRULES];     /* by each rule */
    long valid;                      /* layouts that pass every rule */
    long evaluated, fitting;         /* evaluated; of those, fitting memory */
    search_candidate *cands;         /* the valid layouts, in enumeration order */
    int ncands;
    int interrupted;
    int groups;                      /* (tp, pp, dp) mappings whose plans were built */
    double groups_s;                 /* building them (routing on the topology) */
    double eval_s;                   /* the closed form over the layouts */
    double wall_s;                   /* the whole pass: enumeration, groups, evaluation */
} search_result;

/* Enumerates, filters and evaluates.  Fails on a model or system the
 * search cannot run (no GPUs, a topology error); an empty result is not a
 * failure. */
int search_run(const search_input *in, search_result *out, cs_err *err);
void search_result_free(search_result *r);

/* The name of a rule for the summary ("tp divides heads, kv heads, MLP width"). */
const char *search_rule_name(int rule);

/* Indices of the evaluated layouts that fit, best first by the objective
 * (ties: enumeration order); returns how many were written to order
 * (at most max). */
int search_rank(const search_result *r, search_objective obj, int *order, int max);

/* Marks on_front[i] for the fitting layouts no other fitting layout beats in
 * both iteration time and peak memory (the Pareto front). */
void search_pareto(const search_result *r, int *on_front);

/* The evaluated layout that misses memory by the least, or -1. */
int search_closest_miss(const search_result *r);

int search_objective_parse(const char *text, search_objective *out, cs_err *err);

/* Parses "tp=8,pp=4,schedule=1f1b,sp=1" into fix (keys: tp pp dp vpp mbs sp
 * zero recompute schedule cp cp_comm ep first_layers last_layers). */
int search_fix_parse(const char *text, search_fix *fix, cs_err *err);
void search_fix_init(search_fix *fix);

#endif
