/* layout_cp: context parallelism's part of a layout: its derived sizes, its
 * validity rules (each with the nearest valid values) and its names.  The
 * rules and the rank order are in layout.h. */
#include <stdio.h>

#include "collective.h"
#include "layout.h"
#include "units.h"

int layout_cp_of(const layout_desc *l) { return l->cp > 1 ? l->cp : 1; }

int layout_dp_cp(const layout_desc *l) { return l->dp * layout_cp_of(l); }

int layout_rank_gpu(const layout_desc *l, int tp_rank, int cp_rank, int dp_rank, int pp_rank)
{
    return tp_rank + l->tp * (cp_rank + layout_cp_of(l) * (dp_rank + l->dp * pp_rank));
}

int layout_cp_a2a_ranks(const layout_desc *l, int gpus_per_node)
{
    int cp = layout_cp_of(l);
    if (cp == 1 || l->cp_comm == LAYOUT_CP_P2P)
        return 1;
    if (l->cp_comm == LAYOUT_CP_A2A)
        return cp;
    int room = gpus_per_node > 0 ? gpus_per_node / l->tp : 0, a = 1; /* cp ranks in a node */
    for (int d = 2; d <= cp && d <= room; d++)
        if (cp % d == 0 && room % d == 0)
            a = d; /* the greatest common divisor */
    return a;
}

/* The nearest values below and above `cp` (up to limit) for which `ok`
 * holds, as "2, 8" (or one of them, or "none"). */
static const char *near_cp(int cp, int limit, int (*ok)(int cand, const void *ctx),
                           const void *ctx, char *buf, size_t len)
{
    int below = 0, above = 0;
    for (int c = cp - 1; c >= 1 && !below; c--)
        if (ok(c, ctx))
            below = c;
    for (int c = cp + 1; c <= limit && !above; c++)
        if (ok(c, ctx))
            above = c;
    /* %.0d prints nothing for 0: "2, 8", "2" or "8" */
    snprintf(buf, len, "%.0d%s%.0d", below, below && above ? ", " : "", above);
    return buf[0] ? buf : "none";
}

static int seq_ok(int c, const void *ctx)
{
    return *(const int *)ctx % (2 * c) == 0;
}

/* For a2a: the candidate's all-to-all group divides heads/tp and kv/tp. */
typedef struct heads_ctx {
    const layout_desc *l;
    const model_desc *m;
    int gpus_per_node;
} heads_ctx;

static int heads_ok(int c, const void *ctx)
{
    const heads_ctx *h = ctx;
    layout_desc t = *h->l;
    t.cp = c;
    int a = layout_cp_a2a_ranks(&t, h->gpus_per_node);
    return h->m->seq_len % (2 * c) == 0 && (h->m->heads / t.tp) % a == 0 &&
           (h->m->kv_heads / t.tp) % a == 0;
}

int layout_check_cp(const layout_desc *l, const model_desc *m, int gpus_per_node, cs_err *err)
{
    int cp = layout_cp_of(l);
    char near[64];
    if ((unsigned)l->cp_comm > LAYOUT_CP_A2A_P2P)
        return cs_fail(err, "layout: cp_comm %d is not one of p2p, a2a, a2a+p2p",
                       (int)l->cp_comm);
    if (cp == 1)
        return 0;
    if (m->seq_len % (2 * cp) != 0)
        return cs_fail(err,
                       "layout: cp %d needs seq_len %d divisible by 2 cp = %d (causal load "
                       "balancing cuts each sequence into 2 cp chunks and pairs chunk r with "
                       "chunk 2 cp - 1 - r, as Megatron-Core does); cp values near %d that "
                       "divide seq_len / 2: %s",
                       cp, m->seq_len, 2 * cp, cp,
                       near_cp(cp, m->seq_len / 2, seq_ok, &m->seq_len, near, sizeof near));
    if (!l->flash_attention)
        return cs_fail(err, "layout: cp %d needs fused attention (Transformer Engine runs "
                            "context parallelism only in its fused and flash attention "
                            "kernels); turn flash attention on or use cp 1",
                       cp);
    int a2a = layout_cp_a2a_ranks(l, gpus_per_node);
    if (a2a > coll_alltoall_max_ranks())
        return cs_fail(err,
                       "layout: cp %d with cp_comm %s: its all-to-all over %d GPUs routes %llu "
                       "pairs; the limit is %d GPUs an all-to-all (2^24 routed pairs a plan: "
                       "costmodel/collective.h); use cp_comm a2a+p2p or p2p",
                       cp, layout_cp_comm_name(l->cp_comm), a2a,
                       (unsigned long long)a2a * (unsigned long long)(a2a - 1),
                       coll_alltoall_max_ranks());
    int heads_t = m->heads / l->tp, kv_t = m->kv_heads / l->tp;
    if (a2a > 1 && (heads_t % a2a != 0 || kv_t % a2a != 0)) {
        heads_ctx h = {l, m, gpus_per_node};
        return cs_fail(err,
                       "layout: cp_comm %s exchanges heads over an all-to-all group of %d "
                       "ranks, which must divide heads / tp = %d and kv_heads / tp = %d (each "
                       "rank attends over whole query and key/value heads; Transformer "
                       "Engine asserts both and does not replicate key/value heads); cp values "
                       "near %d that pass: %s; or cp_comm p2p",
                       layout_cp_comm_name(l->cp_comm), a2a, heads_t, kv_t, cp,
                       near_cp(cp, m->seq_len / 2, heads_ok, &h, near, sizeof near));
    }
    return 0;
}

static const char *const cp_comm_names[] = {"p2p", "a2a", "a2a+p2p"};

const char *layout_cp_comm_name(layout_cp_comm c)
{
    return (unsigned)c <= LAYOUT_CP_A2A_P2P ? cp_comm_names[c] : "?";
}

int layout_cp_comm_parse(const char *text, const char *what, layout_cp_comm *out, cs_err *err)
{
    int i = 0;
    if (units_parse_name(text, what, cp_comm_names, 3, &i, err) != 0)
        return -1;
    *out = (layout_cp_comm)i;
    return 0;
}
