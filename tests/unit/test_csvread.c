/* Unit tests: CSV reading.  Comments and blank lines skipped, quoted fields
 * with commas, line numbers in errors, a missing file, a malformed quote. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "csvread.h"
#include "tap.h"

typedef struct seen {
    int rows, last_line, fields;
    char second[64];
} seen;

static int on_row(void *ctx, int line, char **f, int n, cs_err *err)
{
    seen *s = ctx;
    (void)err;
    s->rows++;
    s->last_line = line;
    s->fields = n;
    if (n > 1)
        snprintf(s->second, sizeof s->second, "%s", f[1]);
    return 0;
}

static int reject_line3(void *ctx, int line, char **f, int n, cs_err *err)
{
    (void)ctx, (void)f, (void)n;
    return line == 3 ? cs_fail(err, "line %d: rejected", line) : 0;
}

static const char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/cs_csvread_%d.csv", (int)getpid());
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

static void comments_and_quotes(void)
{
    const char *p = write_tmp("# source\na,b,c\n\n1,\"x, y\",3\n");
    seen s = {0};
    CHECK(csvread_file(p, on_row, &s, NULL) == 0);
    CHECK_EQ_INT(s.rows, 2);
    CHECK_EQ_INT(s.last_line, 4);
    CHECK_EQ_INT(s.fields, 3);
    CHECK(strcmp(s.second, "x, y") == 0);
    unlink(p);
}

static void errors_name_file_and_line(void)
{
    cs_err err;
    seen s = {0};
    CHECK(csvread_file("/nonexistent/x.csv", on_row, &s, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "/nonexistent/x.csv");
    const char *p = write_tmp("a,b\n1,2\n3,4\n");
    CHECK(csvread_file(p, reject_line3, NULL, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "line 3: rejected");
    CHECK_STR_CONTAINS(err.msg, p);
    p = write_tmp("a,b\n1,\"unterminated\n");
    CHECK(csvread_file(p, on_row, &s, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "line 2");
    unlink(p);
}

TAP_MAIN({"comments_and_quotes", comments_and_quotes},
         {"errors_name_file_and_line", errors_name_file_and_line})
