/* trainsim_private: the builder that lowers one iteration to exec tasks,
 * shared by its two halves: trainsim.c (emitting and running the tasks) and
 * trainsim_read.c (reading the breakdown, the timeline and busy times back).
 * Nothing outside sim/trainsim*.c includes this file. */
#ifndef CS_TRAINSIM_PRIVATE_H
#define CS_TRAINSIM_PRIVATE_H

#include <math.h>
#include <stdint.h>

#include "commcost.h"
#include "cs_alloc.h"
#include "exec.h"
#include "schedule.h"
#include "trainsim.h"
#include "units.h"
#include "workload.h"
#include "zero3_coord.h"

/* What a task stands for, for the breakdown. */
enum role { R_NONE, R_FWD, R_BWD, R_REC, R_TP, R_DP, R_OPT, R_AG, R_P2P, R_WGT,
            R_GATHER, /* ZeRO-3's per-layer parameter all-gather (dp stream) */
            R_CP, /* context parallelism's exchanges on the compute stream */
            R_EP /* expert-parallel all-to-all (commcost_ep.h) */ };

typedef struct task_info {
    unsigned char role;
    int stage, member; /* member -1: not read back */
    int in_transfer;   /* the transfer this task waits for, or -1 */
    int chunk, microbatch; /* the unit it belongs to, -1 outside units */
    int gpu;           /* tasks without a stream: the GPU that starts them */
    int in_gather;     /* ZeRO-3: the parameter all-gather this compute waits for, or -1 */
    int cp_step;       /* an attention step that may wait on a ring transfer: the
                        * wait is exposed context-parallel time */
    int fb_pair;       /* DualPipe's F&B unit it belongs to (b->cur_pair), 0 outside */
    int in_transfer2;  /* an F&B unit's first task: the other direction's transfer, or -1 */
} task_info;

typedef struct chunk_cost {
    uint64_t fwd_ps, bwd_ps, rec_ps; /* bwd_ps: B alone where the schedule splits it */
    uint64_t wgt_ps;                 /* W, or 0 */
    double tp_bwd_delta_s; /* backward collectives hidden under wgrad GEMMs (<= 0) */
    workload_tp tp_fwd, tp_bwd, tp_rec;
    /* context parallelism: the closed form's exposed seconds of the chunk
     * (folded mode) and what the all-ranks lowering needs */
    double cp_fwd_exposed_s, cp_bwd_exposed_s, cp_rec_exposed_s;
    double attn_fwd_s, attn_bwd_s, cp_hidden_s; /* one layer's attention; the chunk's hidden */
    int cp_layers;
    uint64_t ep_fwd_ps, ep_bwd_ps, ep_rec_ps; /* exposed expert-parallel all-to-alls */
    /* DualPipe: the F&B unit whose forward is this chunk's, beyond its
     * parts' tasks without all-to-alls (estimate_dualpipe_fb's extra) */
    uint64_t fb_extra_ps;
} chunk_cost;

enum { P_AR, P_AG, P_RS, NTP };     /* tensor-parallel plans of a group */
enum { P_REDUCE, P_GATHER, NDP };   /* data-parallel plans of a group */

