/* Unit tests: the calibrated model and its fit.
 *   The built-in profile gives opcost's times exactly; measurements drawn
 *   from known parameters with 2% noise give back those parameters (matrix
 *   multiply efficiency, k_extra and fixed time, attention, bandwidths,
 *   collective latency and bandwidth) within tolerance; held-out errors are
 *   near the noise; folds are stable and balanced; too few rows is an
 *   error. */
#include <stdlib.h>

#include "calib_builtin.h"
#include "calib_fit.h"
#include "opcost.h"
#include "tap.h"

static const dev_type *h200(void) { return dev_find("h200", NULL); }

static void default_profile_is_opcost(void)
{
    calib_profile p;
    calib_profile_default(h200(), &p);
    opcost_eff e;
    opcost_eff_default(&e);
    double want = opcost_gemm_s(h200(), &e, MODEL_BF16, 8192, 8192, 8192, 1, 2);
    double got = calib_gemm_s(&p, &p.gemm[CALIB_BF16], 8192, 8192, 8192, 1, 3 * 8192.0 * 8192 * 2);
    CHECK_REL(got, want, 1e-12);
    /* the default reproduces the measured 788 TFLOP/s of the H200 (gap aside) */
    CHECK_REL(2 * 8192.0 * 8192 * 8192 / (got - e.kernel_gap_s), 788e12, 0.001);
    CHECK_REL(calib_bw_s(&p.membound, 1e9), opcost_membound_s(h200(), &e, 1e9), 1e-12);
}

/* `validate kernels --builtin` prices a row as estimates do: a thin
 * multiply (512 x 16 x 512) takes a small tile or split-K, not one
 * 128 x 256 tile as the profile form has (16 times the work there); a copy,
 * which opcost prices through the same rate, from the profile. */
static void builtin_predict_is_estimates(void)
{
    const dev_type *v100 = dev_find("V100-SXM2-32GB", NULL);
    calib_profile p;
    calib_profile_default(v100, &p);
    opcost_eff e;
    opcost_eff_default(&e);
    calib_meas thin = {.kernel = "gemm", .dtype = CALIB_FP16, .m = 512, .n = 16, .k = 512,
                       .batch = 1, .bytes = 2.0 * (512 * 512 + 512 * 16 + 512 * 16),
                       .flops = 2.0 * 512 * 16 * 512, .time_median_s = 8e-6};
    double want = opcost_gemm_s(v100, &e, MODEL_FP16, 512, 16, 512, 1, 2);
    CHECK_REL(calib_builtin_predict_s(v100, &p, &thin), want, 1e-12);
    CHECK(calib_predict_s(&p, &thin) > 3 * want); /* the one-tile form */
    calib_meas copy = {.kernel = "copy_d2d", .dtype = CALIB_BF16, .bytes = 1e9,
                       .time_median_s = 1e-3};
    CHECK_REL(calib_builtin_predict_s(v100, &p, &copy), calib_predict_s(&p, &copy), 1e-12);
    calib_meas fp32 = thin;
    fp32.dtype = CALIB_FP32; /* estimates have no fp32 multiply: the profile's */
    CHECK_REL(calib_builtin_predict_s(v100, &p, &fp32), calib_predict_s(&p, &fp32), 1e-12);
}

/* A truth that differs from the defaults in every fitted parameter. */
static void truth_of(calib_profile *t)
{
    calib_synthetic_truth(h200(), 8, t);
    t->gemm[CALIB_BF16].eff = 0.78;
    t->gemm[CALIB_BF16].k_extra = 96;
    t->gemm[CALIB_BF16].fixed_s = 6e-6;
    t->attention[CALIB_BF16].eff = 0.47;
    t->membound.bw_bytes_per_s = 4.1e12;
    t->membound.fixed_s = 3e-6;
    for (int i = 0; i < CALIB_NMEMKERNEL; i++)
        t->memkernel[i] = t->membound;
}

