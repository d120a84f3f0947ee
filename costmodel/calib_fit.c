/* calib_fit: least-squares fits of the calibrated model and their held-out
 * errors (see calib_fit.h). */
#include "calib_fit.h"

#include <gsl/gsl_errno.h>
#include <gsl/gsl_blas.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib_builtin.h"
#include "cs_alloc.h"

#define US 1e-6
#define MAXP 3

/* ---- generic nonlinear least squares ------------------------------------------- */

typedef double (*model_fn)(const double *x, const calib_meas *row, const void *ctx);

typedef struct fit_job {
    const calib_meas **rows;
    int n;
    model_fn model;
    const void *ctx;
} fit_job;

static int residuals(const gsl_vector *x, void *params, gsl_vector *f)
{
    const fit_job *j = params;
    for (int i = 0; i < j->n; i++) {
        double pred = j->model(x->data, j->rows[i], j->ctx);
        gsl_vector_set(f, (size_t)i, log(fmax(pred, 1e-15) / j->rows[i]->time_median_s));
    }
    return GSL_SUCCESS;
}

/* Minimises the sum of squared log errors from x (p values, updated);
 * returns that sum, or -1 when there are too few rows or GSL fails. */
static double nls(const fit_job *j, double *x, int p)
{
    if (j->n < p + 1)
        return -1;
    gsl_multifit_nlinear_fdf fdf = {residuals, NULL, NULL, (size_t)j->n, (size_t)p, (void *)j, 0, 0, 0};
    gsl_multifit_nlinear_parameters params = gsl_multifit_nlinear_default_parameters();
    gsl_multifit_nlinear_workspace *w =
        gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &params, (size_t)j->n, (size_t)p);
    gsl_vector_view x0 = gsl_vector_view_array(x, (size_t)p);
    double cost = -1;
    int info;
    if (gsl_multifit_nlinear_init(&x0.vector, &fdf, w) == GSL_SUCCESS) {
        int st = gsl_multifit_nlinear_driver(200, 1e-10, 1e-10, 0, NULL, NULL, &info, w);
        if (st == GSL_SUCCESS || st == GSL_EMAXITER || st == GSL_ENOPROG) {
            gsl_vector *f = gsl_multifit_nlinear_residual(w);
            gsl_blas_ddot(f, f, &cost);
            memcpy(x, gsl_multifit_nlinear_position(w)->data, (size_t)p * sizeof *x);
        }
    }
    gsl_multifit_nlinear_free(w);
    return isfinite(cost) ? cost : -1;
}

/* ---- the families' models in fit parameters ------------------------------------ */

/* gemm:  x = log eff, k_extra / 256, log fixed_us;  ctx: the profile, tile in g */
typedef struct gemm_ctx {
    const calib_profile *p;
    calib_gemm_fit g;
} gemm_ctx;

static void gemm_from_x(const double *x, calib_gemm_fit *g)
{
    g->eff = exp(x[0]);
    g->k_extra = 256 * x[1];
    g->fixed_s = exp(x[2]) * US;
}

static double gemm_model(const double *x, const calib_meas *r, const void *ctx)
{
    const gemm_ctx *c = ctx;
    calib_gemm_fit g = c->g;
    gemm_from_x(x, &g);
    double k = fmax(r->k + g.k_extra, 1) - g.k_extra; /* k + k_extra stays >= 1 */
    return calib_gemm_s(c->p, &g, r->m, r->n, k, r->batch, r->bytes);
}

/* attention:  x = log eff, log fixed_us */
static double attn_model(const double *x, const calib_meas *r, const void *ctx)
{
    const gemm_ctx *c = ctx;
    calib_gemm_fit a = c->g;
    a.eff = exp(x[0]);
    a.fixed_s = exp(x[1]) * US;
    return calib_attention_s(c->p, &a, r->flops, r->bytes);
}

/* bandwidth:  x = log (bw / 1e9), log fixed_us */
static double bw_model(const double *x, const calib_meas *r, const void *ctx)
{
    (void)ctx;
    calib_bw_fit b = {1, 0, exp(x[0]) * 1e9, exp(x[1]) * US};
    return calib_bw_s(&b, r->bytes);
}

/* ---- selecting rows ------------------------------------------------------------ */

