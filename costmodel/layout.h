/* layout: how one training job is split over GPUs, and every rule that makes
 * a split valid.
 *
 * Owns layout_desc (tensor, pipeline and data parallelism, interleaving,
 * microbatching, sequence parallelism, recomputation, optimizer sharding,
 * pipeline schedule), the quantities derived from it (GPUs, microbatches per
 * pipeline, layers per stage), layout_validate with one message per rule
 * that names the rule, the values and the nearest valid values, and the
 * names users type for the enums.
 *
 * Choices made here (and why):
 *   sp without tp > 1 is an error, as in Megatron-LM (sequence parallelism
 *     splits the sequence across the tensor-parallel group; with tp 1 there
 *     is nothing to split it over).
 *   flash_attention defaults to on in layout_init: FlashAttention (Dao et al.
 *     2022) is the attention kernel of current Megatron-Core (Transformer
 *     Engine fused attention) and PyTorch SDPA.  It only changes memory (the
 *     s x s score tensors are never stored); to reproduce Korthikanti et al.
 *     2022, who stored them, turn it off.
 *   The pipeline-parallel group is counted in whole layers: layers must be a
 *     multiple of pp * vpp (Megatron's uniform split), or the first and
 *     last stage's counts are set (Megatron's uneven split, layout_stages.h).
 *   Rank order is Megatron-Core's default "tp-cp-ep-dp-pp" (tensor
 *     parallel innermost, then context parallel, then data, then pipeline):
 *       gpu = tp_rank + tp * (cp_rank + cp * (dp_rank + dp * pp_rank))
 *     (parallel_state.py, RankGenerator; no expert parallelism here).  The
 *     cp x dp ranks of a stage with one tensor rank hold the same weights:
 *     gradients are reduced and zero 1 shards the optimizer over dp x cp, as
 *     Megatron-Core's data-parallel group "with context parallel" does.
 *   Context parallelism needs seq_len divisible by 2 cp (Megatron-Core's
 *     causal load balancing cuts the sequence into 2 cp chunks and gives rank
 *     r chunks r and 2 cp - 1 - r), fused attention (Transformer Engine runs
 *     CP only in its fused/flash attention), and for a2a the all-to-all
 *     group dividing heads / tp and kv_heads / tp (TE asserts both; key/value
 *     heads are not replicated).
 *   Tensor parallelism stays inside a node unless allow_tp_across_nodes:
 *     tp <= GPUs per node and tp divides GPUs per node (consecutive ranks
 *     form a tensor-parallel group, so a tp that does not divide the node
 *     would straddle two nodes). */
#ifndef CS_LAYOUT_H
#define CS_LAYOUT_H

#include "cs_error.h"
#include "framework.h"
#include "model.h"

typedef enum layout_recompute {
    LAYOUT_RECOMPUTE_NONE,      /* store every activation the backward pass reads */
    LAYOUT_RECOMPUTE_SELECTIVE, /* recompute the attention core (Korthikanti et al. 2022) */
    LAYOUT_RECOMPUTE_FULL       /* store each layer's input only; recompute the layer */
} layout_recompute;

typedef enum layout_schedule {
    LAYOUT_SCHEDULE_GPIPE,      /* all forwards, then all backwards (Huang et al. 2019) */
    LAYOUT_SCHEDULE_1F1B,       /* PipeDream-Flush one-forward-one-backward */
    LAYOUT_SCHEDULE_INTERLEAVED, /* 1F1B over vpp model chunks per rank (Narayanan et al. 2021) */
    /* The backward split into B (input gradients) and W (weight gradients);
     * unit orders in costmodel/schedule_zb.c. */
    LAYOUT_SCHEDULE_ZB_H1,   /* zero bubble, 1F1B's memory (Qi et al. 2024, ZB-H1) */
    LAYOUT_SCHEDULE_ZB_H2,   /* zero bubble, twice 1F1B's memory (ZB-H2) */
    LAYOUT_SCHEDULE_ZB_AUTO, /* their heuristic on the measured F, B, W and p2p times, 1x memory */
    LAYOUT_SCHEDULE_ZBV,     /* V-shape, two chunks per rank, 1x memory (Qi et al. 2024b) */
    LAYOUT_SCHEDULE_V_HALF,  /* V-shape, half 1F1B's activation memory */
    LAYOUT_SCHEDULE_V_MIN,   /* V-shape, a third of 1F1B's activation memory */
    LAYOUT_SCHEDULE_DUALPIPE /* bidirectional, two stages' parameters per rank (DeepSeek-V3) */
} layout_schedule;

