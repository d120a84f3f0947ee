/* cli_calibrate: `clustersim calibrate` (fit a device profile to the
 * measurements kernels/ writes, or write synthetic ones) and
 * `clustersim validate kernels` (the profile's error on held-out rows). */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "calib_builtin.h"
#include "calib_csv.h"
#include "cli.h"
#include "profile.h"
#include "report.h"

#define CMD "calibrate"
#define VCMD "validate kernels"

static void calibrate_help(void)
{
    printf("usage: clustersim calibrate MEASUREMENTS.csv --out PROFILE.lua [--device NAME]\n"
           "                            [--folds K]\n"
           "       clustersim calibrate --synthetic OUT.csv [--device NAME] [--ranks N]\n"
           "                            [--noise SIGMA] [--seed N]\n\n"
           "Fits the device model to kernel measurements (the CSV kernels/clustersim-kernels\n"
           "writes): per data type the matrix multiply's efficiency, per-tile overhead, fixed\n"
           "time and tile; attention's efficiency (PyTorch's sdpa_torch rows feed estimates\n"
           "where measured, else our kernel's); achieved bandwidth and fixed time of the\n"
           "memory-bound kernels and copies; latency and bandwidth of each collective.  One\n"
           "fold in K (by a hash of kernel and shape) is held out of the fit; the errors on it\n"
           "and a K-fold cross-validation are printed.  The profile feeds estimate, faults and\n"
           "search (--device-profile) and scenarios (device_profile = FILE).\n\n"
           "  --out FILE        the profile to write (Lua)\n"
           "  --device NAME     catalog device measured (default: from '# device_name:')\n"
           "  --folds K         folds of the held-out split, 2..20 (default 5)\n"
           "  --synthetic FILE  write measurements drawn from the built-in model of the device\n"
           "                    (default h200), copies and collectives over --ranks GPUs\n"
           "                    (default 1), with log-normal noise --noise (default 0.02)\n"
           "Format, model and commands: docs/calibration.md.\n");
}

typedef struct cal_opts {
    const char *in, *out, *device, *synthetic;
    long folds, ranks, seed;
    double noise;
} cal_opts;

/* The catalog device of a measured name such as "NVIDIA H200". */
static const dev_type *device_of(const char *cmd, const char *given, const calib_devinfo *info,
                                 int *rc)
{
    cs_err err;
    *rc = CLI_BAD_INPUT;
    if (given) {
        const dev_type *d = dev_find(given, &err);
        if (!d)
            cli_bad_err(cmd, &err);
        return d;
    }
    char low[128];
    size_t i = 0;
    for (; info->name[i] && i < sizeof low - 1; i++)
        low[i] = (char)tolower((unsigned char)info->name[i]);
    low[i] = 0;
    static const char *const keys[] = {"h200", "h100", "a100", "v100"};
    for (int k = 0; k < 4; k++)
        if (strstr(low, keys[k])) {
            int a100_40 = k == 2 && strstr(low, "40gb");
            return dev_find(a100_40 ? "a100-40g" : keys[k], NULL);
        }
    cli_bad_input(cmd, "cannot tell the catalog device from '# device_name: %s'; give --device NAME "
                       "(see 'clustersim devices')", info->name[0] ? info->name : "(none)");
    return NULL;
}

static int parse_one(int c, const char *arg, void *ctx)
{
    cal_opts *o = ctx;
    switch (c) {
    case 'o': o->out = arg; return CLI_OK;
    case 'd': o->device = arg; return CLI_OK;
    case 's': o->synthetic = arg; return CLI_OK;
    case 'k': return cli_parse_int(CMD, "--folds", arg, 2, 20, &o->folds);
    case 'r': return cli_parse_int(CMD, "--ranks", arg, 1, 1 << 16, &o->ranks);
    case 'e': return cli_parse_int(CMD, "--seed", arg, 0, 1L << 40, &o->seed);
    default: /* 'n': 0 turns the noise off; otherwise a positive sigma */
        if (strcmp(arg, "0") == 0) {
            o->noise = 0;
            return CLI_OK;
        }
        return cli_parse_positive(CMD, "--noise", arg, &o->noise);
    }
}