typedef struct row_set {
    const calib_meas **rows;
    int n;
} row_set;

typedef int (*row_pred)(const calib_meas *r, const calib_kernel *k, const void *arg);

static row_set select_rows(const calib_meas *rows, int n, int folds, int skip_fold,
                           row_pred pred, const void *arg)
{
    row_set s = {cs_xrealloc(NULL, ((size_t)n + 1) * sizeof *s.rows), 0};
    for (int i = 0; i < n; i++) {
        const calib_kernel *k = calib_kernel_find(rows[i].kernel, NULL);
        if (k && (skip_fold < 0 || calib_fold(&rows[i], folds) != skip_fold) && pred(&rows[i], k, arg))
            s.rows[s.n++] = &rows[i];
    }
    return s;
}

typedef struct kind_arg {
    calib_family family;
    int index;   /* -1: any */
    int dtype;   /* -1: any */
    int ranks;
} kind_arg;

static int is_kind(const calib_meas *r, const calib_kernel *k, const void *arg)
{
    const kind_arg *a = arg;
    return k->family == a->family && (a->index < 0 || k->index == a->index) &&
           (a->dtype < 0 || (int)r->dtype == a->dtype) &&
           (a->family != CALIB_COLLECTIVE || r->ranks == a->ranks);
}

/* ---- the fits ------------------------------------------------------------------- */

/* Bandwidth and fixed time of the rows; initial bandwidth from the largest. */
static int fit_bw(const row_set *s, calib_bw_fit *out)
{
    const calib_meas *big = NULL, *small = NULL;
    for (int i = 0; i < s->n; i++) {
        if (!big || s->rows[i]->bytes > big->bytes)
            big = s->rows[i];
        if (!small || s->rows[i]->time_median_s < small->time_median_s)
            small = s->rows[i];
    }
    if (!big)
        return -1;
    double x[2] = {log(big->bytes / big->time_median_s / 1e9), log(small->time_median_s / 2 / US)};
    fit_job j = {s->rows, s->n, bw_model, NULL};
    if (nls(&j, x, 2) < 0)
        return -1;
    *out = (calib_bw_fit){1, s->n, exp(x[0]) * 1e9, exp(x[1]) * US};
    return 0;
}

static const int tiles[][2] = {{128, 256}, {256, 128}, {128, 128}, {64, 128}, {256, 256}};
#define NTILES ((int)(sizeof tiles / sizeof tiles[0]))

/* eff, k_extra and fixed time for each candidate tile; keeps the best. */
static int fit_gemm(const row_set *s, const calib_profile *p, double peak, calib_gemm_fit *out)
{
    double best = -1;
    for (int t = 0; t < NTILES; t++) {
        gemm_ctx c = {p, {1, s->n, 0, 0, 0, tiles[t][0], tiles[t][1], peak}};
        double x[3] = {log(0.8), 0, log(5.0)};
        fit_job j = {s->rows, s->n, gemm_model, &c};
        double cost = nls(&j, x, 3);
        if (cost >= 0 && (best < 0 || cost < best)) {
            best = cost;
            gemm_from_x(x, &c.g);
            *out = c.g;
        }
    }
    return best < 0 ? -1 : 0;
}

static int fit_attention(const row_set *s, const calib_profile *p, double peak,
                         calib_gemm_fit *out)
{
    gemm_ctx c = {p, {1, s->n, 0, 0, 0, 0, 0, peak}};
    double x[2] = {log(0.5), log(5.0)};
    fit_job j = {s->rows, s->n, attn_model, &c};
    if (nls(&j, x, 2) < 0)
        return -1;
    c.g.eff = exp(x[0]);
    c.g.fixed_s = exp(x[1]) * US;
    *out = c.g;
    return 0;
}

typedef struct fit_env {
    const calib_meas *rows;
    int n, folds, skip;
} fit_env;

static int fit_kind(const fit_env *e, kind_arg a, calib_bw_fit *out)
{
    row_set s = select_rows(e->rows, e->n, e->folds, e->skip, is_kind, &a);
    int rc = s.n ? fit_bw(&s, out) : 0;
    free(s.rows);
    return rc;
}