typedef struct builder {
    const estimate_input *in;
    const layout_desc *l;
    exec_graph *g;
    commcost cc;
    int m, nmem; /* microbatches; simulated GPUs per stage */
    int folded;
    int nchunks, split;               /* schedule_chunks; whether W runs apart */
    chunk_cost *chunks;               /* [stage * nchunks + chunk] */
    int *stream, *dp_stream, *last, *last_dp; /* [stage * nmem + member] */
    int *shadow_stream, *shadow_last; /* folded: [stage * tp + r], data-parallel group r */
    unsigned char *shares;            /* folded: [stage * tp + r], group r shares a link */
    int *fstart, *fend, *bstart, *bend;       /* [(vstage * m + mb) * nmem + member] */
    task_info *info;
    int capinfo;
    int cur_chunk, cur_mb; /* the unit being emitted, -1 outside units */
    coll_plan *tp_plans; /* all-ranks: [(stage * dp + d) * NTP + op] */
    coll_plan *dp_plans; /* all-ranks: [(stage * tp + r) * NDP + op] */
    coll_plan *emb_plans; /* all-ranks: [member], its first/last stage pair */
    int *emb_task;        /* [member] the embedding all-reduce it waits for, or NULL */
    const double *gpu_factor; /* stragglers: compute time factor per GPU, or NULL */
    /* sharding (ZeRO-2/3, HSDP; trainsim_plans.c) */
    int shard, replicas;  /* commcost_shard_ranks; dp / shard */
    int ndpg;             /* data-parallel (shard) groups per stage: tp x replicas */
    coll_plan *rep_plans; /* all-ranks HSDP: [stage * tp * shard + r + tp * i] */
    int *gate;            /* [stage * nmem + member]: the gather the next piece waits for */
    /* symmetry classes (trainsim_sym.c): tensor ranks left out as copies of rank 0 */
    unsigned char *drop;  /* [tp] 1: the rank's tasks are not emitted, or NULL */
    int nkept;            /* tensor ranks emitted (tp without drop) */
    uint32_t ghosts;      /* tasks left out so far: a transfer's id in the whole graph */
    struct sym_state *sym; /* the pairing of links, until the transfers are paired too */
    /* context parallelism, all ranks: [stage * groups + g] plans of every
     * ring and all-to-all group (trainsim_cp.c) */
    coll_plan *cp_ring_plans, *cp_a2a_plans;
    int cp_ring_groups, cp_a2a_groups; /* per stage */
    double *cp_hidden_s; /* [stage]: hidden context-parallel seconds of its units */
    /* DualPipe's overlapped F&B units (trainsim_dualpipe.c): the one being
     * emitted (1, 2, ... per stage; 0 outside one), whose parts run
     * without their own all-to-all tasks */
    int cur_pair;
    /* --offload-engine deepspeed-2021: DeepSpeed v0.3.13's coordinator
     * (zero3_coord.h), the trace of the first microbatch after a step and
     * of a later one, emitted step by step (trainsim_coord.c); NULL
     * otherwise */
    z3c_trace *z3c;
} builder;

static inline int member_tp(const builder *b, int k) { return b->folded ? 0 : k % b->l->tp; }
static inline int member_dp(const builder *b, int k) { return b->folded ? 0 : k / b->l->tp; }

static inline int gpu_of(const builder *b, int s, int k)
{
    return commcost_gpu(b->l, member_tp(b, k), member_dp(b, k), s);
}

/* Whether member k's tasks are left out (a copy of its tensor rank 0). */
static inline int dropped(const builder *b, int k)
{
    return b->drop && b->drop[member_tp(b, k)];
}

/* Where member k's task sits among the tasks a phase adds, one per member
 * that is not left out, in member order. */
static inline int member_slot(const builder *b, int k)
{
    if (!b->drop)
        return k;
    int r = member_tp(b, k), before = 0;
    for (int j = 0; j < r; j++)
        before += !b->drop[j];
    return member_dp(b, k) * b->nkept + before;
}

static inline int *int_array(size_t n, int fill)
{
    int *a = cs_xrealloc(NULL, sizeof *a * (n ? n : 1));
    for (size_t i = 0; i < n; i++)
        a[i] = fill;
    return a;
}

/* trainsim_plans.c: every group's plans (all ranks: tensor- and data-
 * parallel; folded: data-parallel, or none under HSDP, which runs
 * commcost's concurrent plans), the folded mode's link-sharing groups. */
int trainsim_build_group_plans(builder *b, cs_err *err);
void trainsim_find_sharing_groups(builder *b);
void trainsim_free_group_plans(builder *b);

/* ---- emitting tasks, for trainsim.c and trainsim_cp.c (static inline: the
 * halves call no function of each other's) ---- */