static int parse_cal(int argc, char **argv, cal_opts *o)
{
    static const struct option opts[] = {
        {"out", required_argument, 0, 'o'},    {"device", required_argument, 0, 'd'},
        {"folds", required_argument, 0, 'k'},  {"synthetic", required_argument, 0, 's'},
        {"ranks", required_argument, 0, 'r'},  {"noise", required_argument, 0, 'n'},
        {"seed", required_argument, 0, 'e'},   {0, 0, 0, 0}};
    *o = (cal_opts){NULL, NULL, NULL, NULL, 5, 1, 1, 0.02};
    int first, rc;
    const cli_args args = {.first = &first};
    if ((rc = cli_getopt_each(CMD, argc, argv, opts, &args, parse_one, o)))
        return rc;
    if (first < argc)
        o->in = argv[first++];
    if (first < argc)
        return cli_bad_input(CMD, "unexpected argument '%s'", argv[first]);
    if (o->synthetic)
        return o->in || o->out ? cli_bad_input(CMD, "--synthetic writes measurements; it takes no "
                                                    "MEASUREMENTS.csv and no --out")
                               : CLI_OK;
    if (!o->in || !o->out)
        return cli_bad_input(CMD, "give MEASUREMENTS.csv and --out PROFILE.lua (see --help)");
    return CLI_OK;
}

/* ---- printing ------------------------------------------------------------------- */

static void print_fit(const char *what, int d, const calib_gemm_fit *g, int tiles)
{
    printf("  %-18s %-5s eff %.3f of %.1f TFLOP/s, fixed %.2f us", what,
           calib_dtype_name((calib_dtype)d), g->eff, g->peak_flops_per_s / 1e12, g->fixed_s * 1e6);
    if (tiles)
        printf(", k_extra %.1f, tile %dx%d", g->k_extra, g->tile_m, g->tile_n);
    printf(" (%d rows)\n", g->rows);
}

static void print_gemm(const calib_gemm_fit *g)
{
    for (int d = 0; d < CALIB_NDTYPE; d++)
        if (g[d].have)
            print_fit("gemm", d, &g[d], 1);
}

/* Each kernel's fit under its name, and which one estimates use. */
static void print_attention(const calib_profile *p)
{
    char used[160] = "";
    for (int d = 0; d < CALIB_NDTYPE; d++) {
        if (p->attention_own[d].have)
            print_fit(calib_attn_source_name(CALIB_ATTN_OWN), d, &p->attention_own[d], 0);
        if (!p->attention[d].have)
            continue;
        print_fit(calib_attn_source_name(p->attention_source[d]), d, &p->attention[d], 0);
        size_t len = strlen(used);
        snprintf(used + len, sizeof used - len, "%s%s %s", len ? ", " : "",
                 calib_dtype_name((calib_dtype)d), calib_attn_source_name(p->attention_source[d]));
    }
    if (used[0])
        printf("  %-18s       %s (the fit estimates use)\n", "attention source", used);
}

static void print_bw(const char *what, const calib_bw_fit *b)
{
    if (b->have)
        printf("  %-18s       %.4g GB/s, fixed %.2f us (%d rows)\n", what, b->bw_bytes_per_s / 1e9,
               b->fixed_s * 1e6, b->rows);
}

static void print_profile(const calib_profile *p)
{
    print_gemm(p->gemm);
    print_attention(p);
    print_bw("membound (pooled)", &p->membound);
    for (int i = 0; i < CALIB_NMEMKERNEL; i++)
        print_bw(calib_memkernel_name(i), &p->memkernel[i]);
    for (int i = 0; i < CALIB_NCOPY; i++)
        print_bw(calib_copy_name(i), &p->copy[i]);
    for (int i = 0; i < p->ncoll; i++) {
        const calib_coll_fit *c = &p->coll[i];
        printf("  %-13s x%-4d       latency %.2f us, algbw %.4g GB/s (%d rows)\n",
               calib_collop_name(c->op), c->ranks, c->latency_s * 1e6, c->algbw_bytes_per_s / 1e9,
               c->rows);
    }
}

/* Aim of issue 6 per group: median held-out error within 5% (matrix
 * multiply) and 10% (bandwidth-bound kernels). */
static const char *aim_of(int g)
{
    return g == CALIB_GEMM ? "5" : g == CALIB_MEMBOUND ? "10" : NULL;
}

