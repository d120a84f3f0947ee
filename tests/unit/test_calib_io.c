/* Unit tests: the measurements CSV and the profile file.
 *   Written measurements read back row for row with the device lines;
 *   a missing column, text in a number, a negative size, an unknown kernel
 *   and an empty file are errors naming the file and line; a profile
 *   written and loaded back is the same profile and predicts the same
 *   times; a broken profile names the key. */
#include <stdlib.h>
#include <unistd.h>

#include "calib_csv.h"
#include "profile.h"
#include "tap.h"

static char tmpdir[] = "/tmp/test_calib_io.XXXXXX";

static const char *path_of(const char *name)
{
    static char p[256];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    return p;
}

static const char *write_file(const char *name, const char *text)
{
    const char *p = path_of(name);
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
    return p;
}

static void csv_round_trip(void)
{
    calib_profile truth;
    calib_synthetic_truth(dev_find("h200", NULL), 1, &truth);
    calib_meas *rows, *back;
    int n, nb;
    cs_err err;
    CHECK(calib_synthesize(&truth, 1, 0.01, 3, &rows, &n, &err) == 0);
    const char *p = path_of("m.csv");
    FILE *f = fopen(p, "w");
    calib_devinfo info = {"NVIDIA H200", 132, 1}, got;
    calib_csv_write(f, rows, n, &info);
    fclose(f);
    CHECK(calib_csv_read(p, &back, &nb, &got, &err) == 0);
    CHECK_EQ_INT(nb, n);
    CHECK(strcmp(got.name, "NVIDIA H200") == 0);
    CHECK_EQ_INT(got.sms, 132);
    for (int i = 0; i < n && i < nb; i++) {
        CHECK(strcmp(back[i].kernel, rows[i].kernel) == 0);
        CHECK_REL(back[i].time_median_s, rows[i].time_median_s, 1e-5);
        CHECK_REL(back[i].bytes, rows[i].bytes, 1e-12);
        CHECK_EQ_INT(calib_fold(&back[i], 5), calib_fold(&rows[i], 5));
    }
    CHECK_EQ_INT(back[1].line, 7); /* 4 comment lines and the header come first */
    free(rows);
    free(back);
}

#define HEAD "kernel,dtype,shape,m,n,k,batch,ranks,bytes,flops,time_median_us,time_min_us,time_max_us,iterations\n"

static void expect_error(const char *name, const char *text, const char *want)
{
    calib_meas *rows = NULL;
    int n;
    calib_devinfo info;
    cs_err err = {""};
    CHECK(calib_csv_read(write_file(name, text), &rows, &n, &info, &err) != 0);
    CHECK(rows == NULL);
    CHECK_STR_CONTAINS(err.msg, name);
    CHECK_STR_CONTAINS(err.msg, want);
}

static void csv_errors(void)
{
    expect_error("nocol.csv", "# device_name: x\nkernel,dtype,shape,m,n,k,batch,ranks,bytes,"
                 "time_median_us,time_min_us,time_max_us,iterations\n",
                 "line 2: missing column 'flops'");
    expect_error("text.csv", HEAD "gemm,bf16,s,8,8,8,1,0,384,1024,abc,1,1,10\n",
                 "line 2: column 'time_median_us': 'abc' is not a number");
    expect_error("neg.csv", HEAD "gemm,bf16,s,8,8,8,1,0,-5,1024,1,1,1,10\n",
                 "line 2: column 'bytes': -5 is negative");
    expect_error("zero.csv", HEAD "gemm,bf16,s,8,8,8,1,0,5,1024,0,0,0,10\n",
                 "line 2: column 'time_median_us' must be above 0");
    expect_error("kern.csv", HEAD "gemmm,bf16,s,8,8,8,1,0,5,1024,1,1,1,10\n",
                 "line 2: unknown kernel 'gemmm'");
    expect_error("dtype.csv", HEAD "gemm,bf17,s,8,8,8,1,0,5,1024,1,1,1,10\n",
                 "line 2: unknown dtype 'bf17'");
    expect_error("short.csv", HEAD "gemm,bf16,s,8,8\n", "line 2: 5 fields");
    expect_error("empty.csv", "", "line 1: empty file");
    expect_error("header.csv", "# just a comment\n" HEAD, "a header but no measurement rows");
}

