/* cpcomm: context parallelism's communication per layer (see cpcomm.h). */
#include "cpcomm.h"

#include <math.h>

#define ACT_BYTES 2.0 /* activations stay 16-bit under every dtype (memory.h) */

void cpcomm_volume_of(const model_desc *m, const layout_desc *l, int gpus_per_node,
                      cpcomm_volume *out)
{
    int cp = layout_cp_of(l);
    double tokens = (double)l->mbs * m->seq_len / cp; /* T */
    double kv_t = (double)m->kv_heads * model_head_dim(m) / l->tp;
    double h_t = (double)m->hidden / l->tp;
    out->cp = cp;
    out->a2a_ranks = layout_cp_a2a_ranks(l, gpus_per_node);
    out->ring_ranks = cp / out->a2a_ranks;
    out->kv_block_bytes = out->ring_ranks > 1 ? 2 * tokens * kv_t * ACT_BYTES : 0;
    out->a2a_qkv_bytes = out->a2a_ranks > 1 ? tokens * (h_t + 2 * kv_t) * ACT_BYTES : 0;
    out->a2a_out_bytes = out->a2a_ranks > 1 ? tokens * h_t * ACT_BYTES : 0;
}

double cpcomm_sent_bytes(const cpcomm_volume *v, int backward)
{
    double a = v->a2a_ranks, r = v->ring_ranks;
    double a2a = (a - 1) / a * (v->a2a_qkv_bytes + v->a2a_out_bytes);
    return a2a + (backward ? 2 : 1) * (r - 1) * v->kv_block_bytes;
}

int cpcomm_ring_steps(const cpcomm_volume *v, int backward, double *bytes, int max)
{
    int r = v->ring_ranks, n = 0;
    if (r < 2)
        return 0;
    if (!backward) {
        for (int i = 0; i < r - 1 && n < max; i++)
            bytes[n++] = v->kv_block_bytes;
        return n;
    }
    for (int i = 0; i < r && n < max; i++) /* K,V; then K,V with dK,dV; then dK,dV */
        bytes[n++] = (i == 0 || i == r - 1) ? v->kv_block_bytes : 2 * v->kv_block_bytes;
    return n;
}

/* Seconds of the exposed and hidden parts of `steps` transfers of c each,
 * every one overlapping one step of attention of a seconds. */
static void overlap(int steps, double c, double a, double *exposed, double *hidden)
{
    *exposed += steps * fmax(0, c - a);
    *hidden += steps * fmin(c, a);
}

void cpcomm_layer_times(const cpcomm_volume *v, const cpcomm_prices *p, double attn_fwd_s,
                        double attn_bwd_s, cpcomm_layer *out)
{
    *out = (cpcomm_layer){0};
    int r = v->ring_ranks;
    if (r > 1) {
        overlap(r - 1, p->ring_kv_s, attn_fwd_s / r, &out->fwd_exposed_s, &out->fwd_hidden_s);
        overlap(2, p->ring_kv_s, attn_bwd_s / r, &out->bwd_exposed_s, &out->bwd_hidden_s);
        overlap(r - 2, p->ring_kv2_s, attn_bwd_s / r, &out->bwd_exposed_s, &out->bwd_hidden_s);
    }
    if (v->a2a_ranks > 1) { /* blocking on the compute stream */
        out->fwd_exposed_s += p->a2a_qkv_s + p->a2a_out_s;
        out->bwd_exposed_s += p->a2a_qkv_s + p->a2a_out_s;
    }
}

void cpcomm_chunk_times(const cpcomm_volume *v, const cpcomm_prices *p, double attn_fwd_s,
                        double attn_bwd_s, int layers, int recomputed, cpcomm_chunk *out)
{
    cpcomm_layer t;
    cpcomm_layer_times(v, p, attn_fwd_s, attn_bwd_s, &t);
    int again = recomputed != 0;
    out->fwd_exposed_s = layers * t.fwd_exposed_s;
    out->bwd_exposed_s = layers * (t.bwd_exposed_s + again * t.fwd_exposed_s);
    out->hidden_s = layers * (t.fwd_hidden_s + t.bwd_hidden_s + again * t.fwd_hidden_s);
}