static inline void note(builder *b, int id, int role, int s, int k)
{
    CS_GROW(b->info, b->capinfo, id + 1);
    b->info[id] = (task_info){(unsigned char)role, s,  k, -1, b->cur_chunk, b->cur_mb,
                              k >= 0 ? gpu_of(b, s, k) : -1, -1, 0, b->cur_pair, -1};
}

/* A compute task on every member; returns the first member's task. */
static inline int phase_compute(builder *b, int s, uint64_t dur_ps, int role, const char *name)
{
    int first = -1;
    for (int k = 0; k < b->nmem; k++) {
        if (dropped(b, k)) {
            b->ghosts++;
            continue;
        }
        int *last = &b->last[s * b->nmem + k];
        uint64_t d = b->gpu_factor ? (uint64_t)llround((double)dur_ps * b->gpu_factor[gpu_of(b, s, k)])
                                   : dur_ps;
        int id = exec_compute(b->g, b->stream[s * b->nmem + k], d, name);
        if (*last >= 0)
            exec_dep(b->g, *last, id);
        *last = id;
        note(b, id, role, s, k);
        if (first < 0)
            first = id;
    }
    return first;
}

/* A collective as flows on the topology; where the device profile has a
 * fit for it (commcost_fitted_s), a task of the fitted time instead, as
 * the analytic estimate prices it: on the stream given, or a delay. */
static inline int coll_task(builder *b, const coll_plan *plan, uint64_t bytes, int stream,
                            const char *name)
{
    double fitted_s = commcost_fitted_s(b->in->eff->profile, plan, bytes);
    if (fitted_s < 0)
        return exec_collective(b->g, stream, plan, bytes, name);
    uint64_t fitted_ps = units_s_to_ps_ceil(fitted_s);
    return stream >= 0 ? exec_compute(b->g, stream, fitted_ps, name)
                       : exec_delay(b->g, fitted_ps, name);
}

/* One collective over the members of group `grp` (members k = base + i * stride). */
static inline int phase_group_coll(builder *b, int s, const coll_plan *plan, uint64_t bytes,
                                   int stream, int base, int stride, int count, int role,
                                   const char *name, int on_dp)
{
    int id = coll_task(b, plan, bytes, stream, name);
    for (int i = 0; i < count; i++) {
        int k = base + i * stride;
        if (dropped(b, k))
            continue;
        if (b->last[s * b->nmem + k] >= 0) /* ZeRO-3's first gather precedes all compute */
            exec_dep(b->g, b->last[s * b->nmem + k], id);
        if (on_dp)
            b->last_dp[s * b->nmem + k] = id;
        else
            b->last[s * b->nmem + k] = id;
    }
    note(b, id, role, s, base);
    return id;
}

/* trainsim_phase.c: one step of every simulated GPU of stage s.  Piece
 * `part` of `parts` of a pass's blocking tensor-parallel collectives
 * (delta_s <= 0: the part hidden under weight-gradient GEMMs); all of them;
 * the exposed expert-parallel all-to-alls; one data-parallel collective
 * (which: P_REDUCE or P_GATHER; role R_GATHER for ZeRO-3's gathers, which
 * the compute waits for through gates, not through b->last). */
void trainsim_phase_tp_part(builder *b, int s, workload_tp tp, double delta_s, int part,
                            int parts);
void trainsim_phase_tp(builder *b, int s, workload_tp tp, double delta_s);
void trainsim_phase_ep(builder *b, int s, uint64_t ep_ps);
void trainsim_phase_dp(builder *b, int s, int which, uint64_t bytes, int role);

/* trainsim_coord.c (deepspeed-2021): b->z3c, the traces of the first
 * microbatch after a step and of the later ones, where the layout runs the
 * engine with dp > 1 (else NULL); a unit's steps (forward, or backward: the
 * recomputation and the backward) of chunk cost c, returning its first
 * compute task. */