static void fit_bandwidths(const fit_env *e, calib_profile *p)
{
    fit_kind(e, (kind_arg){CALIB_MEMBOUND, -1, -1, 0}, &p->membound);
    for (int i = 0; i < CALIB_NMEMKERNEL; i++)
        fit_kind(e, (kind_arg){CALIB_MEMBOUND, i, -1, 0}, &p->memkernel[i]);
    for (int i = 0; i < CALIB_NCOPY; i++)
        fit_kind(e, (kind_arg){CALIB_COPY, i, -1, 0}, &p->copy[i]);
}

/* One fit per (op, ranks) pair present, in order of first appearance. */
static void fit_collectives(const fit_env *e, calib_profile *p)
{
    for (int i = 0; i < e->n && p->ncoll < CALIB_MAX_COLL; i++) {
        const calib_kernel *k = calib_kernel_find(e->rows[i].kernel, NULL);
        if (!k || k->family != CALIB_COLLECTIVE || calib_coll_find(p, k->index, e->rows[i].ranks))
            continue;
        calib_bw_fit b = {0};
        if (fit_kind(e, (kind_arg){CALIB_COLLECTIVE, k->index, -1, e->rows[i].ranks}, &b) == 0 && b.have)
            p->coll[p->ncoll++] = (calib_coll_fit){k->index, e->rows[i].ranks, b.rows, b.fixed_s,
                                                   b.bw_bytes_per_s};
    }
}

/* The attention fit of one kernel's rows of data type d (have 0 without). */
static calib_gemm_fit fit_attention_of(const fit_env *e, const calib_profile *p, int d,
                                       calib_attn_source kernel, double peak)
{
    calib_gemm_fit f = {0};
    kind_arg a = {CALIB_ATTENTION, (int)kernel, d, 0};
    row_set s = select_rows(e->rows, e->n, e->folds, e->skip, is_kind, &a);
    if (s.n)
        fit_attention(&s, p, peak, &f); /* leaves f alone when it fails */
    free(s.rows);
    return f;
}

/* Estimates take sdpa_torch's fit where its rows exist: training runs
 * PyTorch's kernel, and ours is a slower reference tiling.  Our kernel's
 * fit is kept beside it to report. */
static void fit_attentions(const fit_env *e, calib_profile *p, int d, double peak)
{
    calib_gemm_fit own = fit_attention_of(e, p, d, CALIB_ATTN_OWN, peak);
    calib_gemm_fit sdpa = fit_attention_of(e, p, d, CALIB_ATTN_SDPA, peak);
    p->attention_source[d] = sdpa.have ? CALIB_ATTN_SDPA : CALIB_ATTN_OWN;
    p->attention[d] = sdpa.have ? sdpa : own;
    p->attention_own[d] = sdpa.have ? own : (calib_gemm_fit){0};
}

static void fit_compute(const fit_env *e, const dev_type *dev, calib_profile *p)
{
    for (int d = 0; d < CALIB_NDTYPE; d++) {
        double peak = calib_peak_flops(dev, (calib_dtype)d);
        if (peak <= 0)
            continue;
        kind_arg g = {CALIB_GEMM, -1, d, 0};
        row_set s = select_rows(e->rows, e->n, e->folds, e->skip, is_kind, &g);
        if (s.n && fit_gemm(&s, p, peak, &p->gemm[d]) != 0)
            p->gemm[d].have = 0;
        free(s.rows);
        fit_attentions(e, p, d, peak);
    }
}

int calib_fit(const calib_meas *rows, int n, int folds, int skip_fold, const dev_type *dev,
              const char *measured_on, calib_profile *p, cs_err *err)
{
    memset(p, 0, sizeof *p);
    snprintf(p->device, sizeof p->device, "%s", dev->name);
    snprintf(p->measured_on, sizeof p->measured_on, "%s", measured_on ? measured_on : "");
    p->sms = dev->sms;
    p->folds = folds;
    gsl_error_handler_t *old = gsl_set_error_handler_off();
    fit_env e = {rows, n, folds, skip_fold};
    fit_bandwidths(&e, p);
    if (p->membound.have) /* the roofline of compute kernels needs the bandwidth */
        fit_compute(&e, dev, p);
    fit_collectives(&e, p);
    gsl_set_error_handler(old);
    int any = p->membound.have || p->ncoll;
    for (int i = 0; i < CALIB_NCOPY; i++)
        any |= p->copy[i].have;
    if (!any)
        return cs_fail(err, "no kernel family had enough rows to fit (a fit of k parameters needs "
                            "k + 1 rows; matrix multiply and attention need memory-bound rows too)");
    return 0;
}

