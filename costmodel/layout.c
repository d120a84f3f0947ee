/* layout: parallel layouts, their derived quantities and validity rules.
 * Each rule is its own function with its own message: what was broken, the
 * values involved, and the nearest values that would pass. */
#include "layout.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "collective.h"
#include "units.h"

void layout_init(layout_desc *l, const model_desc *m)
{
    memset(l, 0, sizeof *l);
    l->tp = l->pp = l->dp = l->vpp = l->mbs = l->gbs = 1;
    l->recompute = LAYOUT_RECOMPUTE_NONE;
    l->schedule = LAYOUT_SCHEDULE_1F1B;
    l->dtype = m ? m->dtype : MODEL_BF16;
    l->flash_attention = 1;
    l->framework = FRAMEWORK_CORE;
    l->prefetch = LAYOUT_FSDP_PREFETCH;
    l->cp = 1;
    l->cp_comm = LAYOUT_CP_P2P;
}

long long layout_gpus(const layout_desc *l)
{
    return (long long)l->tp * layout_cp_of(l) * l->pp * l->dp;
}

int layout_microbatches(const layout_desc *l)
{
    return (int)(l->gbs / ((long long)l->dp * l->mbs));
}

int layout_layers_per_stage(const layout_desc *l, const model_desc *m)
{
    return layout_is_uneven(l) ? layout_max_stage_layers(l, m) : m->layers / l->pp;
}

int layout_layers_per_chunk(const layout_desc *l, const model_desc *m)
{
    return layout_layers_per_stage(l, m) / l->vpp;
}

/* ---- helpers for "nearest valid" values ---- */

static int gcd(int a, int b)
{
    while (b) {
        int r = a % b;
        a = b;
        b = r;
    }
    return a;
}

/* The divisors of n nearest to x from below and above (0 when none). */
static void near_divisors(int n, int x, int *below, int *above)
{
    *below = *above = 0;
    for (int d = (x - 1 < n ? x - 1 : n); d >= 1 && !*below; d--)
        if (n % d == 0)
            *below = d;
    for (int d = x + 1; d <= n && !*above; d++)
        if (n % d == 0)
            *above = d;
}

/* "32, 64" / "32" / "none": the values a user could type instead. */
static const char *format_near(long long below, long long above, char *buf, size_t len)
{
    if (below > 0 && above > 0)
        snprintf(buf, len, "%lld, %lld", below, above);
    else if (below > 0 || above > 0)
        snprintf(buf, len, "%lld", below > 0 ? below : above);
    else
        snprintf(buf, len, "none");
    return buf;
}

/* The nearest divisors of n around x, formatted. */
static const char *near_divisors_text(int n, int x, char *buf, size_t len)
{
    int below, above;
    near_divisors(n, x, &below, &above);
    return format_near(below, above, buf, len);
}

/* The largest tp that divides heads, kv_heads and ffn_hidden (and seq_len
 * when sp): every tp the shape allows divides it. */
static int tp_shape_gcd(const model_desc *m, int with_seq)
{
    int g = gcd(gcd(m->heads, m->kv_heads), m->ffn_hidden);
    return with_seq ? gcd(g, m->seq_len) : g;
}

/* ---- the rules ---- */

