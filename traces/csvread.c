/* csvread: libcsv driven line by line so that comment lines can be skipped
 * and every row knows its line number. */
#include "csvread.h"

#include <csv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int parse_line(struct csv_parser *p, reader *r, const char *line, size_t len)
{
    if (csv_parse(p, line, len, on_field, on_row, r) != len)
        return cs_fail(r->err, "line %d: %s", r->line, csv_strerror(csv_error(p)));
    if (csv_fini(p, on_field, on_row, r) != 0)
        return cs_fail(r->err, "line %d: %s", r->line, csv_strerror(csv_error(p)));
    return r->failed ? -1 : 0;
}

int csvread_file(const char *path, csvread_row_fn row, void *ctx, cs_err *err)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return cs_fail(err, "cannot open '%s'", path);
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
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = 0;
        if (len == 0 || line[0] == '#')
            continue;
        rc = parse_line(&p, &r, line, (size_t)len);
    }
    clear_fields(&r);
    csv_free(&p);
    free(line);
    fclose(f);
    if (rc != 0)
        return cs_fail_prefix(err, "%s: ", path);
    return 0;
}
