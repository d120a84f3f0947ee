/* faultlog: reading a log of interruptions (see faultlog.h). */
#include "faultlog.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"
#include "csvread.h"
#include "faultmodel.h"

typedef struct reader {
    int col_time, col_kind, col_component;
    double time_scale;       /* to seconds */
    faultlog *log;
    int cap;
} reader;

static int header(reader *r, int line, char **f, int nf, cs_err *err)
{
    r->col_time = r->col_kind = r->col_component = -1;
    for (int i = 0; i < nf; i++) {
        int *seen = strcmp(f[i], "time_h") == 0 || strcmp(f[i], "time_s") == 0 ? &r->col_time
                    : strcmp(f[i], "kind") == 0                                ? &r->col_kind
                    : strcmp(f[i], "component") == 0                           ? &r->col_component
                                                                               : NULL;
        if (seen && *seen >= 0) /* time_s and time_h both, or a column twice: which one? */
            return cs_fail(err, "line %d: columns '%s' and '%s' both given: one of each", line,
                           f[*seen], f[i]);
        if (strcmp(f[i], "time_h") == 0 || strcmp(f[i], "time_s") == 0) {
            r->col_time = i;
            r->time_scale = f[i][5] == 'h' ? 3600 : 1;
        } else if (strcmp(f[i], "kind") == 0) {
            r->col_kind = i;
        } else if (strcmp(f[i], "component") == 0) {
            r->col_component = i;
        }
    }
    if (r->col_time < 0 || r->col_kind < 0 || r->col_component < 0)
        return cs_fail(err, "line %d: the header needs the columns time_h (or time_s), "
                            "component and kind", line);
    return 0;
}

static int parse_time(const reader *r, int line, const char *text, double *time_s, cs_err *err)
{
    double v;
    if (csvread_number(text, &v) != 0 || v < 0 || !(v * r->time_scale <= GOODPUT_MAX_TIME_S))
        return cs_fail(err, "line %d: time '%s' is not a number (decimal) of %s from the job's "
                            "start (at most %g s)", line, text,
                       r->time_scale == 1 ? "seconds" : "hours", GOODPUT_MAX_TIME_S);
    *time_s = v * r->time_scale;
    return 0;
}

static int parse_kind(int line, const char *text, goodput_event *e, cs_err *err)
{
    fault_class c;
    cs_err why;
    if (strcmp(text, "planned") == 0) {
        e->planned = 1, e->source = -1;
        return 0;
    }
    if (fault_class_parse(text, &c, &why) != 0)
        return cs_fail(err, "line %d: kind %s, or planned", line, why.msg);
    e->planned = 0, e->source = (int)c;
    return 0;
}

static int row(void *ctx, int line, char **f, int nf, cs_err *err)
{
    reader *r = ctx;
    if (r->col_time < 0)
        return header(r, line, f, nf, err);
    int need = r->col_time > r->col_kind ? r->col_time : r->col_kind;
    if (nf <= need || nf <= r->col_component)
        return cs_fail(err, "line %d: %d fields, the header has more", line, nf);
    goodput_event e;
    if (parse_time(r, line, f[r->col_time], &e.time_s, err) != 0 ||
        parse_kind(line, f[r->col_kind], &e, err) != 0)
        return -1;
    faultlog *log = r->log;
    if (log->n > 0 && e.time_s < log->events[log->n - 1].time_s)
        return cs_fail(err, "line %d: time %s goes backwards (the row before is at %.10g s)",
                       line, f[r->col_time], log->events[log->n - 1].time_s);
    if (log->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 64;
        log->events = cs_xrealloc(log->events, (size_t)r->cap * sizeof *log->events);
    }
    log->events[log->n++] = e;
    return 0;
}

int faultlog_read(const char *path, faultlog *out, cs_err *err)
{
    memset(out, 0, sizeof *out);
    reader r = {-1, -1, -1, 1, out, 0};
    if (csvread_file(path, row, &r, err) != 0) {
        faultlog_free(out);
        return -1;
    }
    if (r.col_time < 0) {
        faultlog_free(out);
        return cs_fail(err, "%s: empty: a header (time_h,component,kind) and a row per "
                            "interruption expected", path);
    }
    return 0;
}

void faultlog_free(faultlog *log)
{
    free(log->events);
    log->events = NULL;
    log->n = 0;
}
