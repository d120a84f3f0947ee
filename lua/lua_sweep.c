/* lua_sweep: sweep{...} (see lua_sweep.h): the points, their Lua source,
 * running one point in its own state; the rows are in lua_sweep_rows. */
#include "lua_sweep.h"

#include <lauxlib.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"
#include "lua_check.h"
#include "lua_sweep_rows.h"
#include "parmap.h"
#include "lua_limits.h"

#define W "sweep"
#define OPTS_KEY "clustersim.sweep_opts"
#define STATE_KEY "clustersim.sweep_state"
#define POINTS_MT "clustersim.sweep_points"

static const char *const faces[] = {"estimate", "simulate", "search", "goodput", "stragglers",
                                    "place", NULL};

/* ---- a growable string ---- */

typedef struct sbuf {
    char *s;
    size_t n, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int need = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (b->n + (size_t)need + 1 > b->cap)
        b->s = cs_xrealloc(b->s, b->cap = 2 * (b->n + (size_t)need + 1));
    va_start(ap, fmt);
    vsnprintf(b->s + b->n, (size_t)need + 1, fmt, ap);
    va_end(ap);
    b->n += (size_t)need;
}

/* ---- a point's arguments as Lua source (exact) or as a cell (readable) ---- */

static void put_string(sbuf *b, const char *s, size_t len, int exact)
{
    if (!exact) {
        sb_printf(b, "%.*s", (int)len, s);
        return;
    }
    sb_printf(b, "\"");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\\' || c == '"')
            sb_printf(b, "\\%c", c);
        else if (c >= 32 && c < 127)
            sb_printf(b, "%c", c);
        else
            sb_printf(b, "\\%03u", c);
    }
    sb_printf(b, "\"");
}

static void put_number(lua_State *L, int idx, sbuf *b, int exact)
{
    if (lua_isinteger(L, idx)) {
        sb_printf(b, "%lld", (long long)lua_tointeger(L, idx));
        return;
    }
    double v = lua_tonumber(L, idx);
    if (isnan(v))
        sb_printf(b, "%s", exact ? "(0/0)" : "nan");
    else if (isinf(v))
        sb_printf(b, "%s", exact ? (v > 0 ? "(1/0)" : "(-1/0)") : (v > 0 ? "inf" : "-inf"));
    else
        sb_printf(b, exact ? "%a" : "%.14g", v); /* %a: the same double back */
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The string keys of the table at idx (other than 1..len), sorted; check_value
 * has made sure there are no others. */
static char **string_keys(lua_State *L, int idx, lua_Integer len, int *n)
{
    char **keys = NULL;
    int cap = 0;
    *n = 0;
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        lua_pop(L, 1);
        if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 1 && lua_tointeger(L, -1) <= len)
            continue;
        CS_GROW(keys, cap, *n + 1);
        keys[(*n)++] = (char *)lua_tostring(L, -1); /* the table holds the key alive */
    }
    qsort(keys, (size_t)*n, sizeof *keys, by_name);
    return keys;
}

/* Raises on what a point may not hold, before anything is allocated for it
 * (an error then leaks nothing). */
static void check_value(lua_State *L, int idx, int depth)
{
    int t = lua_type(L, idx);
    if (t != LUA_TNUMBER && t != LUA_TBOOLEAN && t != LUA_TSTRING && t != LUA_TTABLE)
        luaL_error(L, W ": a point's arguments are numbers, strings, booleans and tables, not %s",
                   luaL_typename(L, idx));
    if (t != LUA_TTABLE)
        return;
    if (depth > 16)
        luaL_error(L, W ": a point's tables nest more than 16 deep (a cycle?)");
    lua_Integer len = (lua_Integer)lua_rawlen(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        int listed = lua_isinteger(L, -2) && lua_tointeger(L, -2) >= 1 &&
                     lua_tointeger(L, -2) <= len;
        if (!listed && lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, W ": a point's tables may have names or list items as keys, not %s",
                       luaL_typename(L, -2));
        check_value(L, lua_gettop(L), depth + 1);
        lua_pop(L, 1);
    }
}

static void put_value(lua_State *L, int idx, sbuf *b, int exact, int depth);

