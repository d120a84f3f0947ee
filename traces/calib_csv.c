/* calib_csv: the measurements CSV (see calib_csv.h). */
#include "calib_csv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"
#include "csvread.h"

/* Ranks of a collective measurement: far beyond any cluster measured. */
#define CALIB_MAX_RANKS (1 << 24)

const char *const calib_csv_columns[CALIB_CSV_NCOLUMNS] = {
    "kernel", "dtype", "shape", "m", "n", "k", "batch", "ranks", "bytes", "flops",
    "time_median_us", "time_min_us", "time_max_us", "iterations"};

enum { C_KERNEL, C_DTYPE, C_SHAPE, C_M, C_N, C_K, C_BATCH, C_RANKS, C_BYTES, C_FLOPS, C_MED,
       C_MIN, C_MAX, C_ITERS };

typedef struct reader {
    int col[CALIB_CSV_NCOLUMNS]; /* field index of each column */
    int header_seen;
    calib_meas *rows;
    int n, cap;
} reader;

static int read_header(reader *r, int line, char **f, int nf, cs_err *err)
{
    for (int c = 0; c < CALIB_CSV_NCOLUMNS; c++) {
        r->col[c] = -1;
        for (int i = 0; i < nf; i++)
            if (strcmp(f[i], calib_csv_columns[c]) == 0)
                r->col[c] = i;
        if (r->col[c] < 0)
            return cs_fail(err, "line %d: missing column '%s' (the header needs %s, %s, ... "
                                "time_median_us; see docs/calibration.md)",
                           line, calib_csv_columns[c], calib_csv_columns[0], calib_csv_columns[1]);
    }
    r->header_seen = 1;
    return 0;
}

static int number(char **f, int nf, const reader *r, int c, int line, double *out, cs_err *err)
{
    int i = r->col[c];
    if (i >= nf)
        return cs_fail(err, "line %d: %d fields; column '%s' is field %d", line, nf,
                       calib_csv_columns[c], i + 1);
    if (csvread_number(f[i], out) != 0)
        return cs_fail(err, "line %d: column '%s': '%s' is not a number", line,
                       calib_csv_columns[c], f[i]);
    if (*out < 0)
        return cs_fail(err, "line %d: column '%s': %s is negative", line, calib_csv_columns[c], f[i]);
    return 0;
}

/* Counts go into ints and longs: whole numbers within their range (a
 * double beyond it does not convert). */
static int whole(double v, double max, int line, int c, cs_err *err)
{
    if (v != floor(v) || v > max)
        return cs_fail(err, "line %d: column '%s': %.17g is not a whole number up to %.0f", line,
                       calib_csv_columns[c], v, max);
    return 0;
}

static int read_numbers(char **f, int nf, const reader *r, int line, calib_meas *m, cs_err *err)
{
    double v[CALIB_CSV_NCOLUMNS];
    for (int c = C_M; c <= C_ITERS; c++)
        if (number(f, nf, r, c, line, &v[c], err) != 0)
            return -1;
    if (whole(v[C_RANKS], CALIB_MAX_RANKS, line, C_RANKS, err) != 0 ||
        whole(v[C_ITERS], 1e15, line, C_ITERS, err) != 0)
        return -1;
    *m = (calib_meas){"", 0, v[C_M], v[C_N], v[C_K], v[C_BATCH], (int)v[C_RANKS], v[C_BYTES],
                      v[C_FLOPS], v[C_MED] * 1e-6, v[C_MIN] * 1e-6, v[C_MAX] * 1e-6,
                      (long)v[C_ITERS], line};
    if (m->time_median_s <= 0)
        return cs_fail(err, "line %d: column 'time_median_us' must be above 0", line);
    return 0;
}

static int on_row(void *ctx, int line, char **f, int nf, cs_err *err)
{
    reader *r = ctx;
    if (!r->header_seen)
        return read_header(r, line, f, nf, err);
    for (int c = 0; c < CALIB_CSV_NCOLUMNS; c++) /* the text columns too */
        if (r->col[c] >= nf)
            return cs_fail(err, "line %d: %d fields; column '%s' is field %d", line, nf,
                           calib_csv_columns[c], r->col[c] + 1);
    calib_meas m;
    if (read_numbers(f, nf, r, line, &m, err) != 0)
        return -1;
    cs_err kerr;
    if (!calib_kernel_find(f[r->col[C_KERNEL]], &kerr))
        return cs_fail(err, "line %d: %s", line, kerr.msg);
    snprintf(m.kernel, sizeof m.kernel, "%s", f[r->col[C_KERNEL]]);
    if (calib_dtype_parse(f[r->col[C_DTYPE]], &m.dtype) != 0)
        return cs_fail(err, "line %d: unknown dtype '%s'; valid: fp32, tf32, bf16, fp16, fp8", line,
                       f[r->col[C_DTYPE]]);
    CS_GROW(r->rows, r->cap, r->n + 1);
    r->rows[r->n++] = m;
    return 0;
}

/* The "# key: value" lines of the file. */
static void read_devinfo(const char *path, calib_devinfo *info)
{
    memset(info, 0, sizeof *info);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        if (strncmp(line, "# device_name: ", 15) == 0)
            snprintf(info->name, sizeof info->name, "%.127s", line + 15);
        else if (strncmp(line, "# device_sms: ", 14) == 0)
            info->sms = atoi(line + 14);
        else if (strncmp(line, "# gpus: ", 8) == 0)
            info->gpus = atoi(line + 8);
    }
    fclose(f);
}

int calib_csv_read(const char *path, calib_meas **rows, int *n, calib_devinfo *info,
                   cs_err *err)
{
    reader r = {{0}, 0, NULL, 0, 0};
    *rows = NULL;
    *n = 0;
    if (csvread_file(path, on_row, &r, err) != 0) {
        free(r.rows);
        return -1;
    }
    if (!r.header_seen || r.n == 0) {
        free(r.rows);
        return cs_fail(err, "%s: line 1: %s", path,
                       r.header_seen ? "a header but no measurement rows" : "empty file (no header, no rows)");
    }
    read_devinfo(path, info);
    *rows = r.rows;
    *n = r.n;
    return 0;
}

void calib_csv_write(FILE *f, const calib_meas *rows, int n, const calib_devinfo *info)
{
    fprintf(f, "# clustersim-kernels measurements, format 1 (docs/calibration.md)\n"
               "# device_name: %s\n# device_sms: %d\n# gpus: %d\n",
            info->name, info->sms, info->gpus);
    for (int c = 0; c < CALIB_CSV_NCOLUMNS; c++)
        fprintf(f, "%s%s", c ? "," : "", calib_csv_columns[c]);
    fputc('\n', f);
    for (int i = 0; i < n; i++) {
        const calib_meas *r = &rows[i];
        fprintf(f, "%s,%s,%.0fx%.0fx%.0fx%.0f,%.0f,%.0f,%.0f,%.0f,%d,%.0f,%.6g,%.6g,%.6g,%.6g,%ld\n",
                r->kernel, calib_dtype_name(r->dtype), r->batch, r->m, r->n, r->k, r->m, r->n, r->k,
                r->batch, r->ranks, r->bytes, r->flops, r->time_median_s * 1e6, r->time_min_s * 1e6,
                r->time_max_s * 1e6, r->iterations);
    }
}
