/* Unit tests: what a fitted device profile feeds.
 *   Attention: with sdpa_torch rows measured, the fit estimates use is
 *   sdpa_torch's and our kernel's is kept apart; without them it is our
 *   kernel's, as before.  Copies: the checkpoint's snapshot and its
 *   host-to-device reload step run at the fitted pinned copy bandwidths,
 *   still shared per PCIe switch and capped by host memory. */
#include <stdlib.h>

#include "calib_fit.h"
#include "checkpoint.h"
#include "fixture.h"
#include "tap.h"

static const dev_type *h200(void) { return dev_find("h200", NULL); }

/* ---- attention ---------------------------------------------------------------- */

/* Fits measurements drawn from truth, with or without the sdpa_torch rows. */
static void fit_synthetic(const calib_profile *truth, int keep_sdpa, calib_profile *fit)
{
    calib_meas *rows;
    int n, kept = 0;
    cs_err err;
    CHECK(calib_synthesize(truth, 8, 0.01, 11, &rows, &n, &err) == 0);
    for (int i = 0; i < n; i++)
        if (keep_sdpa || strcmp(rows[i].kernel, "sdpa_torch") != 0)
            rows[kept++] = rows[i];
    CHECK(calib_fit(rows, kept, 5, -1, h200(), "synthetic", fit, &err) == 0);
    free(rows);
}

/* A compute-bound bf16 attention (32 heads, 4096 tokens, head size 128). */
static double attention_s(const calib_profile *p)
{
    opcost_eff e;
    opcost_eff_default(&e);
    e.profile = p;
    double flops = 4.0 * 32 * 4096 * 4096 * 128, bytes = 4.0 * 32 * 4096 * 128 * 2;
    return opcost_attention_s(h200(), &e, MODEL_BF16, flops, bytes);
}

static void sdpa_feeds_attention(void)
{
    calib_profile truth, fit;
    calib_synthetic_truth(h200(), 8, &truth);
    truth.attention[CALIB_BF16].eff = 0.62; /* sdpa_torch's, unlike the built-in 0.55 */
    double own_eff = truth.attention_own[CALIB_BF16].eff;
    fit_synthetic(&truth, 1, &fit);
    const calib_gemm_fit *a = &fit.attention[CALIB_BF16];
    CHECK(fit.attention_source[CALIB_BF16] == CALIB_ATTN_SDPA);
    CHECK_REL(a->eff, 0.62, 0.02);
    CHECK(fit.attention_own[CALIB_BF16].have);
    CHECK_REL(fit.attention_own[CALIB_BF16].eff, own_eff, 0.02);
    double flops = 4.0 * 32 * 4096 * 4096 * 128;
    CHECK_REL(attention_s(&fit), flops / (989.4e12 * a->eff) + a->fixed_s, 1e-9);
    /* without sdpa_torch rows: our kernel's fit, nothing kept apart */
    fit_synthetic(&truth, 0, &fit);
    CHECK(fit.attention_source[CALIB_BF16] == CALIB_ATTN_OWN);
    CHECK(!fit.attention_own[CALIB_BF16].have);
    CHECK_REL(fit.attention[CALIB_BF16].eff, own_eff, 0.02);
    CHECK_REL(attention_s(&fit), flops / (989.4e12 * fit.attention[CALIB_BF16].eff) +
                                     fit.attention[CALIB_BF16].fixed_s, 1e-9);
}

/* Rows of each kernel are predicted by that kernel's own fit. */
static void each_attention_kernel_predicted_by_its_fit(void)
{
    calib_profile p;
    calib_profile_default(h200(), &p);
    p.attention_own[CALIB_BF16] = p.attention[CALIB_BF16];
    p.attention_own[CALIB_BF16].eff = 0.05;
    p.attention_source[CALIB_BF16] = CALIB_ATTN_SDPA;
    calib_meas r = {"attention", CALIB_BF16, 4096, 4096, 128, 32, 0, 4.0 * 32 * 4096 * 128 * 2,
                    4.0 * 32 * 4096 * 4096 * 128, 1, 1, 1, 10, 0};
    double own_s = calib_predict_s(&p, &r);
    snprintf(r.kernel, sizeof r.kernel, "sdpa_torch");
    double sdpa_s = calib_predict_s(&p, &r);
    CHECK_REL(own_s / sdpa_s, 0.55 / 0.05, 0.01);
}