#define LAYOUT_SCHEDULE_LAST LAYOUT_SCHEDULE_DUALPIPE

/* How the context-parallel ranks exchange what attention needs (Megatron-
 * Core's --cp-comm-type, Transformer Engine's cp_comm_type). */
typedef enum layout_cp_comm {
    LAYOUT_CP_P2P,     /* ring attention: K and V blocks passed around the ring */
    LAYOUT_CP_A2A,     /* Ulysses: all-to-all of heads before and after attention */
    LAYOUT_CP_A2A_P2P  /* USP: Ulysses inside a node, the ring across nodes */
} layout_cp_comm;

/* Bounded work: at most this many units (microbatches x pipeline stages x
 * chunks) in a layout's schedule.  Every estimate, the closed form
 * included, builds every rank's order (16 bytes a unit, 3 with a split
 * backward): without a bound the largest accepted gbs (2^28) on 16 stages
 * asked for 206 GB and aborted.  The same figure as the simulation's own
 * bound (TRAINSIM_MAX_UNITS); the fuzzing build sets a lower one (meson.build). */
#ifndef LAYOUT_MAX_UNITS
#define LAYOUT_MAX_UNITS (1 << 22)
#endif

/* Sharding limits (the stages and ZeRO-3's gathering: costmodel/sharding.h). */
#define LAYOUT_MAX_ZERO 3
#define LAYOUT_MAX_PREFETCH 64 /* layers gathered ahead; far beyond any framework default */
#define LAYOUT_FSDP_PREFETCH 1 /* FSDP: one unit ahead (limit_all_gathers, BACKWARD_PRE) */

typedef struct layout_desc {
    int tp;   /* tensor-parallel ranks */
    int pp;   /* pipeline stages */
    int dp;   /* data-parallel replicas */
    int vpp;  /* model chunks (virtual stages) per pipeline rank; 1 = none */
    int mbs;  /* microbatch size, sequences */
    int gbs;  /* global batch, sequences */
    int sp;   /* Megatron sequence parallelism (0/1) */
    layout_recompute recompute;
    int zero; /* ZeRO stage 0..3: 1 optimizer state, 2 and gradients, 3 and parameters
               * sharded over dp (or the HSDP shard group); costmodel/sharding.h */
    layout_schedule schedule;
    model_dtype dtype;         /* training data type (the model's by default) */
    int flash_attention;       /* fused attention: no s x s tensors stored (0/1) */
    int allow_tp_across_nodes; /* lift the tp-within-a-node rules (0/1) */
    framework_kind framework;  /* the training code's behaviour (framework.h) */
    /* sharding (ZeRO-2/3, FSDP, HSDP; costmodel/sharding.h) */
    int shard_group; /* HSDP: data-parallel ranks a shard spans; 0 = all of dp */
    int prefetch;    /* zero 3: layers gathered ahead of the one computing (FSDP: 1) */
    int no_reshard;  /* zero 3: keep gathered parameters from forward to backward (0/1) */
    /* offload (issue 17, offload.h; checked by offload_validate, not here):
     * what leaves the GPU, to which tier, whose schedule moves it */
    int offload;         /* offload_what: 0 none, 1 optimizer, 2 params, 3 all */
    int offload_to;      /* offload_to: 0 cpu, 1 nvme */
    int offload_engine;  /* offload_engine: 0 deepspeed, 1 fuyou */
    int offload_dpu;     /* ZeRO-Offload's delayed parameter update (0/1) */
    /* optimizer post-validation (Qi et al. 2024, sec. 4): each rank steps its
     * optimizer without waiting for the cross-stage all-reduce of the global
     * gradient norm and inf/nan flag, validated afterwards and rolled back
     * when it fails; iterations then follow each other rank by rank (0/1) */
    int post_validation;
    /* Context parallelism (Megatron-Core --context-parallel-size, --cp-comm-type):
     * every sequence split over cp ranks; costmodel/cpcomm.h has its
     * communication.  cp 0 (a layout not made by layout_init) counts as 1. */
    int cp;
    layout_cp_comm cp_comm;
    /* Expert parallelism (issue 18; layout_ep.h has the rules and the rank
     * mapping): an MoE layer's experts split over ep ranks carved out of the
     * data-parallel ones, each expert's MLP over etp ranks.  0 means the
     * default in each field (ep 1; etp = tp as Megatron-Core; flat
     * all-to-all; no overlap; uniform routing). */
    int ep;                   /* expert-parallel ranks */
    int etp;                  /* expert tensor-parallel ranks (Megatron's --expert-tensor-parallel-size) */
    int ep_a2a_hier;          /* dispatch/combine inside a node over NVLink, then across nodes */
    int ep_overlap;           /* dispatch/combine run under another microbatch's compute */
    int moe_routing;          /* layout_routing: uniform, zipf, histogram */
    double moe_zipf_s;        /* Zipf exponent: expert i gets tokens in proportion to 1/(i+1)^s */
    const double *moe_hist;   /* measured tokens per expert (histogram routing), caller-owned */
    int moe_hist_n;
    /* Uneven pipeline stages (issue 18; layout_stages.h): layers on the
     * first and the last pipeline stage, Megatron-Core's
     * --decoder-first/last-pipeline-num-layers; 0 = not set (the even split) */
    int pp_first_layers;
    int pp_last_layers;
    /* Activation checkpoints in host DRAM (issue 17, offload.h's
     * OFFLOAD_PAGEABLE_*): DeepSpeed's cpu_checkpointing, each
     * layer's checkpoint copied to pageable CPU memory in the forward and
     * back before its recomputation (0/1; needs --offload, full recompute) */
    int offload_ckpt_cpu;
} layout_desc;

