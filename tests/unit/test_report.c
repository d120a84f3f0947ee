/* Unit tests: staged reports.  Nothing is visible before commit; abort
 * leaves no file and removes a folder it created; names with '/' or a
 * leading '.' are refused; CSV fields are quoted only when they must be. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report.h"
#include "tap.h"

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static void make_dir(char *buf, size_t n)
{
    snprintf(buf, n, "/tmp/cs_report_%d", (int)getpid());
}

static void commit_makes_visible(void)
{
    char dir[64], path[128];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/a.csv", dir);
    report_set *r = report_new(dir);
    FILE *f = report_begin(r, "a.csv", NULL);
    CHECK(f != NULL);
    fputs("x\n1\n", f);
    CHECK(!exists(path));
    CHECK(report_commit(r, NULL) == 0);
    CHECK(exists(path));
    report_free(r);
    unlink(path);
    rmdir(dir);
}

static void abort_leaves_nothing(void)
{
    char dir[64];
    make_dir(dir, sizeof dir);
    report_set *r = report_new(dir);
    FILE *f = report_begin(r, "b.csv", NULL);
    CHECK(f != NULL);
    fputs("half", f);
    CHECK(exists(dir));
    report_abort(r);
    CHECK(!exists(dir));
    report_free(r);
}

static void bad_names(void)
{
    cs_err err;
    report_set *r = report_new("/tmp");
    CHECK(report_begin(r, "../x.csv", &err) == NULL);
    CHECK_STR_CONTAINS(err.msg, "plain file name");
    CHECK(report_begin(r, ".hidden", &err) == NULL);
    CHECK(report_begin(r, "", &err) == NULL);
    report_free(r);
}

static void csv_quoting(void)
{
    char buf[256] = {0};
    FILE *f = fmemopen(buf, sizeof buf, "w");
    report_csv_field(f, "plain");
    fputc(',', f);
    report_csv_field(f, "a,b");
    fputc(',', f);
    report_csv_field(f, "say \"hi\"");
    fclose(f);
    CHECK(strcmp(buf, "plain,\"a,b\",\"say \"\"hi\"\"\"") == 0);
}

TAP_MAIN({"commit_makes_visible", commit_makes_visible},
         {"abort_leaves_nothing", abort_leaves_nothing}, {"bad_names", bad_names},
         {"csv_quoting", csv_quoting})