/* ---- copies and the checkpoint ------------------------------------------------ */

typedef struct ckpt_case {
    sys_system sys;
    model_desc m;
    layout_desc l;
    ckpt_storage st;
} ckpt_case;

static void ckpt_setup(ckpt_case *c)
{
    CHECK(sys_from_catalog("dgx-h200", 8, &c->sys, NULL) == 0);
    CHECK(model_find("llama2-70b", &c->m, NULL) == 0);
    layout_init(&c->l, &c->m);
    c->l.tp = 8, c->l.pp = 4, c->l.dp = 2, c->l.gbs = 64;
    c->st = (ckpt_storage){1e12, 2e12};
}

static ckpt_cost ckpt_of(ckpt_case *c, const calib_profile *p)
{
    ckpt_cost out = {0};
    cs_err err;
    CHECK(ckpt_cost_of(&c->m, &c->l, &c->sys.groups[0].node, &c->st, p, &out, &err) == 0);
    return out;
}

static void copies_feed_checkpoint(void)
{
    ckpt_case c;
    ckpt_setup(&c);
    const sys_node_type *node = &c.sys.groups[0].node; /* 2 GPUs a PCIe switch */
    calib_profile p;
    calib_profile_default(h200(), &p); /* no copy fits: the built-in figures */
    ckpt_cost base = ckpt_of(&c, NULL), same = ckpt_of(&c, &p);
    CHECK(same.snapshot_s == base.snapshot_s && same.reload_s == base.reload_s);
    CHECK_REL(base.snapshot_s, base.gpu_bytes / (node->pcie_bw_bytes_per_s / 2), 1e-12);
    /* a d2h copy at half the link's rate: the snapshot takes twice as long, plus fixed */
    p.copy[CALIB_COPY_D2H_PINNED] = (calib_bw_fit){1, 9, node->pcie_bw_bytes_per_s / 2, 10e-6};
    ckpt_cost d2h = ckpt_of(&c, &p);
    CHECK_REL(d2h.snapshot_s, 2 * base.snapshot_s + 10e-6, 1e-12);
    CHECK(d2h.reload_s == base.reload_s); /* reloads copy the other way */
    /* an h2d copy at a quarter: the reloads' last step takes four times as long */
    p.copy[CALIB_COPY_H2D_PINNED] = (calib_bw_fit){1, 9, node->pcie_bw_bytes_per_s / 4, 0};
    ckpt_cost h2d = ckpt_of(&c, &p);
    CHECK_REL(h2d.h2d_s, 4 * base.h2d_s, 1e-12);
    CHECK_REL(h2d.reload_s - base.reload_s, 3 * base.h2d_s, 1e-9);
    CHECK_REL(h2d.memory_reload_s - base.memory_reload_s, 3 * base.h2d_s, 1e-9);
    /* a copy faster than host memory feeds: host memory's share per GPU caps it */
    p.copy[CALIB_COPY_D2H_PINNED] = (calib_bw_fit){1, 9, 1e15, 0};
    CHECK_REL(ckpt_of(&c, &p).snapshot_s,
              base.gpu_bytes / (node->host_mem_bw_bytes_per_s / node->gpus), 1e-12);
}

TAP_MAIN({"sdpa_torch's fit feeds attention where measured", sdpa_feeds_attention},
         {"each attention kernel is predicted by its own fit",
          each_attention_kernel_predicted_by_its_fit},
         {"fitted pinned copies feed the checkpoint", copies_feed_checkpoint})