static void put_table(lua_State *L, int idx, sbuf *b, int exact, int depth)
{
    lua_Integer len = (lua_Integer)lua_rawlen(L, idx);
    int n;
    char **keys = string_keys(L, idx, len, &n);
    sb_printf(b, "{");
    for (lua_Integer i = 1; i <= len; i++) {
        lua_rawgeti(L, idx, i);
        put_value(L, lua_gettop(L), b, exact, depth + 1);
        lua_pop(L, 1);
        sb_printf(b, ",");
    }
    for (int k = 0; k < n; k++) {
        if (exact && depth == 0 && keys[k][0] == '_')
            continue; /* a label: a column of the CSV, not an argument of the face */
        sb_printf(b, exact ? "[" : "%s", exact ? "" : keys[k]);
        if (exact)
            put_string(b, keys[k], strlen(keys[k]), 1), sb_printf(b, "]");
        sb_printf(b, "=");
        lua_getfield(L, idx, keys[k]);
        put_value(L, lua_gettop(L), b, exact, depth + 1);
        lua_pop(L, 1);
        sb_printf(b, ",");
    }
    free(keys);
    if (b->s[b->n - 1] == ',')
        b->n--;
    sb_printf(b, "}");
}

static void put_value(lua_State *L, int idx, sbuf *b, int exact, int depth)
{
    size_t len;
    const char *s;
    switch (lua_type(L, idx)) {
    case LUA_TNUMBER: put_number(L, idx, b, exact); break;
    case LUA_TBOOLEAN: sb_printf(b, "%s", lua_toboolean(L, idx) ? "true" : "false"); break;
    case LUA_TSTRING: s = lua_tolstring(L, idx, &len), put_string(b, s, len, exact); break;
    default: put_table(L, idx, b, exact, depth); break; /* check_value: a table */
    }
}

/* ---- the points ---- */

/* Copies the string-keyed fields of the table at src into the table at dst. */
static void merge_into(lua_State *L, int dst, int src)
{
    lua_pushnil(L);
    while (lua_next(L, src) != 0) {
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, W ": a point's arguments are named (key = value), not a list");
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_settable(L, dst);
    }
}

/* The point at the top of the stack, recorded: its source and its cells. */
static void add_point(lua_State *L, sweep_points *sp)
{
    int t = lua_gettop(L);
    check_value(L, t, 0);
    CS_GROW(sp->pt, sp->cap, sp->n + 1);
    sweep_point *p = &sp->pt[sp->n++];
    memset(p, 0, sizeof *p);
    sbuf src = {0};
    sb_printf(&src, "return ");
    put_table(L, t, &src, 1, 0);
    p->src = src.s;
    lua_Integer len = (lua_Integer)lua_rawlen(L, t);
    char **keys = string_keys(L, t, len, &p->nargs);
    p->keys = calloc((size_t)p->nargs + 1, sizeof *p->keys);
    p->cells = calloc((size_t)p->nargs + 1, sizeof *p->cells);
    if (!p->keys || !p->cells)
        abort();
    for (int k = 0; k < p->nargs; k++) {
        sbuf cell = {0};
        lua_getfield(L, t, keys[k]);
        put_value(L, lua_gettop(L), &cell, 0, 0);
        lua_pop(L, 1);
        p->keys[k] = strdup(keys[k]);
        p->cells[k] = cell.s ? cell.s : strdup("");
    }
    free(keys);
    lua_pop(L, 1);
}

static void new_point(lua_State *L, int base)
{
    lua_newtable(L);
    if (base)
        merge_into(L, lua_gettop(L), base);
}