static void fit_recovers_parameters(void)
{
    calib_profile truth, fit;
    truth_of(&truth);
    calib_meas *rows;
    int n;
    cs_err err;
    CHECK(calib_synthesize(&truth, 8, 0.02, 42, &rows, &n, &err) == 0);
    CHECK(calib_fit(rows, n, 5, -1, h200(), "synthetic", &fit, &err) == 0);
    const calib_gemm_fit *g = &fit.gemm[CALIB_BF16], *tg = &truth.gemm[CALIB_BF16];
    printf("# bf16 gemm: eff %.4f (%.4f) k_extra %.1f (%.1f) fixed %.2f us (%.2f) tile %dx%d\n",
           g->eff, tg->eff, g->k_extra, tg->k_extra, g->fixed_s * 1e6, tg->fixed_s * 1e6,
           g->tile_m, g->tile_n);
    CHECK_REL(g->eff, tg->eff, 0.02);
    CHECK(fabs(g->k_extra - tg->k_extra) < 32);
    CHECK_REL(g->fixed_s, tg->fixed_s, 0.25);
    CHECK_EQ_INT(g->tile_m * g->tile_n, 128 * 256);
    CHECK_REL(fit.gemm[CALIB_FP8].eff, truth.gemm[CALIB_FP8].eff, 0.02);
    CHECK_REL(fit.attention[CALIB_BF16].eff, 0.47, 0.02); /* sdpa_torch's */
    CHECK_REL(fit.attention_own[CALIB_BF16].eff, truth.attention_own[CALIB_BF16].eff, 0.02);
    CHECK_REL(fit.membound.bw_bytes_per_s, 4.1e12, 0.01);
    CHECK_REL(fit.membound.fixed_s, 3e-6, 0.15);
    CHECK_REL(fit.copy[0].bw_bytes_per_s, truth.copy[0].bw_bytes_per_s, 0.02);
    CHECK_EQ_INT(fit.ncoll, 5);
    const calib_coll_fit *c = calib_coll_find(&fit, 0, 8), *tc = calib_coll_find(&truth, 0, 8);
    CHECK(c && tc);
    if (c && tc) {
        CHECK_REL(c->algbw_bytes_per_s, tc->algbw_bytes_per_s, 0.02);
        CHECK_REL(c->latency_s, tc->latency_s, 0.1);
    }
    free(rows);
}

static void heldout_error_is_noise(void)
{
    calib_profile truth, fit;
    truth_of(&truth);
    calib_meas *rows;
    int n;
    cs_err err;
    CHECK(calib_synthesize(&truth, 8, 0.02, 7, &rows, &n, &err) == 0);
    CHECK(calib_fit(rows, n, 5, 0, h200(), "synthetic", &fit, &err) == 0);
    calib_summary s;
    calib_validate(&fit, rows, n, 0, &s);
    for (int g = 0; g < CALIB_NGROUP; g++) { /* sdpa_torch's rows too: fitted apart */
        printf("# held out %-10s %3d rows, median %.2f%%, max %.2f%%\n", calib_group_name(g),
               s.group[g].rows, s.group[g].median_pct, s.group[g].max_pct);
        CHECK(s.group[g].rows > 0);
        CHECK(s.group[g].median_pct < 3);
        CHECK(s.group[g].max_pct < 10);
    }
    CHECK_EQ_INT(s.unpredicted, 0);
    CHECK(calib_crossval(rows, n, 5, h200(), &s, &err) == 0);
    CHECK(s.group[CALIB_GEMM].rows > 100 && s.group[CALIB_GEMM].median_pct < 3);
    free(rows);
}

static void folds_are_stable(void)
{
    calib_profile truth;
    truth_of(&truth);
    calib_meas *rows;
    int n, count[5] = {0};
    cs_err err;
    CHECK(calib_synthesize(&truth, 1, 0, 1, &rows, &n, &err) == 0);
    for (int i = 0; i < n; i++)
        count[calib_fold(&rows[i], 5)]++;
    for (int f = 0; f < 5; f++)
        CHECK(count[f] > n / 10 && count[f] < n * 3 / 10);
    calib_meas r = rows[3];
    r.time_median_s *= 2; /* the time is no part of the key */
    CHECK_EQ_INT(calib_fold(&r, 5), calib_fold(&rows[3], 5));
    free(rows);
}

static void too_few_rows(void)
{
    calib_meas r = {"layernorm", CALIB_BF16, 1024, 1024, 0, 1, 0, 4e6, 0, 1e-5, 1e-5, 1e-5, 10, 3};
    calib_profile p;
    cs_err err;
    CHECK(calib_fit(&r, 1, 5, -1, h200(), "x", &p, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "enough rows");
    CHECK(calib_kernel_find("gemmm", &err) == NULL);
    CHECK_STR_CONTAINS(err.msg, "valid kernels: gemm");
}

static void wrong_device(void)
{
    calib_profile p;
    calib_profile_default(h200(), &p);
    cs_err err;
    CHECK(calib_profile_check_device(&p, h200(), &err) == 0);
    CHECK(calib_profile_check_device(&p, dev_find("a100", NULL), &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "fitted on H200-SXM-141GB");
}

int main(void)
{
    static const tap_case cases[] = {
        {"the built-in profile is opcost's model", default_profile_is_opcost},
        {"validate kernels --builtin prices rows as estimates do", builtin_predict_is_estimates},
        {"the fit recovers known parameters from noisy measurements", fit_recovers_parameters},
        {"held-out and cross-validated errors are near the noise", heldout_error_is_noise},
        {"folds depend on the shape only and are balanced", folds_are_stable},
        {"too few rows and unknown kernels are errors", too_few_rows},
        {"a profile applies to its own device only", wrong_device},
    };
    return tap_run(cases, sizeof cases / sizeof cases[0]);
}
