/* lua_sweep_rows: results as bytes, rows on rank 0 (see lua_sweep_rows.h). */
#include "lua_sweep_rows.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cs_alloc.h"
#include "parmap.h"

void sweep_points_free(sweep_points *sp)
{
    for (int i = 0; i < sp->n; i++) {
        sweep_point *p = &sp->pt[i];
        for (int k = 0; k < p->nargs; k++)
            free(p->keys[k]), free(p->cells[k]);
        free(p->keys), free(p->cells), free(p->src);
    }
    free(sp->pt);
    memset(sp, 0, sizeof *sp);
}

/* ---- a result as bytes: 'f' message NUL, or 'o' (name NUL value NUL)* NUL ---- */

void sweep_result_fail(void *out, const char *msg)
{
    char *o = out;
    o[0] = 'f';
    snprintf(o + 1, SWEEP_RESULT_BYTES - 1, "%s", msg);
}

int sweep_result_failed(const void *out) { return ((const char *)out)[0] == 'f'; }

typedef struct field {
    char name[128], value[128];
} field;

static int by_field_name(const void *a, const void *b)
{
    return strcmp(((const field *)a)->name, ((const field *)b)->name);
}

static int scalar_text(lua_State *L, int idx, char *buf, size_t n)
{
    switch (lua_type(L, idx)) {
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            snprintf(buf, n, "%lld", (long long)lua_tointeger(L, idx));
        else
            snprintf(buf, n, "%.10g", lua_tonumber(L, idx));
        return 1;
    case LUA_TBOOLEAN: snprintf(buf, n, "%s", lua_toboolean(L, idx) ? "true" : "false"); return 1;
    case LUA_TSTRING: snprintf(buf, n, "%s", lua_tostring(L, idx)); return 1;
    default: return 0;
    }
}

/* Fields that measure this machine's wall clock, not the point: left out, so
 * that a row is the same bytes on every run and every rank count. */
static int wall_clock(const char *name)
{
    return strcmp(name, "closed_form_s") == 0 || strcmp(name, "placement_s") == 0;
}

static void add_field(lua_State *L, const char *name, field **fs, int *n, int *cap)
{
    CS_GROW(*fs, *cap, *n + 1);
    if (wall_clock(name) || !scalar_text(L, -1, (*fs)[*n].value, sizeof (*fs)[*n].value))
        return;
    char *dst = (*fs)[(*n)++].name;
    snprintf(dst, sizeof (*fs)[0].name, "%s", name);
    for (char *c = dst; *c; c++) /* a heading needs no quotes: --resume splits it at commas */
        *c = *c == ',' ? ';' : *c == '"' || *c == '\n' || *c == '\r' ? '\'' : *c;
}

/* The scalar fields of the table at idx, prefixed; a nested table's one level
 * down (parent.child), and of a list of tables its first (parent.1.child:
 * search's best layout). */
static void collect(lua_State *L, int idx, const char *prefix, int depth, field **fs, int *n,
                    int *cap)
{
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        if (lua_type(L, -2) == LUA_TSTRING) {
            char name[128], sub[136];
            snprintf(name, sizeof name, "%s%s", prefix, lua_tostring(L, -2));
            if (!lua_istable(L, -1)) {
                add_field(L, name, fs, n, cap);
            } else if (depth == 0 && lua_rawgeti(L, -1, 1) == LUA_TTABLE) {
                snprintf(sub, sizeof sub, "%s.1.", name);
                collect(L, lua_gettop(L), sub, 1, fs, n, cap);
                lua_pop(L, 1);
            } else if (depth == 0) {
                lua_pop(L, 1);
                snprintf(sub, sizeof sub, "%s.", name);
                collect(L, lua_gettop(L), sub, 1, fs, n, cap);
            } /* deeper tables are left out */
        }
        lua_pop(L, 1);
    }
}

void sweep_result_fields(lua_State *L, int idx, void *out)
{
    char *o = out;
    if (!lua_istable(L, idx)) {
        sweep_result_fail(out, "the face returned no table");
        return;
    }
    field *fs = NULL;
    int n = 0, cap = 0;
    collect(L, idx, "", 0, &fs, &n, &cap);
    qsort(fs, (size_t)n, sizeof *fs, by_field_name);
    size_t at = 1;
    o[0] = 'o';
    for (int i = 0; i < n; i++) {
        size_t ln = strlen(fs[i].name) + 1, lv = strlen(fs[i].value) + 1;
        if (at + ln + lv + 1 > SWEEP_RESULT_BYTES)
            break; /* too many fields: the rest are dropped */
        memcpy(o + at, fs[i].name, ln);
        memcpy(o + at + ln, fs[i].value, lv);
        at += ln + lv;
    }
    o[at] = '\0';
    free(fs);
}