/* product = {list, list, ...}: the first list varies slowest. */
static void product_points(lua_State *L, int prod, int base, sweep_points *sp)
{
    int nlists = (int)lua_rawlen(L, prod);
    if (nlists < 1)
        luaL_error(L, W ": product is a list of lists of tables, and empty");
    long total = 1;
    for (int k = 1; k <= nlists; k++) {
        lua_rawgeti(L, prod, k);
        if (!lua_istable(L, -1) || lua_rawlen(L, -1) < 1)
            luaL_error(L, W ": product[%d] must be a non-empty list of tables", k);
        total *= (long)lua_rawlen(L, -1); /* at most the bound times a list in memory */
        if (total > SWEEP_MAX_POINTS) /* checked as it grows: the points cost C memory */
            luaL_error(L, W ": product[1] to product[%d] already make %I points; the limit is "
                       "%I: fewer values in the lists, or several sweeps", k, (lua_Integer)total,
                       (lua_Integer)SWEEP_MAX_POINTS);
        lua_pop(L, 1);
    }
    for (long i = 0; i < total; i++) {
        new_point(L, base);
        int pt = lua_gettop(L);
        long rest = i, stride = total;
        for (int k = 1; k <= nlists; k++) {
            lua_rawgeti(L, prod, k);
            stride /= (long)lua_rawlen(L, -1);
            lua_rawgeti(L, -1, (lua_Integer)(rest / stride + 1));
            rest %= stride;
            if (!lua_istable(L, -1))
                luaL_error(L, W ": product[%d][%d] must be a table", k, (int)(i / stride) + 1);
            merge_into(L, pt, lua_gettop(L));
            lua_pop(L, 2);
        }
        add_point(L, sp);
    }
}

static void read_points(lua_State *L, sweep_points *sp)
{
    int base = 0;
    if (lua_getfield(L, 1, "base") != LUA_TNIL) {
        luaL_checktype(L, -1, LUA_TTABLE);
        base = lua_gettop(L);
    }
    int has_points = lua_getfield(L, 1, "points") != LUA_TNIL;
    int has_product = lua_getfield(L, 1, "product") != LUA_TNIL;
    if (has_points == has_product)
        luaL_error(L, W ": give points = {{...}, ...} or product = {{...}, ...}, one of them");
    int list = lua_gettop(L) - (has_points ? 1 : 0);
    luaL_checktype(L, list, LUA_TTABLE);
    if (has_product) {
        product_points(L, list, base, sp);
        return;
    }
    lua_Unsigned n_points = lua_rawlen(L, list);
    if (n_points < 1)
        luaL_error(L, W ": points is empty");
    if (n_points > (lua_Unsigned)SWEEP_MAX_POINTS)
        luaL_error(L, W ": points has %I points; the limit is %I: several sweeps",
                   (lua_Integer)n_points, (lua_Integer)SWEEP_MAX_POINTS);
    int n = (int)n_points;
    for (int i = 1; i <= n; i++) {
        new_point(L, base);
        if (lua_rawgeti(L, list, i) != LUA_TTABLE)
            luaL_error(L, W ": points[%d] must be a table of arguments", i);
        merge_into(L, lua_gettop(L) - 1, lua_gettop(L));
        lua_pop(L, 1);
        add_point(L, sp);
    }
}

/* ---- one point, in its own state ---- */

static lua_sweep_state_fn registered_state(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, STATE_KEY);
    lua_sweep_state_fn *fn = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return fn ? *fn : NULL;
}

/* A point's result: "ok" or "failed" with the message, or the fields. */
static void run_point(void *ctx, long index, void *out)
{
    sweep_run *run = ctx;
    const sweep_point *p = &run->points->pt[run->first + index];
    report_set *rs = NULL;
    lua_State *L = run->new_state(&rs);
    if (!L) {
        sweep_result_fail(out, "out of memory for the point's Lua state");
        return;
    }
    if (luaL_loadbufferx(L, p->src, strlen(p->src), "=point", "t") != LUA_OK ||
        lua_pcall(L, 0, 1, 0) != LUA_OK || lua_getglobal(L, run->face) != LUA_TFUNCTION) {
        sweep_result_fail(out, lua_isstring(L, -1) ? lua_tostring(L, -1) : "cannot load the point");
    } else {
        lua_insert(L, -2);
        if (lua_pcall(L, 1, 1, 0) != LUA_OK)
            sweep_result_fail(out, lua_tostring(L, -1) ? lua_tostring(L, -1) : "error");
        else
            sweep_result_fields(L, lua_gettop(L), out);
    }
    lua_close(L);
    report_free(rs);
}

static void point_label(void *ctx, long index, char *buf, size_t n)
{
    sweep_run *run = ctx;
    const sweep_point *p = &run->points->pt[run->first + index];
    size_t at = 0;
    buf[0] = '\0';
    for (int k = 0; k < p->nargs && at + 1 < n; k++)
        at += (size_t)snprintf(buf + at, n - at, "%s%s=%s", k ? " " : "", p->keys[k], p->cells[k]);
}