/* ---- folds and errors ----------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const void *data, size_t len)
{
    const unsigned char *b = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

int calib_fold(const calib_meas *r, int folds)
{
    char key[160];
    int len = snprintf(key, sizeof key, "%s|%s|%.0f|%.0f|%.0f|%.0f|%d|%.0f", r->kernel,
                       calib_dtype_name(r->dtype), r->m, r->n, r->k, r->batch, r->ranks, r->bytes);
    uint64_t h = fnv(1469598103934665603ull, key, (size_t)len);
    return folds > 1 ? (int)((h >> 17) % (uint64_t)folds) : 0;
}

const char *calib_group_name(int g)
{
    return g == CALIB_GROUP_SDPA ? "sdpa_torch" : calib_family_name((calib_family)g);
}

static int group_of(const calib_meas *r)
{
    const calib_kernel *k = calib_kernel_find(r->kernel, NULL);
    if (!k)
        return -1;
    int sdpa = k->family == CALIB_ATTENTION && k->index == CALIB_ATTN_SDPA;
    return sdpa ? CALIB_GROUP_SDPA : (int)k->family;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* errs[g] holds the absolute errors (%) of group g's rows. */
typedef struct err_lists {
    double *errs[CALIB_NGROUP];
    int n[CALIB_NGROUP];
} err_lists;

static double profile_predict_s(const void *ctx, const calib_profile *p, const calib_meas *r)
{
    (void)ctx;
    return calib_predict_s(p, r);
}

static void add_errors(const calib_profile *p, const calib_meas *rows, int n, int only_fold,
                       calib_predict_fn predict, const void *ctx, err_lists *l, int *unpredicted)
{
    for (int i = 0; i < n; i++) {
        int g = group_of(&rows[i]);
        if (g < 0 || (only_fold >= 0 && calib_fold(&rows[i], p->folds) != only_fold))
            continue;
        double pred = predict(ctx, p, &rows[i]);
        if (pred < 0) {
            (*unpredicted)++;
            continue;
        }
        l->errs[g] = cs_xrealloc(l->errs[g], (size_t)(l->n[g] + 1) * sizeof(double));
        l->errs[g][l->n[g]++] = 100 * fabs(pred - rows[i].time_median_s) / rows[i].time_median_s;
    }
}

static void summarize(err_lists *l, calib_summary *s)
{
    for (int g = 0; g < CALIB_NGROUP; g++) {
        int k = l->n[g];
        calib_group_err *e = &s->group[g];
        e->rows = k;
        if (k) {
            qsort(l->errs[g], (size_t)k, sizeof(double), cmp_double);
            e->median_pct = k % 2 ? l->errs[g][k / 2] : (l->errs[g][k / 2 - 1] + l->errs[g][k / 2]) / 2;
            e->max_pct = l->errs[g][k - 1];
        }
        free(l->errs[g]);
    }
}

void calib_validate(const calib_profile *p, const calib_meas *rows, int n, int only_fold,
                    calib_summary *s)
{
    calib_validate_with(p, rows, n, only_fold, profile_predict_s, NULL, s);
}

void calib_validate_with(const calib_profile *p, const calib_meas *rows, int n, int only_fold,
                         calib_predict_fn predict, const void *ctx, calib_summary *s)
{
    err_lists l = {{0}, {0}};
    memset(s, 0, sizeof *s);
    add_errors(p, rows, n, only_fold, predict, ctx, &l, &s->unpredicted);
    summarize(&l, s);
}

int calib_crossval(const calib_meas *rows, int n, int folds, const dev_type *dev,
                   calib_summary *s, cs_err *err)
{
    err_lists l = {{0}, {0}};
    memset(s, 0, sizeof *s);
    calib_profile *p = cs_xrealloc(NULL, sizeof *p);
    int rc = 0;
    for (int f = 0; f < folds && rc == 0; f++)
        if ((rc = calib_fit(rows, n, folds, f, dev, "", p, err)) == 0)
            add_errors(p, rows, n, f, profile_predict_s, NULL, &l, &s->unpredicted);
    free(p);
    summarize(&l, s);
    return rc;
}

