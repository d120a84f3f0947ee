/* sweep_csv: a sweep's rows, appended whole (see sweep_csv.h). */
#include "sweep_csv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"

static char *read_all(const char *path, size_t *len, int *missing, cs_err *err)
{
    FILE *f = fopen(path, "rb");
    *missing = !f && errno == ENOENT;
    if (!f) {
        if (!*missing)
            cs_fail(err, "cannot read '%s' to resume: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t cap = 0;
    *len = 0;
    for (;;) {
        if (*len + 65536 > cap && !(buf = realloc(buf, cap = 2 * cap + 65536)))
            abort();
        size_t got = fread(buf + *len, 1, cap - *len - 1, f);
        *len += got;
        if (got == 0)
            break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        cs_fail(err, "cannot read '%s' to resume", path);
        return NULL;
    }
    buf[*len] = '\0';
    return buf;
}

/* Row k (1-based) must start with "k,". */
static int check_rows(const char *path, const char *body, long *rows, cs_err *err)
{
    *rows = 0;
    for (const char *p = body; *p; p = strchr(p, '\n') + 1) {
        char *end;
        long k = strtol(p, &end, 10);
        if (end == p || *end != ',' || k != *rows + 1)
            return cs_fail(err, "%s:%ld: expected the row of point %ld; the file was not written "
                                "by this sweep (remove it, or run without --resume)",
                           path, *rows + 2, *rows + 1);
        (*rows)++;
    }
    return 0;
}

int sweep_csv_resume(const char *path, const char *head, long *rows, char **results, cs_err *err)
{
    size_t len;
    int missing;
    *rows = 0, *results = NULL;
    char *buf = read_all(path, &len, &missing, err);
    if (!buf)
        return missing ? 0 : -1;
    char *last = strrchr(buf, '\n');
    size_t whole = last ? (size_t)(last - buf) + 1 : 0;
    if (whole < len && truncate(path, (off_t)whole) != 0) { /* a partial last line */
        free(buf);
        return cs_fail(err, "cannot truncate '%s' to its last whole row: %s", path, strerror(errno));
    }
    buf[whole] = '\0';
    int rc = 0;
    size_t hl = strlen(head);
    if (whole == 0) {
        /* nothing kept: start over */
    } else if (strncmp(buf, head, hl) != 0 || (buf[hl] != ',' && buf[hl] != '\n')) {
        rc = cs_fail(err, "%s:1: the header is not this sweep's (its points have other "
                          "arguments); remove the file, or run without --resume", path);
    } else {
        char *nl = strchr(buf, '\n');
        *nl = '\0';
        *results = strdup(buf[hl] == ',' ? buf + hl + 1 : "");
        rc = check_rows(path, nl + 1, rows, err);
    }
    free(buf);
    if (rc != 0) {
        free(*results);
        *results = NULL;
    }
    return rc;
}

int sweep_csv_open(sweep_csv *o, const char *path, int append, cs_err *err)
{
    o->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | (append ? 0 : O_TRUNC), 0666);
    return o->fd < 0 ? cs_fail(err, "cannot write '%s': %s", path, strerror(errno)) : 0;
}

char *sweep_csv_format(const char *const *fields, int n)
{
    char *line = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&line, &len);
    if (!m)
        abort();
    for (int i = 0; i < n; i++) {
        char *one = strdup(fields[i] ? fields[i] : "");
        for (char *p = one; *p; p++)
            if (*p == '\n' || *p == '\r')
                *p = ' ';
        if (i)
            fputc(',', m);
        report_csv_field(m, one);
        free(one);
    }
    fclose(m);
    return line;
}

int sweep_csv_line(sweep_csv *o, const char *const *fields, int n, cs_err *err)
{
    char *line = sweep_csv_format(fields, n);
    size_t len = strlen(line);
    line[len] = '\n'; /* open_memstream leaves room for its NUL */
    ssize_t w = write(o->fd, line, len + 1);
    free(line);
    return w == (ssize_t)len + 1 ? 0 : cs_fail(err, "writing a sweep row failed: %s", strerror(errno));
}

void sweep_csv_close(sweep_csv *o)
{
    if (o->fd >= 0)
        close(o->fd);
    o->fd = -1;
}