int trainsim_coord_init(builder *b, cs_err *err);
void trainsim_coord_free(builder *b);
int trainsim_coord_unit(builder *b, int s, const schedule_unit *u, const chunk_cost *c,
                        int backward);

/* trainsim_emb.c: the embedding's (and dualpipe's mirrored pairs') all-reduce
 * after the stages' reductions; b->emb_task[pair * nmem + member]. */
int trainsim_emit_embedding(builder *b);

/* trainsim_cp.c: context parallelism.  Folded, the closed form's exposed
 * time is one task on the compute stream after each pass; all ranks, the
 * attention of every layer runs step by step beside the ring's transfers
 * and between the all-to-alls, as flows.  trainsim_cp_pass returns the
 * picoseconds of attention it ran itself (to take off the pass's compute). */
int trainsim_cp_plans(builder *b, cs_err *err);
void trainsim_cp_free(builder *b);
void trainsim_cp_costs(builder *b, int s, const workload_chunk *w, chunk_cost *c);
enum { CP_FWD, CP_BWD, CP_REC };
uint64_t trainsim_cp_attention_ps(const builder *b, const chunk_cost *c, int pass);
void trainsim_cp_pass(builder *b, int s, const chunk_cost *c, int pass);
/* The member whose task stands for k's all-to-all group (all ranks). */
int trainsim_cp_group_base(const builder *b, int k);

/* trainsim_dualpipe.c: DualPipe's F&B units.  trainsim_dualpipe_costs sets
 * every chunk's fb_extra_ps (after chunk_costs); trainsim_dualpipe_pair_end,
 * after the forward, B and W of the unit at u[0..2] were emitted on stage
 * s, adds the exposed all-to-all task and makes the unit one: both inputs
 * before its first task, both outputs after its last. */
void trainsim_dualpipe_costs(builder *b);
void trainsim_dualpipe_pair_end(builder *b, int s, const schedule_unit *u);

/* trainsim_read.c: the breakdown of the GPU that finishes last, the timeline
 * of the run, and each GPU's busy compute time (stragglers). */
void trainsim_read_breakdown(const builder *b, estimate_result *out);

/* Under the optimizer post-validation (layout_desc.post_validation): the
 * longest pipeline rank's span, its first task's start to its last's end
 * (what repeats when ranks start their next iteration on their own,
 * estimate_post_validated_s), made the iteration; each stage's bubble
 * loses the start-up skew it no longer waits. */
void trainsim_read_post_validated(const builder *b, estimate_result *out);
void trainsim_record_timeline(const builder *b, uint64_t makespan_ps, timeline *tl);
void trainsim_read_busy(const builder *b, double *busy_s, int gpus);

/* trainsim_sym.c: symmetry classes.  With every rank simulated and nothing
 * to tell the tensor ranks of a stage apart (no slow GPU, no timeline), a
 * tensor rank r > 0 whose flows cross links of their own that pair up, hop
 * by hop, with rank 0's (same capacity, latency and weight, the same
 * sharing among its own flows) runs exactly as rank 0 does: its tasks are
 * left out (b->drop) and rank 0's times stand for it.
 * trainsim_sym_plan: before emission, from the collectives' plans; sets
 * b->drop, or leaves it NULL when no rank can be left out.
 * trainsim_sym_pair_transfer: a left-out rank's transfer against its
 * counterpart on rank 0 (salts: their ids in the whole graph, which their
 * routes hash); 0 when they do not pair (emit every rank instead).
 * trainsim_sym_done: the pairing is over (b->drop stays). */
void trainsim_sym_plan(builder *b);
int trainsim_sym_pair_transfer(builder *b, int kept_src_gpu, int kept_dst_gpu, uint32_t kept_salt,
                               int src_gpu, int dst_gpu, uint32_t salt);
void trainsim_sym_done(builder *b);
void trainsim_sym_free(builder *b);

#endif