static void profile_round_trip(void)
{
    calib_profile truth, fit, back;
    calib_synthetic_truth(dev_find("h200", NULL), 8, &truth);
    calib_meas *rows;
    int n;
    cs_err err;
    CHECK(calib_synthesize(&truth, 8, 0.02, 5, &rows, &n, &err) == 0);
    CHECK(calib_fit(rows, n, 5, 0, dev_find("h200", NULL), "NVIDIA \"H200\"", &fit, &err) == 0);
    calib_summary s;
    calib_validate(&fit, rows, n, 0, &s);
    const char *p = path_of("profile.lua");
    CHECK(profile_save(p, &fit, "m.csv", &s, &err) == 0);
    CHECK(profile_load(p, &back, &err) == 0);
    CHECK(strcmp(back.measured_on, fit.measured_on) == 0);
    CHECK_EQ_INT(back.ncoll, fit.ncoll);
    CHECK_EQ_INT(back.gemm[CALIB_BF16].tile_n, fit.gemm[CALIB_BF16].tile_n);
    CHECK(back.attention_source[CALIB_BF16] == CALIB_ATTN_SDPA);
    CHECK_REL(back.attention_own[CALIB_BF16].eff, fit.attention_own[CALIB_BF16].eff, 1e-9);
    for (int i = 0; i < n; i++)
        CHECK_REL(calib_predict_s(&back, &rows[i]), calib_predict_s(&fit, &rows[i]), 1e-9);
    free(rows);
}

/* A profile from before attention_source and attention_own: its attention
 * fit is our kernel's and predicts both kernels' rows, as it did. */
static void older_profile_loads(void)
{
    calib_profile p;
    cs_err err;
    const char *path = write_file("old.lua", "return { format = 1, device = 'H200-SXM-141GB', "
                                             "measured_on = 'x', sms = 132, folds = 5,\n"
                                             " attention = { bf16 = { eff = 0.05, fixed_s = 2e-6,"
                                             " peak_flops_per_s = 989.4e12, rows = 9 } },\n"
                                             " membound = { bw_bytes_per_s = 4.3e12, fixed_s = 2e-6,"
                                             " rows = 9 } }");
    CHECK(profile_load(path, &p, &err) == 0);
    CHECK(p.attention_source[CALIB_BF16] == CALIB_ATTN_OWN && !p.attention_own[CALIB_BF16].have);
    calib_meas r = {"sdpa_torch", CALIB_BF16, 4096, 4096, 128, 32, 0, 1e6, 1e12, 1, 1, 1, 10, 0};
    CHECK_REL(calib_predict_s(&p, &r), 1e12 / (989.4e12 * 0.05) + 2e-6, 1e-12);
    CHECK(profile_load(write_file("src.lua", "return { format = 1, device = 'x', measured_on = 'y',"
                                             " sms = 132, folds = 5, attention_source = { bf16 ="
                                             " 'flash' } }"),
                       &p, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "key 'attention_source.bf16': must be \"attention\"");
}

static void profile_errors(void)
{
    calib_profile p;
    cs_err err;
    CHECK(profile_load(write_file("bad1.lua", "return { format = 1, device = 'x', measured_on = 'y',"
                                              " sms = 132, folds = 5, membound = { bw_bytes_per_s = -1,"
                                              " fixed_s = 0, rows = 3 } }"),
                       &p, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "key 'membound.bw_bytes_per_s': must be a number > 0");
    CHECK(profile_load(write_file("bad2.lua", "return {\n format = 1,\n os.exit(1) }"), &p, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "bad2.lua:3:");
    CHECK(profile_load(write_file("bad3.lua", "return 5"), &p, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "returns a table");
    CHECK(profile_load(path_of("missing.lua"), &p, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "missing.lua");
}

int main(void)
{
    if (!mkdtemp(tmpdir))
        return 1;
    static const tap_case cases[] = {
        {"measurements are written and read back", csv_round_trip},
        {"malformed measurement files name the file and line", csv_errors},
        {"a profile is written and loaded back unchanged", profile_round_trip},
        {"a broken profile names the key or line", profile_errors},
        {"a profile without attention_source loads as before", older_profile_loads},
    };
    int rc = tap_run(cases, sizeof cases / sizeof cases[0]);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd) != 0)
        rc = 1;
    return rc;
}