/* tp = pp = dp = vpp = mbs = gbs = 1, no sp, no recomputation, zero 0, 1F1B,
 * flash attention on, the model's dtype (bf16 when m is NULL); no shard
 * group, FSDP's prefetch of one layer, resharding after forward. */
void layout_init(layout_desc *l, const model_desc *m);

/* Checks every rule, in this order, and reports the first one broken:
 *   sizes positive; recompute, schedule in range;
 *   tp * cp * pp * dp == gpus_available (skipped when gpus_available <= 0);
 *   tp divides heads, kv_heads and ffn_hidden;
 *   tp <= gpus_per_node and tp divides gpus_per_node (skipped when
 *     gpus_per_node <= 0 or allow_tp_across_nodes);
 *   layers % (pp * vpp) == 0, or the uneven split's rules (layout_stages.h);
 *   gbs % (dp * mbs) == 0;
 *   vpp > 1 only with the interleaved schedule; interleaved needs vpp >= 2,
 *     pp >= 2 and m % pp == 0 (Megatron's rule); the V-shapes (zbv, v-half,
 *     v-min) need vpp 2 and pp >= 2; dualpipe needs vpp 1, pp even and m even
 *     with m >= 2 pp (DualPipe's own assertion);
 *   sp needs tp > 1 and tp dividing seq_len;
 *   the sharding rules: zero 0..3, shard group >= 0, prefetch 0..64,
 *     no_reshard 0/1; a shard group (HSDP) needs zero >= 1, is 2 or more
 *     and divides dp; prefetch above 1 and no_reshard need zero 3.  A zero stage with
 *     dp 1 is valid and shards over one rank (DeepSpeed and FSDP run so;
 *     nothing is divided): the search skips it as a duplicate of zero 0.
 *   cp: seq_len % (2 cp) == 0, fused attention, and for a2a and a2a+p2p
 *     the all-to-all group dividing heads / tp and kv_heads / tp (the
 *     all-to-all group of a2a+p2p is layout_cp_a2a_ranks: the cp ranks
 *     inside a node).
 * The model itself is validated first (model_validate). */