static void print_errors(const calib_summary *s)
{
    printf("  %-12s %6s %14s %11s  %s\n", "family", "rows", "median_err_pct", "max_err_pct", "aim");
    for (int g = 0; g < CALIB_NGROUP; g++) {
        const calib_group_err *e = &s->group[g];
        if (!e->rows)
            continue;
        const char *aim = aim_of(g);
        char verdict[48] = "-";
        if (aim)
            snprintf(verdict, sizeof verdict, "median <= %s%%: %s", aim,
                     e->median_pct <= atof(aim) ? "met" : "NOT met");
        printf("  %-12s %6d %14.2f %11.2f  %s\n", calib_group_name(g), e->rows, e->median_pct,
               e->max_pct, verdict);
    }
    if (s->unpredicted)
        printf("  (%d rows of kernels it has no figure for)\n", s->unpredicted);
}

/* ---- calibrate ------------------------------------------------------------------ */

static int write_synthetic(const cal_opts *o)
{
    int rc;
    calib_devinfo info = {"", 0, (int)o->ranks};
    const dev_type *dev = device_of(CMD, o->device ? o->device : "h200", &info, &rc);
    if (!dev)
        return rc;
    calib_profile truth;
    calib_synthetic_truth(dev, (int)o->ranks, &truth);
    snprintf(info.name, sizeof info.name, "synthetic %s", dev->name);
    info.sms = dev->sms;
    calib_meas *rows = NULL;
    int n = 0;
    cs_err err;
    FILE *f = NULL;
    report_set *r = NULL;
    if (calib_synthesize(&truth, (int)o->ranks, o->noise, (unsigned long)o->seed, &rows, &n, &err) == 0) {
        const char *name;
        r = report_for_path(o->synthetic, &name);
        f = report_begin(r, name, &err);
    }
    if (f)
        calib_csv_write(f, rows, n, &info);
    rc = f && report_commit(r, &err) == 0 ? CLI_OK : cli_bad_err(CMD, &err);
    if (rc == CLI_OK)
        fprintf(stderr, "wrote %s (%d rows)\n", o->synthetic, n);
    if (r)
        report_free(r);
    free(rows);
    return rc;
}

/* Fits on all folds but 0, then cross-validates; prints both and saves. */
static int fit_and_save(const cal_opts *o, const calib_meas *rows, int n, const dev_type *dev,
                        const calib_devinfo *info)
{
    calib_profile *p = malloc(sizeof *p);
    if (!p)
        abort();
    calib_summary held, cv;
    cs_err err;
    int rc = calib_fit(rows, n, (int)o->folds, 0, dev, info->name, p, &err);
    if (rc == 0)
        rc = calib_crossval(rows, n, (int)o->folds, dev, &cv, &err);
    if (rc == 0) {
        calib_validate(p, rows, n, 0, &held);
        printf("fitted on the rows outside fold 0:\n");
        print_profile(p);
        printf("\nheld-out errors (fold 0 of %ld, rows the profile did not see):\n", o->folds);
        print_errors(&held);
        printf("\n%ld-fold cross-validation (each fold predicted by a fit on the others):\n", o->folds);
        print_errors(&cv);
        rc = profile_save(o->out, p, o->in, &held, &err);
    }
    free(p);
    if (rc != 0)
        return cli_bad_err(CMD, &err);
    fprintf(stderr, "wrote %s\n", o->out);
    return CLI_OK;
}

int cmd_calibrate(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        calibrate_help();
        return CLI_OK;
    }
    cal_opts o;
    int rc = parse_cal(argc, argv, &o);
    if (rc != CLI_OK)
        return rc;
    if (o.synthetic)
        return write_synthetic(&o);
    calib_meas *rows;
    int n;
    calib_devinfo info;
    cs_err err;
    if (calib_csv_read(o.in, &rows, &n, &info, &err) != 0)
        return cli_bad_err(CMD, &err);
    const dev_type *dev = device_of(CMD, o.device, &info, &rc);
    if (dev) {
        dev_type measured = *dev; /* waves count the SMs the measured GPU has */
        if (info.sms > 0)
            measured.sms = info.sms;
        printf("calibrate: %d rows of %s, measured on %s (%s, %d SMs)\n", n, o.in,
               info.name[0] ? info.name : "(unnamed)", dev->name, measured.sms);
        rc = fit_and_save(&o, rows, n, &measured, &info);
    }
    free(rows);
    return rc;
}

/* ---- validate kernels ----------------------------------------------------------- */