/* ---- synthetic measurements ----------------------------------------------------- */

static double bus_factor(int op, int ranks)
{
    if (ranks < 2 || op == 4) /* one rank, or send/recv: the size itself */
        return 1;
    return op == 0 ? 2.0 * (ranks - 1) / ranks : (double)(ranks - 1) / ranks;
}

/* Our attention kernel runs on the tensor cores through WMMA, which cannot
 * issue Hopper's wgmma, and passes its scores and output through shared
 * memory: the truth of its rows is a fraction of the datasheet peak well
 * below FlashAttention's (an assumption until a GPU measures it). */
#define SYNTHETIC_OWN_ATTENTION_EFF 0.15

static void truth_own_attention(calib_profile *p)
{
    for (int d = 0; d < CALIB_NDTYPE; d++) {
        if (!p->attention[d].have)
            continue;
        p->attention_own[d] = p->attention[d];
        p->attention_own[d].eff = SYNTHETIC_OWN_ATTENTION_EFF;
        p->attention_source[d] = CALIB_ATTN_SDPA;
    }
}

void calib_synthetic_truth(const dev_type *dev, int ranks, calib_profile *p)
{
    calib_profile_default(dev, p);
    snprintf(p->measured_on, sizeof p->measured_on, "synthetic %s", dev->name);
    truth_own_attention(p);
    double pcie = dev_pcie_x16_bw_bytes_per_s(dev->pcie_gen);
    const double bw[CALIB_NCOPY] = {0.85 * pcie, 0.85 * pcie, 0.4 * pcie, 0.4 * pcie,
                                    0.9 * dev->hbm_bw_bytes_per_s};
    const double fixed_us[CALIB_NCOPY] = {8, 8, 15, 15, 4};
    for (int i = 0; i < CALIB_NCOPY; i++)
        p->copy[i] = (calib_bw_fit){1, 0, bw[i], fixed_us[i] * US};
    double link = ranks > 1 ? 0.8 * dev->nvlink_bw_bytes_per_s : 0.45 * dev->hbm_bw_bytes_per_s;
    for (int op = 0; op < CALIB_NCOLLOP; op++)
        p->coll[p->ncoll++] = (calib_coll_fit){op, ranks, 0, (5 + 10 * log2(ranks)) * US,
                                               link / bus_factor(op, ranks)};
}

typedef struct gen {
    calib_meas *rows;
    int n, cap;
    const calib_profile *truth;
    gsl_rng *rng;
    double noise;
} gen;

static void emit(gen *g, const char *kernel, calib_dtype d, const double shape[4], int ranks,
                 double bytes, double flops)
{
    calib_meas r = {"", d, shape[0], shape[1], shape[2], shape[3], ranks, bytes, flops, 0, 0, 0, 20, 0};
    snprintf(r.kernel, sizeof r.kernel, "%s", kernel);
    double t = calib_predict_s(g->truth, &r);
    if (t <= 0)
        return;
    r.time_median_s = t * exp(g->noise * gsl_ran_gaussian(g->rng, 1.0));
    r.time_min_s = r.time_median_s * (1 - g->noise);
    r.time_max_s = r.time_median_s * (1 + 2 * g->noise);
    CS_GROW(g->rows, g->cap, g->n + 1);
    g->rows[g->n++] = r;
}

static void emit_gemm(gen *g, const char *kernel, calib_dtype d, double m, double n, double k,
                      double batch)
{
    double eb = calib_dtype_bytes(d), out_eb = d == CALIB_FP8 ? 2 : eb;
    const double shape[4] = {m, n, k, batch};
    emit(g, kernel, d, shape, 0, batch * ((m * k + k * n) * eb + m * n * out_eb),
         2 * m * n * k * batch);
}