/* The value of name in an 'o' result, or "". */
static const char *result_value(const char *out, const char *name)
{
    for (const char *p = out + 1; *p; p += strlen(p) + 1) {
        const char *v = p + strlen(p) + 1;
        if (strcmp(p, name) == 0)
            return v;
        p = v;
    }
    return "";
}

/* ---- the header ---- */

static void add_name(char ***names, int *n, const char *name)
{
    for (int i = 0; i < *n; i++)
        if (strcmp((*names)[i], name) == 0)
            return;
    *names = cs_xrealloc(*names, sizeof **names * (size_t)(*n + 1));
    (*names)[(*n)++] = strdup(name);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, int n)
{
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(names);
}

/* "point,ARGS...,status,error" then the results: fields[] (pointers into run). */
static const char **header_fields(const sweep_run *run, int with_results, int *n)
{
    const char **f = cs_xrealloc(NULL, sizeof *f * (size_t)(run->nparams + run->nresults + 3));
    *n = 0;
    f[(*n)++] = "point";
    for (int i = 0; i < run->nparams; i++)
        f[(*n)++] = run->params[i];
    f[(*n)++] = "status";
    f[(*n)++] = "error";
    for (int i = 0; with_results && i < run->nresults; i++)
        f[(*n)++] = run->shown[i];
    return f;
}

static int is_param(const sweep_run *run, const char *name)
{
    for (int i = 0; i < run->nparams; i++)
        if (strcmp(run->params[i], name) == 0)
            return 1;
    return 0;
}

/* A result named like an argument (runs, seed) is headed "result.NAME". */
static void add_result(sweep_run *run, const char *name)
{
    int n = run->nresults;
    add_name(&run->results, &run->nresults, name);
    if (run->nresults == n)
        return;
    run->shown = cs_xrealloc(run->shown, sizeof *run->shown * (size_t)run->nresults);
    size_t len = strlen(name) + 8;
    run->shown[n] = cs_xrealloc(NULL, len);
    snprintf(run->shown[n], len, "%s%s", is_param(run, name) ? "result." : "", name);
}

static void results_from_header(sweep_run *run, char *rest)
{
    run->header_done = 1;
    for (char *tok = strtok(rest, ","); tok; tok = strtok(NULL, ","))
        add_result(run, strncmp(tok, "result.", 7) == 0 && is_param(run, tok + 7) ? tok + 7 : tok);
}

static int open_csv(sweep_run *run, int resume, cs_err *err)
{
    const char *name = run->name;
    if (!*name || name[0] == '.' || strchr(name, '/'))
        return cs_fail(err, "name '%s': give a plain file name such as 'sweep.csv'; it is written "
                            "into the output folder", name);
    if (mkdir(run->out_dir, 0777) != 0 && errno != EEXIST)
        return cs_fail(err, "cannot create output folder '%s': %s", run->out_dir, strerror(errno));
    int n;
    const char **f = header_fields(run, 0, &n);
    char *head = sweep_csv_format(f, n), *rest = NULL;
    free(f);
    long rows = 0;
    int rc = resume ? sweep_csv_resume(run->path, head, &rows, &rest, err) : 0;
    free(head);
    if (rc == 0 && rows > run->points_n)
        rc = cs_fail(err, "%s has %ld rows; the sweep has %ld points: remove it, or run without "
                          "--resume", run->path, rows, run->points_n);
    int kept = rest != NULL;
    if (rc == 0 && kept)
        results_from_header(run, rest);
    free(rest);
    run->rows_done = rows;
    return rc ? rc : sweep_csv_open(&run->csv, run->path, kept, err);
}

