/* csvread: libcsv driven line by line so that comment lines can be skipped
 * and every row knows its line number. */
#include "csvread.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct reader {
    char *fields[CSVREAD_MAX_FIELDS];
    int n, line, too_many, failed;
    csvread_row_fn row;
    void *ctx;
    cs_err *err;
} reader;

static void on_field(void *data, size_t len, void *vr)
{
    reader *r = vr;
    if (r->n == CSVREAD_MAX_FIELDS) {
        r->too_many = 1;
        return;
    }
    char *f = malloc(len + 1);
    if (!f)
        abort();
    memcpy(f, data, len);
    f[len] = 0;
    r->fields[r->n++] = f;
}

static void clear_fields(reader *r)
{
    for (int i = 0; i < r->n; i++)
        free(r->fields[i]);
    r->n = 0;
}

static void on_row(int term, void *vr)
{
    (void)term;
    reader *r = vr;
    if (!r->failed && r->too_many) {
        cs_fail(r->err, "line %d: more than %d fields", r->line, CSVREAD_MAX_FIELDS);
        r->failed = 1;
    } else if (!r->failed && r->row(r->ctx, r->line, r->fields, r->n, r->err) != 0)
        r->failed = 1;
    r->too_many = 0;
    clear_fields(r);
}

/* libcsv's own words ("error parsing data while strict checking enabled")
 * say nothing a user can act on. */
static int parse_failed(struct csv_parser *p, reader *r)
{
    int e = csv_error(p);
    return cs_fail(r->err, "line %d: %s", r->line,
                   e == CSV_EPARSE ? "a quoted field must end on its own line, with any quote "
                                     "inside it doubled (\"\")"
                   : e == CSV_ETOOBIG ? "the line is too long"
                                      : csv_strerror(e));
}

static int parse_line(struct csv_parser *p, reader *r, const char *line, size_t len)
{
    if (csv_parse(p, line, len, on_field, on_row, r) != len)
        return parse_failed(p, r);
    if (csv_fini(p, on_field, on_row, r) != 0)
        return parse_failed(p, r);
    return r->failed ? -1 : 0;
}

int csvread_number(const char *text, double *out)
{
    /* decimal only: strtod also reads 0x10 (16), inf, nan and leading blanks */
    if (!*text || text[strspn(text, "0123456789.eE+-")] != '\0')
        return -1;
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end || errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* A folder opens for reading but reads as nothing: say what it is. */
static int check_regular(const char *path, cs_err *err)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return cs_fail(err, "cannot open '%s': %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return cs_fail(err, "'%s' is a folder, not a file", path);
    return 0;
}

int csvread_file(const char *path, csvread_row_fn row, void *ctx, cs_err *err)
{
    if (check_regular(path, err) != 0)
        return -1;
    FILE *f = fopen(path, "r");
    if (!f)
        return cs_fail(err, "cannot open '%s': %s", path, strerror(errno));
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_APPEND_NULL | CSV_STRICT_FINI) != 0)
        abort();
    reader r = {.row = row, .ctx = ctx, .err = err};
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, f)) >= 0) {
        r.line++;
        if (r.line == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0) { /* a UTF-8 BOM */
            memmove(line, line + 3, (size_t)len - 2);
            len -= 3;
        }
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        if (len == 0 || line[0] == '#')
            continue;
        rc = parse_line(&p, &r, line, (size_t)len);
    }
    if (rc == 0 && ferror(f))
        rc = cs_fail(err, "line %d: cannot read: %s", r.line + 1, strerror(errno));
    clear_fields(&r);
    csv_free(&p);
    free(line);
    fclose(f);
    if (rc != 0)
        return cs_fail_prefix(err, "%s: ", path);
    return 0;
}