static void gen_gemm(gen *g, calib_dtype d)
{
    static const double hidden[] = {1024, 2048, 4096, 8192, 12288, 16384, 32768};
    static const double odd[][3] = {{256, 256, 256},    {512, 512, 512},     {1000, 1000, 1000},
                                    {4095, 4097, 4099}, {8191, 3001, 5003},  {2049, 12289, 4097},
                                    {333, 7777, 1234},  {777, 777, 777},     {8192, 8192, 8192}};
    for (int h = 0; h < 7; h++)
        for (double tokens = 2048; tokens <= 8192; tokens *= 4) {
            emit_gemm(g, "gemm", d, tokens, hidden[h], hidden[h], 1);
            emit_gemm(g, "gemm", d, tokens, 4 * hidden[h], hidden[h], 1);
            emit_gemm(g, "gemm", d, tokens, hidden[h], 4 * hidden[h], 1);
        }
    for (int i = 0; i < 9; i++)
        emit_gemm(g, "gemm", d, odd[i][0], odd[i][1], odd[i][2], 1);
    for (double k = 128; k <= 512; k *= 2) /* thin multiplies pin k_extra down */
        emit_gemm(g, "gemm", d, 8192, 8192, k, 1);
    for (double seq = 1024; seq <= 4096; seq *= 2)
        for (double bh = 32; bh <= 128; bh *= 4)
            for (double hd = 64; hd <= 128; hd *= 2) {
                emit_gemm(g, "gemm_batched", d, seq, seq, hd, bh);
                emit_gemm(g, "gemm_batched", d, seq, hd, seq, bh);
            }
}

static void gen_attention(gen *g, calib_dtype d)
{
    for (double seq = 512; seq <= 16384; seq *= 2)
        for (double hd = 64; hd <= 128; hd *= 2)
            for (double heads = 16; heads <= 32; heads *= 2) {
                double bh = fmax(1, 16384 / seq) * heads;
                const double shape[4] = {seq, seq, hd, bh};
                for (int kernel = CALIB_ATTN_OWN; kernel <= CALIB_ATTN_SDPA; kernel++)
                    emit(g, calib_attn_source_name((calib_attn_source)kernel), d, shape, 0,
                         4 * bh * seq * hd * calib_dtype_bytes(d), 4 * bh * seq * seq * hd);
            }
}

/* Bytes read plus written per element of each memory-bound kernel (bf16
 * activations; Adam: fp32 parameter, gradient and two moments). */
static const double mem_bytes_per_elem[CALIB_NMEMKERNEL] = {4, 4, 4, 6, 4, 28, 4};

static void gen_membound(gen *g)
{
    for (int kn = 0; kn < CALIB_NMEMKERNEL; kn++)
        for (double rows = 1024; rows <= 65536; rows *= 4)
            for (double cols = 1024; cols <= 16384; cols *= 2) {
                const double shape[4] = {rows, cols, 0, 1};
                emit(g, calib_memkernel_name(kn), kn == 5 ? CALIB_FP32 : CALIB_BF16, shape, 0,
                     rows * cols * mem_bytes_per_elem[kn], 0);
            }
}

static void gen_transfers(gen *g, int ranks)
{
    const double none[4] = {0, 0, 0, 1};
    for (int c = 0; c < CALIB_NCOPY; c++)
        for (double size = 4096; size <= 1024.0 * 1024 * 1024; size *= 4)
            emit(g, calib_copy_name(c), CALIB_BF16, none, 0, c == 4 ? 2 * size : size, 0);
    for (int op = 0; op < CALIB_NCOLLOP; op++)
        for (double size = 1024; size <= 8.0 * 1024 * 1024 * 1024; size *= 2)
            emit(g, calib_collop_name(op), CALIB_BF16, none, ranks, size, 0);
}

int calib_synthesize(const calib_profile *truth, int ranks, double noise, unsigned long seed,
                     calib_meas **rows, int *n, cs_err *err)
{
    if (ranks < 1 || noise < 0 || noise > 0.5)
        return cs_fail(err, "synthetic measurements need ranks >= 1 and noise in [0, 0.5]");
    gen g = {NULL, 0, 0, truth, gsl_rng_alloc(gsl_rng_mt19937), noise};
    gsl_rng_set(g.rng, seed);
    for (int d = CALIB_TF32; d < CALIB_NDTYPE; d++) {
        gen_gemm(&g, (calib_dtype)d);
        if (d == CALIB_BF16 || d == CALIB_FP16)
            gen_attention(&g, (calib_dtype)d);
    }
    gen_membound(&g);
    gen_transfers(&g, ranks);
    gsl_rng_free(g.rng);
    *rows = g.rows;
    *n = g.n;
    return 0;
}