int sweep_rows_begin(sweep_run *run, int resume, cs_err *err)
{
    run->points_n = run->points->n;
    run->csv.fd = -1;
    for (int i = 0; i < run->points->n; i++)
        for (int k = 0; k < run->points->pt[i].nargs; k++)
            add_name(&run->params, &run->nparams, run->points->pt[i].keys[k]);
    qsort(run->params, (size_t)run->nparams, sizeof *run->params, by_name);
    size_t len = strlen(run->out_dir) + strlen(run->name) + 2;
    run->path = cs_xrealloc(NULL, len);
    snprintf(run->path, len, "%s/%s", run->out_dir, run->name);
    long shared[2] = {0, 0}; /* rank 0's status and rows kept */
    if (parmap_rank() == 0) {
        shared[0] = open_csv(run, resume, err);
        shared[1] = run->rows_done;
    }
    parmap_share(shared, sizeof shared);
    run->rows_done = run->rows_resumed = shared[1];
    if (shared[0] != 0) {
        if (parmap_rank() != 0)
            cs_fail(err, "rank 0 could not open the sweep's CSV");
        sweep_rows_end(run, NULL);
        return -1;
    }
    return 0;
}

/* ---- rows ---- */

static void write_row(sweep_run *run, long point, const char *out)
{
    int n;
    const char **f = header_fields(run, 1, &n);
    char num[24];
    const sweep_point *p = &run->points->pt[point];
    snprintf(num, sizeof num, "%ld", point + 1);
    f[0] = num;
    for (int i = 0, k = 0; i < run->nparams; i++) {
        int match = k < p->nargs && strcmp(p->keys[k], run->params[i]) == 0;
        f[1 + i] = match ? p->cells[k++] : "";
    }
    int failed = sweep_result_failed(out);
    f[run->nparams + 1] = failed ? "failed" : "ok";
    f[run->nparams + 2] = failed ? out + 1 : "";
    for (int i = 0; i < run->nresults; i++)
        f[run->nparams + 3 + i] = failed ? "" : result_value(out, run->results[i]);
    cs_err err;
    if (sweep_csv_line(&run->csv, f, n, &err) != 0)
        fprintf(stderr, "clustersim: %s: %s\n", run->path, err.msg);
    free(f);
}

static void write_header(sweep_run *run)
{
    int n;
    const char **f = header_fields(run, 1, &n);
    cs_err err;
    if (sweep_csv_line(&run->csv, f, n, &err) != 0)
        fprintf(stderr, "clustersim: %s: %s\n", run->path, err.msg);
    free(f);
    run->header_done = 1;
    for (long i = 0; i < run->nheld; i++) /* the failed points before the first success */
        write_row(run, run->rows_done - run->nheld + i, run->held[i]);
    for (long i = 0; i < run->nheld; i++)
        free(run->held[i]);
    free(run->held);
    run->held = NULL, run->nheld = 0;
}

static void show_progress(const sweep_run *run)
{
    if (run->progress < 0 || (run->progress == 0 && !isatty(2)))
        return;
    long done = run->rows_done, n = run->points_n;
    int bar = (int)(30 * done / (n ? n : 1));
    fprintf(stderr, "\rsweep %s: [%.*s%*s] %ld/%ld points, %ld failed%s", run->name, bar,
            "##############################", 30 - bar, "", done, n, run->failed_shown,
            done == n ? "\n" : "");
    fflush(stderr);
}

void sweep_rows_commit(void *ctx, long index, const void *out)
{
    sweep_run *run = ctx;
    long point = run->first + index;
    const char *o = out;
    if (!run->header_done && !sweep_result_failed(o)) {
        for (const char *p = o + 1; *p; p += strlen(p) + 1, p += strlen(p) + 1)
            add_result(run, p);
        run->rows_done = point; /* the held rows are the ones just before */
        write_header(run);
    }
    if (run->header_done) {
        write_row(run, point, o);
    } else {
        run->held = cs_xrealloc(run->held, sizeof *run->held * (size_t)(run->nheld + 1));
        run->held[run->nheld++] = strdup(o);
    }
    run->rows_done = point + 1;
    run->failed_shown += sweep_result_failed(o); /* run->failed is counted on every rank */
    show_progress(run);
}

int sweep_rows_end(sweep_run *run, cs_err *err)
{
    (void)err;
    if (run->csv.fd >= 0 && !run->header_done)
        write_header(run); /* every point failed: no result columns */
    sweep_csv_close(&run->csv);
    free_names(run->params, run->nparams);
    for (int i = 0; i < run->nresults; i++)
        free(run->shown[i]);
    free(run->shown);
    run->shown = NULL;
    free_names(run->results, run->nresults);
    for (long i = 0; i < run->nheld; i++)
        free(run->held[i]);
    free(run->held);
    run->params = run->results = run->held = NULL;
    run->nparams = run->nresults = 0, run->nheld = 0;
    return 0;
}