/* ---- sweep{...} ---- */

static lua_sweep_opts *configured(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, OPTS_KEY);
    lua_sweep_opts *o = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return o;
}

static void run_blocks(sweep_run *run)
{
    long n = run->points->n;
    char *outs = cs_xrealloc(NULL, (size_t)SWEEP_BLOCK * SWEEP_RESULT_BYTES);
    for (run->first = run->rows_done; run->first < n; run->first += SWEEP_BLOCK) {
        long count = n - run->first < SWEEP_BLOCK ? n - run->first : SWEEP_BLOCK;
        parmap_job pj = {.n = count, .out_size = SWEEP_RESULT_BYTES, .item = run_point, .ctx = run,
                         .commit = sweep_rows_commit, .label = point_label,
                         .what = "sweep point", .threads = run->threads, .chunk_max = 1};
        parmap_run(&pj, outs);
        for (long i = 0; i < count; i++)
            run->failed += sweep_result_failed(outs + (size_t)i * SWEEP_RESULT_BYTES);
        if (lua_limits_cpu_over(run->L)) /* api_sweep raises once the rows are closed */
            break;
    }
    free(outs);
}

static int api_sweep(lua_State *L)
{
    lua_limits_check_cpu(L, "sweep{}");
    static const char *const keys[] = {"run", "base", "points", "product", "name", NULL};
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_check_keys(L, 1, W, keys);
    lua_sweep_opts none = {0}, *o = configured(L);
    if (!o)
        o = &none;
    sweep_run run = {0};
    run.face = lua_check_opt_string(L, 1, W, "run", NULL);
    int f = 0;
    while (run.face && faces[f] && strcmp(faces[f], run.face) != 0)
        f++;
    if (!run.face || !faces[f])
        return luaL_error(L, W ": run = the face each point calls: estimate, simulate, search, "
                             "goodput, stragglers or place");
    run.name = lua_check_opt_string(L, 1, W, "name", "sweep.csv");
    run.out_dir = o->out_dir ? o->out_dir : "out";
    run.new_state = registered_state(L);
    run.threads = o->threads;
    run.L = L;
    run.progress = o->progress;
    lua_settop(L, 1);
    sweep_points *sp = lua_newuserdatauv(L, sizeof *sp, 0); /* freed by __gc on an error */
    memset(sp, 0, sizeof *sp);
    luaL_setmetatable(L, POINTS_MT);
    run.points = sp;
    read_points(L, sp);
    cs_err err;
    int rc = sweep_rows_begin(&run, o->resume, &err);
    if (rc == 0) {
        run_blocks(&run);
        rc = sweep_rows_end(&run, &err);
    }
    sweep_points_free(sp);
    if (rc != 0) {
        free(run.path);
        return luaL_error(L, W ": %s", err.msg);
    }
    if (lua_limits_cpu_over(L)) { /* its rows so far are kept: --resume goes on from them */
        free(run.path);
        lua_limits_check_cpu(L, "sweep{}");
    }
    o->sweeps++;
    o->failed += run.failed;
    lua_createtable(L, 0, 5);
    lua_pushinteger(L, run.points_n), lua_setfield(L, -2, "points");
    lua_pushinteger(L, run.rows_resumed), lua_setfield(L, -2, "resumed");
    lua_pushinteger(L, run.failed), lua_setfield(L, -2, "failed");
    lua_pushstring(L, run.path), lua_setfield(L, -2, "path");
    free(run.path);
    return 1;
}

static int points_gc(lua_State *L)
{
    sweep_points_free(luaL_checkudata(L, 1, POINTS_MT));
    return 0;
}

void lua_sweep_open(lua_State *L, lua_sweep_state_fn new_state)
{
    luaL_newmetatable(L, POINTS_MT);
    lua_pushcfunction(L, points_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    lua_sweep_state_fn *fn = lua_newuserdatauv(L, sizeof *fn, 0);
    *fn = new_state;
    lua_setfield(L, LUA_REGISTRYINDEX, STATE_KEY);
    lua_register(L, "sweep", api_sweep);
}

void lua_sweep_configure(lua_State *L, lua_sweep_opts *opts)
{
    lua_pushlightuserdata(L, opts);
    lua_setfield(L, LUA_REGISTRYINDEX, OPTS_KEY);
}