int layout_validate(const layout_desc *l, const model_desc *m, int gpus_available,
                    int gpus_per_node, cs_err *err);

/* Derived quantities (of a valid layout). */
long long layout_gpus(const layout_desc *l);                         /* tp * cp * pp * dp */
int layout_cp_of(const layout_desc *l);  /* cp, 1 for a layout whose cp is 0 */
int layout_dp_cp(const layout_desc *l);  /* dp * cp: the ranks holding the same weights */
/* The GPU of a rank in the tp-cp-dp-pp order above. */
int layout_rank_gpu(const layout_desc *l, int tp_rank, int cp_rank, int dp_rank, int pp_rank);
/* The all-to-all (Ulysses) group of the context-parallel ranks: cp for a2a,
 * 1 for p2p; for a2a+p2p the cp ranks that share a node, gcd(cp,
 * gpus_per_node / tp) (consecutive cp ranks are tp GPUs apart; Megatron-
 * Core's hierarchical_context_parallel_sizes[0]), or 1 when gpus_per_node
 * <= 0 or the node holds less than one tensor-parallel group. */
int layout_cp_a2a_ranks(const layout_desc *l, int gpus_per_node);
/* The cp rules of layout_validate (layout_cp.c). */
int layout_check_cp(const layout_desc *l, const model_desc *m, int gpus_per_node, cs_err *err);
int layout_microbatches(const layout_desc *l);                       /* m = gbs / (dp * mbs) */
/* The layers' split over the stages (layout_stages.c; layout_stages.h has
 * each stage's count and the rules' wording): 1 when a first or last
 * stage's count is set; the most layers any stage holds; the split's rules
 * (0, or -1 with err, may be NULL, naming the rule); the uneven split that
 * fits where the even one does not, as the options a user types ("none
 * ..." when there is none). */
int layout_is_uneven(const layout_desc *l);
int layout_max_stage_layers(const layout_desc *l, const model_desc *m);
int layout_stage_rules(const layout_desc *l, const model_desc *m, cs_err *err);
void layout_stage_split_hint(const layout_desc *l, const model_desc *m, char *buf, int n);
/* layers / pp and layers / (pp * vpp); under an uneven split the largest
 * stage's */
int layout_layers_per_stage(const layout_desc *l, const model_desc *m);
int layout_layers_per_chunk(const layout_desc *l, const model_desc *m);

/* Expert parallelism (layout_ep.h): ep and etp with their defaults applied
 * (ep 1, etp = tp); expert data-parallel ranks tp dp / (etp ep) (0 when
 * that does not divide); the rules, 0 for a dense model with ep 1. */
int layout_ep_of(const layout_desc *l);
int layout_etp_of(const layout_desc *l);
int layout_edp_of(const layout_desc *l);
int layout_ep_rules(const layout_desc *l, const model_desc *m, cs_err *err);

/* "tp8 pp4 dp32 vpp2 mbs1 gbs1536 sp sel zero1 interleaved": tp, pp, dp, mbs,
 * gbs and the schedule always; vpp, sp, sel/full, zero1..zero3 (with
 * hsdpN, prefetchN, noreshard), noflash and fp8 only when they differ from
 * layout_init's defaults; "cp4" (and "a2a" or "a2a+p2p" after it) with
 * context parallelism.  Returns buf. */
char *layout_describe(const layout_desc *l, char *buf, int n);

/* Names as users type them ("none", "selective", "full"; "gpipe", "1f1b",
 * "interleaved") and their parsers; a parse error names `what` (the option)
 * and lists the valid names. */
const char *layout_recompute_name(layout_recompute r);
int layout_recompute_parse(const char *text, const char *what, layout_recompute *out,
                           cs_err *err);
const char *layout_schedule_name(layout_schedule s);
int layout_schedule_parse(const char *text, const char *what, layout_schedule *out,
                          cs_err *err);
const char *layout_cp_comm_name(layout_cp_comm c); /* "p2p", "a2a", "a2a+p2p" */
int layout_cp_comm_parse(const char *text, const char *what, layout_cp_comm *out, cs_err *err);

#endif
