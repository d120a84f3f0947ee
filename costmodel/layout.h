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
 *     multiple of pp * vpp (Megatron's uniform split).
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

typedef struct layout_desc {
    int tp;   /* tensor-parallel ranks */
    int pp;   /* pipeline stages */
    int dp;   /* data-parallel replicas */
    int vpp;  /* model chunks (virtual stages) per pipeline rank; 1 = none */
    int mbs;  /* microbatch size, sequences */
    int gbs;  /* global batch, sequences */
    int sp;   /* Megatron sequence parallelism (0/1) */
    layout_recompute recompute;
    int zero; /* 0, or 1: distributed optimizer, optimizer state sharded over dp */
    layout_schedule schedule;
    model_dtype dtype;         /* training data type (the model's by default) */
    int flash_attention;       /* fused attention: no s x s tensors stored (0/1) */
    int allow_tp_across_nodes; /* lift the tp-within-a-node rules (0/1) */
    framework_kind framework;  /* the training code's behaviour (framework.h) */
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
} layout_desc;

/* tp = pp = dp = vpp = mbs = gbs = 1, no sp, no recomputation, zero 0, 1F1B,
 * flash attention on, the model's dtype (bf16 when m is NULL). */
void layout_init(layout_desc *l, const model_desc *m);

/* Checks every rule, in this order, and reports the first one broken:
 *   sizes positive; zero, recompute, schedule in range;
 *   tp * pp * dp == gpus_available (skipped when gpus_available <= 0);
 *   tp divides heads, kv_heads and ffn_hidden;
 *   tp <= gpus_per_node and tp divides gpus_per_node (skipped when
 *     gpus_per_node <= 0 or allow_tp_across_nodes);
 *   layers % (pp * vpp) == 0;
 *   gbs % (dp * mbs) == 0;
 *   vpp > 1 only with the interleaved schedule; interleaved needs vpp >= 2,
 *     pp >= 2 and m % pp == 0 (Megatron's rule); the V-shapes (zbv, v-half,
 *     v-min) need vpp 2 and pp >= 2; dualpipe needs vpp 1, pp even and m even
 *     with m >= 2 pp (DualPipe's own assertion);
 *   sp needs tp > 1 and tp dividing seq_len.
 * The model itself is validated first (model_validate). */
int layout_validate(const layout_desc *l, const model_desc *m, int gpus_available,
                    int gpus_per_node, cs_err *err);

/* Derived quantities (of a valid layout). */
long long layout_gpus(const layout_desc *l);                         /* tp * pp * dp */
int layout_microbatches(const layout_desc *l);                       /* m = gbs / (dp * mbs) */
int layout_layers_per_stage(const layout_desc *l, const model_desc *m); /* layers / pp */
int layout_layers_per_chunk(const layout_desc *l, const model_desc *m); /* layers / (pp * vpp) */

/* Expert parallelism (layout_ep.h): ep and etp with their defaults applied
 * (ep 1, etp = tp); expert data-parallel ranks tp dp / (etp ep) (0 when
 * that does not divide); the rules, 0 for a dense model with ep 1. */
int layout_ep_of(const layout_desc *l);
int layout_etp_of(const layout_desc *l);
int layout_edp_of(const layout_desc *l);
int layout_ep_rules(const layout_desc *l, const model_desc *m, cs_err *err);

/* "tp8 pp4 dp32 vpp2 mbs1 gbs1536 sp sel zero1 interleaved": tp, pp, dp, mbs,
 * gbs and the schedule always; vpp, sp, sel/full, zero1, noflash and fp8
 * only when they differ from layout_init's defaults.  Returns buf. */
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

#endif