static void validate_kernels_help(void)
{
    printf("usage: clustersim validate kernels MEASUREMENTS.csv --profile PROFILE.lua [--all-rows]\n"
           "       clustersim validate kernels MEASUREMENTS.csv --builtin [--device NAME]\n\n"
           "The profile's error per kernel family on the measurements it was not fitted on:\n"
           "the held-out fold (fold 0 of the profile's folds, as calibrate split them), or\n"
           "with --all-rows every row (for measurements from another run).  Prints rows,\n"
           "median and maximum absolute error |predicted - measured| / measured in percent.\n\n"
           "--builtin: the built-in model's error instead (what estimates use without\n"
           "--device-profile), on every row, for the device the measurements name (or\n"
           "--device NAME, see 'clustersim devices').  It has kernel times for matrix\n"
           "multiply, attention and memory-bound kernels; copies and collectives are\n"
           "counted as rows it has no figure for.\n");
}

typedef struct vk_opts {
    const char *profile, *device;
    int all;     /* --all-rows */
    int builtin; /* --builtin */
} vk_opts;

static int parse_vk(int c, const char *arg, void *ctx)
{
    vk_opts *o = ctx;
    switch (c) {
    case 'p': o->profile = arg; break;
    case 'd': o->device = arg; break;
    case 'b': o->builtin = 1; break;
    default: o->all = 1;
    }
    return CLI_OK;
}

static int parse_vk_opts(int argc, char **argv, vk_opts *o, const char **csv)
{
    static const struct option opts[] = {{"profile", required_argument, 0, 'p'},
                                         {"all-rows", no_argument, 0, 'a'},
                                         {"builtin", no_argument, 0, 'b'},
                                         {"device", required_argument, 0, 'd'},
                                         {0, 0, 0, 0}};
    *o = (vk_opts){NULL, NULL, 0, 0};
    int first, rc;
    const cli_args args = {.first = &first};
    if ((rc = cli_getopt_each(VCMD, argc, argv, opts, &args, parse_vk, o)))
        return rc;
    if (first != argc - 1 || !o->profile == !o->builtin)
        return cli_bad_input(VCMD, "give MEASUREMENTS.csv and either --profile PROFILE.lua or "
                                   "--builtin (see --help)");
    if (o->device && !o->builtin)
        return cli_bad_input(VCMD, "--device goes with --builtin; a profile names its device");
    if (o->builtin && o->all)
        return cli_bad_input(VCMD, "--builtin checks every row already; drop --all-rows");
    *csv = argv[first];
    return CLI_OK;
}

/* The profile to check: the one given, or the built-in model of the
 * measured device.  Reads the measurements too. */
static int vk_load(const vk_opts *o, const char *csv, calib_profile *p, calib_meas **rows, int *n,
                   const dev_type **builtin_dev)
{
    calib_devinfo info;
    cs_err err;
    if (calib_csv_read(csv, rows, n, &info, &err) != 0)
        return cli_bad_err(VCMD, &err);
    int rc = CLI_OK;
    const dev_type *dev = NULL;
    if (!o->builtin && profile_load(o->profile, p, &err) != 0)
        rc = cli_bad_err(VCMD, &err);
    else if (o->builtin && (dev = device_of(VCMD, o->device, &info, &rc)) != NULL)
        calib_profile_default(dev, p), rc = CLI_OK;
    *builtin_dev = dev;
    if (rc != CLI_OK)
        free(*rows);
    return rc;
}

int cmd_validate_kernels(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        validate_kernels_help();
        return CLI_OK;
    }
    vk_opts o;
    const char *csv = NULL;
    int rc, n;
    if ((rc = parse_vk_opts(argc, argv, &o, &csv)))
        return rc;
    calib_profile p;
    calib_meas *rows;
    const dev_type *dev = NULL;
    if ((rc = vk_load(&o, csv, &p, &rows, &n, &dev)))
        return rc;
    o.all = o.all || o.builtin;
    calib_summary s;
    if (o.builtin) /* the kernel times estimates use: per-device tiles, split-K */
        calib_validate_with(&p, rows, n, -1, calib_builtin_predict_s, dev, &s);
    else
        calib_validate(&p, rows, n, o.all ? -1 : 0, &s);
    printf("validate kernels: %s (%s, measured on %s) against %s, %s\n",
           o.builtin ? "the built-in model" : o.profile, p.device, p.measured_on, csv,
           o.all ? "every row" : "held-out fold 0");
    int used = s.unpredicted;
    for (int g = 0; g < CALIB_NGROUP; g++)
        used += s.group[g].rows;
    printf("  %d of %d rows\n", used, n);
    print_errors(&s);
    free(rows);
    return CLI_OK;
}