static int check_sizes(const layout_desc *l, cs_err *err)
{
    const struct { const char *what; int value; } sizes[] = {
        {"tp", l->tp},   {"pp", l->pp},   {"dp", l->dp},
        {"vpp", l->vpp}, {"mbs", l->mbs}, {"gbs", l->gbs}, {"cp", layout_cp_of(l)},
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (sizes[i].value < 1)
            return cs_fail(err, "layout: %s %d must be a positive whole number", sizes[i].what,
                           sizes[i].value);
    if ((unsigned)l->recompute > LAYOUT_RECOMPUTE_FULL)
        return cs_fail(err, "layout: recompute %d is not one of none, selective, full",
                       (int)l->recompute);
    if ((unsigned)l->schedule > LAYOUT_SCHEDULE_LAST)
        return cs_fail(err, "layout: schedule %d is not one of gpipe, 1f1b, interleaved, "
                            "zb-h1, zb-h2, zb-auto, zbv, v-half, v-min, dualpipe",
                       (int)l->schedule);
    if ((unsigned)l->dtype > MODEL_FP8)
        return cs_fail(err, "layout: dtype %d is not one of fp16, bf16, fp8", (int)l->dtype);
    if ((unsigned)l->framework > FRAMEWORK_2019)
        return cs_fail(err, "layout: framework %d is not one of megatron-core, megatron-2021, "
                       "megatron-2022, megatron-2019", (int)l->framework);
    return 0;
}

static int check_gpus(const layout_desc *l, int gpus_available, cs_err *err)
{
    long long replica = (long long)l->tp * l->pp, used = layout_gpus(l);
    if (gpus_available <= 0 || used == gpus_available)
        return 0;
    int cp = layout_cp_of(l);
    if (cp > 1) /* the world is tp x cp x dp x pp (Megatron's RankGenerator) */
        return cs_fail(err,
                       "layout: tp %d x cp %d x pp %d x dp %d = %lld GPUs, but the system has "
                       "%d; the world must be tp x cp x dp x pp: dp %lld would use %lld",
                       l->tp, cp, l->pp, l->dp, used, gpus_available,
                       gpus_available / (replica * cp),
                       gpus_available / (replica * cp) * replica * cp);
    if (replica > gpus_available)
        return cs_fail(err,
                       "layout: tp %d x pp %d x dp %d = %lld GPUs, but the system has %d; one "
                       "model replica alone (tp x pp = %lld) needs more: lower tp or pp",
                       l->tp, l->pp, l->dp, used, gpus_available, replica);
    if (gpus_available % replica == 0)
        return cs_fail(err,
                       "layout: tp %d x pp %d x dp %d = %lld GPUs, but the system has %d; "
                       "dp %lld would use them all",
                       l->tp, l->pp, l->dp, used, gpus_available, gpus_available / replica);
    return cs_fail(err,
                   "layout: tp %d x pp %d x dp %d = %lld GPUs, but the system has %d; tp x pp "
                   "= %lld does not divide %d, so no dp uses them all (dp %lld would use %lld)",
                   l->tp, l->pp, l->dp, used, gpus_available, replica, gpus_available,
                   gpus_available / replica, gpus_available / replica * replica);
}

/* Tensor parallelism splits heads, key/value heads and the MLP's inner width
 * evenly over the tp ranks (Megatron's ColumnParallelLinear divides its
 * output width exactly; it requires num_query_groups % tp == 0). */
static int check_tp_shape(const layout_desc *l, const model_desc *m, cs_err *err)
{
    static const char *const why[] = {
        "each tensor-parallel rank computes whole attention heads",
        "each tensor-parallel rank needs whole key/value heads",
        "the MLP's column-parallel layer splits its ffn_hidden outputs evenly",
    };
    const char *what[] = {"heads", "kv_heads", "ffn_hidden"};
    int value[] = {m->heads, m->kv_heads, m->ffn_hidden};
    char near[64];
    for (int i = 0; i < 3; i++)
        if (value[i] % l->tp != 0)
            return cs_fail(err,
                           "layout: tp %d does not divide %s %d (%s); tp values near %d that "
                           "divide heads %d, kv_heads %d and ffn_hidden %d: %s",
                           l->tp, what[i], value[i], why[i], l->tp, m->heads, m->kv_heads,
                           m->ffn_hidden,
                           near_divisors_text(tp_shape_gcd(m, 0), l->tp, near, sizeof near));
    return 0;
}

/* Tensor parallelism all-reduces activations in every layer; it is kept on
 * a node's NVLink.  Consecutive ranks form a tensor-parallel group, so a tp
 * that does not divide the node would straddle two nodes. */
static int check_tp_node(const layout_desc *l, const model_desc *m, int gpus_per_node,
                         cs_err *err)
{
    if (gpus_per_node <= 0 || l->allow_tp_across_nodes)
        return 0;
    int fit = gcd(tp_shape_gcd(m, l->sp), gpus_per_node); /* largest tp passing both */
    char near[64];
    if (l->tp > gpus_per_node)
        return cs_fail(err,
                       "layout: tp %d is more than the %d GPUs of a node (tensor parallelism "
                       "all-reduces every layer and is kept on NVLink); largest valid tp "
                       "within a node: %d (or set allow_tp_across_nodes)",
                       l->tp, gpus_per_node, fit);
    if (gpus_per_node % l->tp != 0)
        return cs_fail(err,
                       "layout: tp %d does not divide the %d GPUs per node, so some "
                       "tensor-parallel groups would straddle two nodes; tp values near %d "
                       "that divide %d and the model's shape: %s (or set "
                       "allow_tp_across_nodes)",
                       l->tp, gpus_per_node, l->tp, gpus_per_node,
                       near_divisors_text(fit, l->tp, near, sizeof near));
    return 0;
}

static int check_layers(const layout_desc *l, const model_desc *m, cs_err *err)
{
    long long chunks = (long long)l->pp * l->vpp;
    if (l->pp_first_layers || l->pp_last_layers)
        return layout_stage_rules(l, m, err);
    if (m->layers % chunks == 0)
        return 0;
    char near_pp[64] = "none", near_vpp[64] = "none", split[160];
    layout_stage_split_hint(l, m, split, sizeof split);
    if (m->layers % l->vpp == 0)
        near_divisors_text(m->layers / l->vpp, l->pp, near_pp, sizeof near_pp);
    if (m->layers % l->pp == 0)
        near_divisors_text(m->layers / l->pp, l->vpp, near_vpp, sizeof near_vpp);
    return cs_fail(err,
                   "layout: layers %d is not divisible by pp %d x vpp %d = %lld (every "
                   "virtual pipeline stage holds the same whole number of layers); pp near "
                   "%d with vpp %d: %s; vpp near %d with pp %d: %s; or the uneven split %s",
                   m->layers, l->pp, l->vpp, chunks, l->pp, l->vpp, near_pp, l->vpp, l->pp,
                   near_vpp, split);
}

/* The schedule's units within LAYOUT_MAX_UNITS (layout.h). */
static int check_units(const layout_desc *l, cs_err *err)
{
    double units = (double)layout_microbatches(l) * l->pp * l->vpp;
    if (units > LAYOUT_MAX_UNITS)
        return cs_fail(err, "layout: the schedule has %.0f units of work (microbatches %d x stages "
                            "%d x chunks %d); the limit is %d: a larger mbs or a smaller gbs",
                       units, layout_microbatches(l), l->pp, l->vpp, LAYOUT_MAX_UNITS);
    return 0;
}

static int check_batch(const layout_desc *l, cs_err *err)
{
    long long per = (long long)l->dp * l->mbs;
    if (l->gbs % per == 0)
        return check_units(l, err);
    long long below = l->gbs / per * per;
    char near_gbs[64], near_mbs[64], mbs_text[160];
    format_near(below, below + per, near_gbs, sizeof near_gbs);
    if (l->gbs % l->dp == 0)
        snprintf(mbs_text, sizeof mbs_text, "mbs near %d dividing gbs / dp = %d: %s", l->mbs,
                 l->gbs / l->dp,
                 near_divisors_text(l->gbs / l->dp, l->mbs, near_mbs, sizeof near_mbs));
    else
        snprintf(mbs_text, sizeof mbs_text, "no mbs helps: dp %d does not divide gbs %d",
                 l->dp, l->gbs);
    return cs_fail(err,
                   "layout: gbs %d is not a multiple of dp %d x mbs %d = %lld (every "
                   "data-parallel rank runs m = gbs / (dp x mbs) whole microbatches); nearest "
                   "gbs: %s; %s",
                   l->gbs, l->dp, l->mbs, per, near_gbs, mbs_text);
}

/* The smallest divisor >= 2 of n, 0 when none. */
static int smallest_divisor_from_2(int n)
{
    for (int d = 2; d <= n; d++)
        if (n % d == 0)
            return d;
    return 0;
}

static int check_interleaved(const layout_desc *l, const model_desc *m, cs_err *err)
{
    if (l->vpp < 2) {
        char near[32];
        format_near(smallest_divisor_from_2(m->layers / l->pp), 0, near, sizeof near);
        return cs_fail(err,
                       "layout: the interleaved schedule needs vpp >= 2 model chunks per "
                       "pipeline rank, but vpp is %d; smallest valid vpp (dividing layers / "
                       "pp = %d): %s; or use schedule 1f1b",
                       l->vpp, m->layers / l->pp, near);
    }
    if (l->pp < 2)
        return cs_fail(err,
                       "layout: the interleaved schedule needs pp >= 2 (it interleaves model "
                       "chunks across pipeline ranks), but pp is %d; use pp >= 2, or vpp 1 "
                       "with schedule 1f1b",
                       l->pp);
    int mb = layout_microbatches(l);
    if (mb % l->pp == 0)
        return 0;
    long long per = (long long)l->dp * l->mbs * l->pp;
    long long below = l->gbs / per * per;
    char near[64];
    return cs_fail(err,
                   "layout: the interleaved schedule needs the microbatches per pipeline m = "
                   "gbs / (dp x mbs) = %d to be a multiple of pp %d (Megatron's rule); "
                   "nearest gbs: %s (multiples of dp x mbs x pp = %lld)",
                   mb, l->pp, format_near(below, below + per, near, sizeof near), per);
}

/* The V-shapes place two chunks on every rank, the second mirrored (rank s
 * holds virtual stages s and 2 pp - 1 - s). */
static int check_vshape(const layout_desc *l, const model_desc *m, cs_err *err)
{
    if (l->vpp != 2)
        return cs_fail(err,
                       "layout: schedule %s places two model chunks per pipeline rank in a V, "
                       "but vpp is %d; use vpp 2 (layers %d must then be a multiple of 2 pp "
                       "= %d)",
                       layout_schedule_name(l->schedule), l->vpp, m->layers, 2 * l->pp);
    if (l->pp < 2)
        return cs_fail(err,
                       "layout: schedule %s needs pp >= 2 (the V turns on the last rank), but "
                       "pp is 1; use pp 2 or more",
                       layout_schedule_name(l->schedule));
    return 0;
}

/* DualPipe (deepseek-ai/DualPipe, dualpipe.py): pp even, and the
 * microbatches even (half enter from each end) and at least 2 pp. */
static int check_dualpipe(const layout_desc *l, cs_err *err)
{
    if (l->vpp != 1)
        return cs_fail(err,
                       "layout: dualpipe holds two whole stages per rank (one per direction), "
                       "not vpp chunks, but vpp is %d; use vpp 1",
                       l->vpp);
    if (l->pp < 2 || l->pp % 2 != 0) {
        char near_pp[64];
        return cs_fail(err,
                       "layout: dualpipe needs an even pp (ranks pair up across the two "
                       "directions), but pp is %d; nearest valid pp: %s",
                       l->pp, format_near(l->pp - 1 >= 2 ? l->pp - 1 : 0, l->pp + 1, near_pp,
                                          sizeof near_pp));
    }
    int mb = layout_microbatches(l);
    if (mb % 2 == 0 && mb >= 2 * l->pp)
        return 0;
    long long per = 2LL * l->dp * l->mbs, least = 2LL * l->pp * l->dp * l->mbs;
    long long below = l->gbs / per * per, above = below + per;
    if (below < least)
        below = 0, above = least;
    char near[64];
    return cs_fail(err,
                   "layout: dualpipe needs the microbatches per pipeline m = gbs / (dp x mbs) = "
                   "%d to be even (half enter from each end) and at least 2 pp = %d; nearest "
                   "gbs: %s",
                   mb, 2 * l->pp, format_near(below, above, near, sizeof near));
}

/* ZB-H2 (Qi et al. 2024, sec. 3): the first stage runs 2 pp - 1 forwards
 * before its first backward; with fewer microbatches the warm-up cannot
 * fill and the bubble is 2 pp - 1 - m stage-forwards (schedule_zb.c). */
static int check_zb_h2(const layout_desc *l, cs_err *err)
{
    int mb = layout_microbatches(l);
    if (mb >= 2 * l->pp - 1)
        return 0;
    long long least = (2LL * l->pp - 1) * l->dp * l->mbs;
    char near[64];
    return cs_fail(err,
                   "layout: zb-h2 needs the microbatches per pipeline m = gbs / (dp x mbs) = %d "
                   "to be at least 2 pp - 1 = %d (its first stage runs 2 pp - 1 forwards "
                   "before a backward); nearest valid gbs: %s, or use zb-h1",
                   mb, 2 * l->pp - 1, format_near(0, least, near, sizeof near));
}

static int check_schedule(const layout_desc *l, const model_desc *m, cs_err *err)
{
    if (l->schedule == LAYOUT_SCHEDULE_ZB_H2 && l->vpp == 1 && check_zb_h2(l, err) != 0)
        return -1;
    if (l->schedule == LAYOUT_SCHEDULE_INTERLEAVED)
        return check_interleaved(l, m, err);
    if (l->schedule == LAYOUT_SCHEDULE_ZBV || l->schedule == LAYOUT_SCHEDULE_V_HALF ||
        l->schedule == LAYOUT_SCHEDULE_V_MIN)
        return check_vshape(l, m, err);
    if (l->schedule == LAYOUT_SCHEDULE_DUALPIPE)
        return check_dualpipe(l, err);
    if (l->vpp > 1)
        return cs_fail(err,
                       "layout: vpp %d needs the interleaved schedule (%s runs one model "
                       "chunk per pipeline rank); use schedule interleaved, or vpp 1",
                       l->vpp, layout_schedule_name(l->schedule));
    return 0;
}

/* Megatron refuses sequence parallelism without tensor parallelism: the
 * sequence is split across the tensor-parallel group. */
static int check_sp(const layout_desc *l, const model_desc *m, cs_err *err)
{
    if (!l->sp)
        return 0;
    if (l->tp < 2)
        return cs_fail(err,
                       "layout: sp needs tp > 1 (sequence parallelism splits the sequence "
                       "across the tensor-parallel group; Megatron refuses it with tp 1); "
                       "raise tp or turn sp off");
    if (m->seq_len % l->tp != 0) {
        char near[64];
        return cs_fail(err,
                       "layout: with sp, tp %d must divide seq_len %d (each tensor-parallel "
                       "rank holds seq_len / tp tokens); tp values near %d that divide seq_len, "
                       "heads, kv_heads and ffn_hidden: %s",
                       l->tp, m->seq_len, l->tp,
                       near_divisors_text(tp_shape_gcd(m, 1), l->tp, near, sizeof near));
    }
    return 0;
}

/* ---- sharding (ZeRO stages, FSDP, HSDP; the formulas in sharding.h) ---- */

static int check_ranges(const layout_desc *l, cs_err *err)
{
    if (l->zero < 0 || l->zero > LAYOUT_MAX_ZERO)
        return cs_fail(err,
                       "layout: zero %d is not modeled; use 0 (nothing sharded), 1 (optimizer "
                       "state sharded over dp), 2 (and gradients) or 3 (and parameters: FSDP)",
                       l->zero);
    if (l->shard_group < 0)
        return cs_fail(err, "layout: shard group %d must be 0 (all of dp) or positive",
                       l->shard_group);
    if (l->prefetch < 0 || l->prefetch > LAYOUT_MAX_PREFETCH)
        return cs_fail(err, "layout: prefetch %d layers is out of range 0 to %d", l->prefetch,
                       LAYOUT_MAX_PREFETCH);
    if (l->no_reshard != 0 && l->no_reshard != 1)
        return cs_fail(err, "layout: no_reshard %d must be 0 or 1", l->no_reshard);
    return 0;
}

/* HSDP: consecutive groups of shard_group data-parallel ranks each hold a
 * whole shard set (FSDP's HYBRID_SHARD builds a 2-D device mesh of
 * (replicate, shard) = (dp / group, group)), so the group divides dp. */
static int check_hsdp(const layout_desc *l, cs_err *err)
{
    if (l->shard_group == 0)
        return 0;
    if (l->zero < 1)
        return cs_fail(err,
                       "layout: shard group %d (HSDP) needs zero >= 1 (nothing is sharded "
                       "under zero 0); use --zero 1, 2 or 3, or drop the shard group",
                       l->shard_group);
    if (layout_cp_of(l) > 1)
        return cs_fail(err,
                       "layout: shard group %d (HSDP) with context parallelism (cp %d) is not "
                       "modelled; drop the shard group or use cp 1",
                       l->shard_group, layout_cp_of(l));
    if (l->shard_group == 1)
        return cs_fail(err,
                       "layout: shard group 1 (HSDP) shards over one rank: every rank holds "
                       "everything, as zero 0 does; use a group of 2 or more dividing dp %d",
                       l->dp);
    if (l->shard_group > l->dp || l->dp % l->shard_group != 0) {
        char near[64];
        return cs_fail(err,
                       "layout: shard group %d must divide dp %d (each of the dp / group "
                       "replica groups holds one whole set of shards); nearest that divide: %s",
                       l->shard_group, l->dp,
                       near_divisors_text(l->dp, l->shard_group, near, sizeof near));
    }
    return 0;
}

/* Prefetch depth and resharding describe when ZeRO-3 gathers parameters;
 * below stage 3 nothing is gathered, so setting them is a mistake (the
 * command-line and Lua faces also refuse an explicit prefetch there). */
static int check_zero3_knobs(const layout_desc *l, cs_err *err)
{
    if (l->zero == 3)
        return 0;
    if (l->no_reshard)
        return cs_fail(err,
                       "layout: no reshard after forward needs zero 3 (only ZeRO-3 / FSDP "
                       "gathers parameters); zero is %d",
                       l->zero);
    if (l->prefetch > LAYOUT_FSDP_PREFETCH) /* 0 or 1: a layout never set up for it */
        return cs_fail(err,
                       "layout: prefetch %d needs zero 3 (only ZeRO-3 / FSDP gathers "
                       "parameters ahead); zero is %d",
                       l->prefetch, l->zero);
    return 0;
}

static int check_sharding(const layout_desc *l, cs_err *err)
{
    if (check_ranges(l, err) != 0 || check_hsdp(l, err) != 0 ||
        check_zero3_knobs(l, err) != 0)
        return -1;
    return 0;
}


/* ---- expert parallelism (the rules layout_ep.h states) ---- */

int layout_ep_of(const layout_desc *l) { return l->ep > 0 ? l->ep : 1; }
int layout_etp_of(const layout_desc *l) { return l->etp > 0 ? l->etp : l->tp; }

int layout_edp_of(const layout_desc *l)
{
    long long ranks = (long long)l->tp * l->dp, expert = (long long)layout_etp_of(l) * layout_ep_of(l);
    return expert > 0 && ranks % expert == 0 ? (int)(ranks / expert) : 0;
}

/* The values of ep near `ep` that divide the experts and, times etp, the
 * tp x dp ranks: "4, 16" / "none". */
static const char *near_ep(const layout_desc *l, const model_desc *m, char *buf, size_t len)
{
    int below = 0, above = 0, ep = layout_ep_of(l), etp = layout_etp_of(l);
    long long ranks = (long long)l->tp * l->dp;
    for (int e = 1; e <= m->moe_experts; e++) {
        if (e == ep || m->moe_experts % e != 0 || ranks % ((long long)e * etp) != 0)
            continue;
        if (e < ep)
            below = e;
        else if (!above)
            above = e;
    }
    return format_near(below, above, buf, len);
}

static int check_moe_needed(const layout_desc *l, const model_desc *m, cs_err *err)
{
    if (l->ep < 0 || l->etp < 0)
        return cs_fail(err, "layout: ep %d and etp %d must not be negative", l->ep, l->etp);
    if (model_is_moe(m))
        return 0;
    if (layout_ep_of(l) > 1 || (l->etp > 0 && l->etp != l->tp))
        return cs_fail(err,
                       "layout: ep %d, etp %d split experts, but model '%s' has none (a "
                       "mixture-of-experts model has experts > 0); use ep 1",
                       layout_ep_of(l), layout_etp_of(l), m->name);
    return 0;
}

int layout_ep_rules(const layout_desc *l, const model_desc *m, cs_err *err)
{
    if (check_moe_needed(l, m, err) != 0)
        return -1;
    if (!model_is_moe(m))
        return 0;
    int ep = layout_ep_of(l), etp = layout_etp_of(l);
    char near[64];
    if (ep > 1 && layout_cp_of(l) > 1)
        return cs_fail(err, "layout: ep %d with cp %d: expert and context parallelism together "
                            "are not modelled; use ep 1 or cp 1", ep, layout_cp_of(l));
    if (ep > coll_alltoall_max_ranks())
        return cs_fail(err,
                       "layout: ep %d: the expert-parallel all-to-all over %d GPUs routes "
                       "%llu pairs; the limit is ep %d (2^24 routed pairs a plan: "
                       "costmodel/collective.h)", ep, ep,
                       (unsigned long long)ep * (unsigned long long)(ep - 1),
                       coll_alltoall_max_ranks());
    if (m->moe_experts % ep != 0)
        return cs_fail(err,
                       "layout: ep %d does not divide the %d experts (each expert-parallel rank "
                       "holds a whole number of experts); ep values near %d: %s",
                       ep, m->moe_experts, ep, near_ep(l, m, near, sizeof near));
    if (m->moe_ffn_hidden % etp != 0)
        return cs_fail(err,
                       "layout: etp %d does not divide the expert width %d (each expert's MLP "
                       "is split evenly over etp ranks)", etp, m->moe_ffn_hidden);
    if (((long long)l->tp * l->dp) % ((long long)etp * ep) != 0)
        return cs_fail(err,
                       "layout: etp %d x ep %d = %lld does not divide tp %d x dp %d = %lld (the "
                       "expert layers decompose the same ranks as etp x ep x edp); ep values "
                       "near %d: %s",
                       etp, ep, (long long)etp * ep, l->tp, l->dp, (long long)l->tp * l->dp, ep,
                       near_ep(l, m, near, sizeof near));
    if (l->moe_routing == 2 && l->moe_hist_n != m->moe_experts)
        return cs_fail(err, "layout: the routing histogram has %d experts, the model %d",
                       l->moe_hist_n, m->moe_experts);
    if (l->moe_routing == 1 && !(l->moe_zipf_s >= 0 && l->moe_zipf_s <= 100))
        return cs_fail(err, "layout: Zipf exponent %g must lie in 0 .. 100", l->moe_zipf_s);
    return 0;
}

int layout_validate(const layout_desc *l, const model_desc *m, int gpus_available,
                    int gpus_per_node, cs_err *err)
{
    if (model_validate(m, err) != 0)
        return -1;
    if (check_sizes(l, err) != 0 || check_gpus(l, gpus_available, err) != 0 ||
        check_tp_shape(l, m, err) != 0 || check_tp_node(l, m, gpus_per_node, err) != 0 ||
        check_layers(l, m, err) != 0 || check_batch(l, err) != 0 ||
        check_schedule(l, m, err) != 0 || check_sp(l, m, err) != 0 ||
        check_sharding(l, err) != 0 || layout_check_cp(l, m, gpus_per_node, err) != 0 ||
        layout_ep_rules(l, m, err) != 0)
        return -1;
    return 0;
}

/* ---- describe ---- */

/* Appends to buf at *used, never past n (snprintf truncates). */
static void append(char *buf, int n, int *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char *buf, int n, int *used, const char *fmt, ...)
{
    if (*used >= n - 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *used, (size_t)(n - *used), fmt, ap);
    va_end(ap);
    if (w > 0)
        *used = *used + w < n - 1 ? *used + w : n - 1;
}

char *layout_describe(const layout_desc *l, char *buf, int n)
{
    if (!buf || n < 1)
        return buf;
    int used = 0;
    buf[0] = '\0';
    append(buf, n, &used, "tp%d pp%d dp%d", l->tp, l->pp, l->dp);
    if (layout_cp_of(l) > 1)
        append(buf, n, &used, " cp%d%s%s", l->cp, l->cp_comm != LAYOUT_CP_P2P ? " " : "",
               l->cp_comm != LAYOUT_CP_P2P ? layout_cp_comm_name(l->cp_comm) : "");
    if (l->vpp != 1)
        append(buf, n, &used, " vpp%d", l->vpp);
    if (l->pp_first_layers) /* uneven pipeline stages (layout_stages.h) */
        append(buf, n, &used, " first%d", l->pp_first_layers);
    if (l->pp_last_layers)
        append(buf, n, &used, " last%d", l->pp_last_layers);
    if (layout_ep_of(l) > 1 || layout_etp_of(l) != l->tp) /* expert parallelism (layout_ep.h) */
        append(buf, n, &used, " ep%d etp%d%s%s", layout_ep_of(l), layout_etp_of(l),
               l->ep_a2a_hier ? " a2a-hier" : "", l->ep_overlap ? " ep-overlap" : "");
    append(buf, n, &used, " mbs%d gbs%d", l->mbs, l->gbs);
    if (l->sp)
        append(buf, n, &used, " sp");
    if (l->recompute == LAYOUT_RECOMPUTE_SELECTIVE)
        append(buf, n, &used, " sel");
    else if (l->recompute == LAYOUT_RECOMPUTE_FULL)
        append(buf, n, &used, " full");
    if (l->zero)
        append(buf, n, &used, " zero%d", l->zero);
    if (l->zero && l->shard_group)
        append(buf, n, &used, " hsdp%d", l->shard_group);
    if (l->zero == 3 && l->prefetch != LAYOUT_FSDP_PREFETCH)
        append(buf, n, &used, " prefetch%d", l->prefetch);
    if (l->no_reshard)
        append(buf, n, &used, " noreshard");
    append(buf, n, &used, " %s", layout_schedule_name(l->schedule));
    if (!l->flash_attention)
        append(buf, n, &used, " noflash");
    if (l->dtype == MODEL_FP8)
        append(buf, n, &used, " fp8");
    if (l->framework != FRAMEWORK_CORE)
        append(buf, n, &used, " %s", framework_name(l->framework));
    if (l->offload > 0 && l->offload <= 3) { /* offload.h's names */
        static const char *const what[] = {"", "optimizer", "params", "all"};
        static const char *const engine[] = {"", "-fuyou", "-ds2020", "-ds2023", "-ds2021"};
        append(buf, n, &used, " offload-%s-%s%s%s%s", what[l->offload],
               l->offload_to ? "nvme" : "cpu", engine[l->offload_engine % 5],
               l->offload_dpu ? "-dpu" : "", l->offload_ckpt_cpu ? "-ckptcpu" : "");
    }
    return buf;
}

/* ---- names ---- */

static const char *const recompute_names[] = {"none", "selective", "full"};
static const char *const schedule_names[] = {"gpipe", "1f1b",   "interleaved", "zb-h1",
                                             "zb-h2", "zb-auto", "zbv",        "v-half",
                                             "v-min", "dualpipe"};

#define NAME_AT(names, i) (((unsigned)(i) < sizeof names / sizeof names[0]) ? names[i] : "?")
#define NNAMES(names) ((int)(sizeof names / sizeof names[0]))


const char *layout_recompute_name(layout_recompute r) { return NAME_AT(recompute_names, r); }
const char *layout_schedule_name(layout_schedule s) { return NAME_AT(schedule_names, s); }

int layout_recompute_parse(const char *text, const char *what, layout_recompute *out,
                           cs_err *err)
{
    int i = 0;
    if (units_parse_name(text, what, recompute_names, NNAMES(recompute_names), &i, err) != 0)
        return -1;
    *out = (layout_recompute)i;
    return 0;
}

int layout_schedule_parse(const char *text, const char *what, layout_schedule *out,
                          cs_err *err)
{
    int i = 0;
    if (units_parse_name(text, what, schedule_names, NNAMES(schedule_names), &i, err) != 0)
        return -1;
    *out = (layout_schedule)i;
    return 0;
}
