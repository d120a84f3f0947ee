/* lua_report: report.* for scenarios (see lua_report.h). */
#include "lua_report.h"

#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lua_api.h"
#include "svg_chart.h"
#include "table.h"
#include "timeline_report.h"
#include "lua_limits.h"

/* ---- report.csv(name, rows [, columns]) --------------------------------------- */

/* The text of rows[i][col] as a CSV field. */
static void write_cell(lua_State *L, FILE *f, int row_idx, const char *col)
{
    lua_getfield(L, row_idx, col);
    char buf[64];
    const char *text = "";
    switch (lua_type(L, -1)) {
    case LUA_TNIL: break;
    case LUA_TBOOLEAN: text = lua_toboolean(L, -1) ? "true" : "false"; break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, -1))
            snprintf(buf, sizeof buf, "%lld", (long long)lua_tointeger(L, -1));
        else
            snprintf(buf, sizeof buf, "%.10g", lua_tonumber(L, -1));
        text = buf;
        break;
    case LUA_TSTRING: text = lua_tostring(L, -1); break;
    default:
        luaL_error(L, "report.csv: column '%s' holds a %s; cells are numbers, strings or "
                      "booleans", col, luaL_typename(L, -1));
    }
    report_csv_field(f, text);
    lua_pop(L, 1);
}

/* Columns: the third argument, or the first row's keys in sorted order. */
static int push_columns(lua_State *L)
{
    if (!lua_isnoneornil(L, 3)) {
        luaL_checktype(L, 3, LUA_TTABLE);
        lua_pushvalue(L, 3);
        return lua_gettop(L);
    }
    lua_getglobal(L, "table");
    lua_getfield(L, -1, "sort");
    lua_remove(L, -2);
    lua_newtable(L);
    lua_rawgeti(L, 2, 1);
    if (!lua_istable(L, -1))
        luaL_error(L, "report.csv: rows must be a list of tables (row 1 is %s)", luaL_typename(L, -1));
    int n = 0;
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TSTRING) {
            lua_pushvalue(L, -1);
            lua_rawseti(L, -4, ++n);
        }
    }
    lua_pop(L, 1);        /* row 1 */
    lua_pushvalue(L, -1); /* columns, to sort */
    lua_insert(L, -3);    /* columns sort columns */
    lua_call(L, 1, 0);
    return lua_gettop(L);
}

static int api_report_csv(lua_State *L)
{
    lua_limits_check_cpu(L, "report.csv()");
    const char *name = lua_check_name(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    int cols = push_columns(L);
    lua_Integer ncols = luaL_len(L, cols), nrows = luaL_len(L, 2);
    cs_err err;
    FILE *f = report_begin(lua_api_reports(L), name, &err);
    if (!f)
        luaL_error(L, "report.csv: %s", err.msg);
    for (lua_Integer c = 1; c <= ncols; c++) {
        lua_rawgeti(L, cols, c);
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "report.csv: column %I is not a string", c);
        fputs(c > 1 ? "," : "", f);
        report_csv_field(f, lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    fputc('\n', f);
    for (lua_Integer r = 1; r <= nrows; r++) {
        lua_rawgeti(L, 2, r);
        if (!lua_istable(L, -1))
            luaL_error(L, "report.csv: row %I is a %s, not a table", r, luaL_typename(L, -1));
        int row_idx = lua_gettop(L);
        for (lua_Integer c = 1; c <= ncols; c++) {
            lua_rawgeti(L, cols, c);
            const char *col = lua_tostring(L, -1);
            fputs(c > 1 ? "," : "", f);
            write_cell(L, f, row_idx, col);
            lua_pop(L, 1);
        }
        fputc('\n', f);
        lua_pop(L, 1);
    }
    lua_pushinteger(L, nrows);
    return 1;
}

/* ---- report.table(rows, columns) -------------------------------------------- */

/* One column of report.table: "key", or {key = ..., unit = ..., head = ...,
 * format = ...}. */
typedef struct table_col {
    const char *key, *head, *unit, *format;
} table_col;

/* One %f, %e or %g with optional flags, width and precision, and no other
 * conversion: the only formats safe to hand a double to snprintf. */
static int number_format_ok(const char *fmt)
{
    const char *p = strchr(fmt, '%');
    if (!p)
        return 0;
    p++;
    p += strspn(p, "-+ #0");
    p += strspn(p, "0123456789");
    if (*p == '.')
        p += 1 + strspn(p + 1, "0123456789");
    return *p && strchr("feEgG", *p) && !strchr(p + 1, '%');
}

static void read_column(lua_State *L, int cols, lua_Integer c, table_col *out)
{
    static const char *const keys[] = {"key", "head", "unit", "format", NULL};
    lua_rawgeti(L, cols, c);
    *out = (table_col){NULL, NULL, NULL, NULL};
    if (lua_type(L, -1) == LUA_TSTRING) {
        out->key = out->head = lua_tostring(L, -1);
    } else if (lua_istable(L, -1)) {
        lua_check_keys(L, -1, "report.table column", keys);
        out->key = lua_check_opt_string(L, -1, "report.table column", "key", NULL);
        if (!out->key)
            luaL_error(L, "report.table: column %I has no 'key'", c);
        out->head = lua_check_opt_string(L, -1, "report.table column", "head", out->key);
        out->unit = lua_check_opt_string(L, -1, "report.table column", "unit", NULL);
        out->format = lua_check_opt_string(L, -1, "report.table column", "format", NULL);
        if (out->format && !number_format_ok(out->format))
            luaL_error(L, "report.table: format '%s' of column '%s' must hold one conversion "
                          "%%f, %%e or %%g (such as \"%%.2f\") and no other %%", out->format,
                       out->key);
    } else {
        luaL_error(L, "report.table: column %I must be a key or a table {key = ..., unit = ...}",
                   c);
    }
    lua_pop(L, 1); /* the strings stay alive: the columns table holds them */
}

/* rows[r][col.key] as table text; the buffer holds numbers. */
static const char *cell_text(lua_State *L, int row, const table_col *col, char *buf, size_t n)
{
    lua_getfield(L, row, col->key);
    const char *text = "";
    if (lua_type(L, -1) == LUA_TNUMBER) {
        double v = lua_tonumber(L, -1);
        if (col->format)
            snprintf(buf, n, col->format, v); /* checked by read_column */
        else if (lua_isinteger(L, -1))
            snprintf(buf, n, "%lld", (long long)lua_tointeger(L, -1));
        else
            snprintf(buf, n, "%.4g", v);
        text = buf;
    } else if (lua_type(L, -1) == LUA_TBOOLEAN) {
        text = lua_toboolean(L, -1) ? "yes" : "no";
    } else if (lua_type(L, -1) == LUA_TSTRING) {
        snprintf(buf, n, "%s", lua_tostring(L, -1));
        text = buf;
    } else if (!lua_isnil(L, -1)) {
        luaL_error(L, "report.table: column '%s' holds a %s; cells are numbers, strings or "
                      "booleans", col->key, luaL_typename(L, -1));
    }
    lua_pop(L, 1);
    return text;
}

#define TABLE_MAX_COLS 64

static int api_report_table(lua_State *L)
{
    lua_limits_check_cpu(L, "report.table()");
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_Integer ncols = luaL_len(L, 2), nrows = luaL_len(L, 1);
    if (ncols < 1 || ncols > TABLE_MAX_COLS)
        luaL_error(L, "report.table: %I columns; give 1 to %d", ncols, TABLE_MAX_COLS);
    table_col cols[TABLE_MAX_COLS];
    const char *heads[TABLE_MAX_COLS], *units[TABLE_MAX_COLS];
    for (lua_Integer c = 0; c < ncols; c++) {
        read_column(L, 2, c + 1, &cols[c]);
        heads[c] = cols[c].head;
        units[c] = cols[c].unit;
    }
    /* cells are formatted into Lua strings first: nothing below may raise
     * while the C table is alive */
    lua_createtable(L, (int)(nrows * ncols), 0);
    int cells = lua_gettop(L);
    for (lua_Integer r = 1; r <= nrows; r++) {
        lua_rawgeti(L, 1, r);
        if (!lua_istable(L, -1))
            luaL_error(L, "report.table: row %I is a %s, not a table", r, luaL_typename(L, -1));
        for (lua_Integer c = 0; c < ncols; c++) {
            char buf[256];
            lua_pushstring(L, cell_text(L, lua_gettop(L), &cols[c], buf, sizeof buf));
            lua_rawseti(L, cells, (r - 1) * ncols + c + 1);
        }
        lua_pop(L, 1);
    }
    table *t = table_new((int)ncols, heads, units);
    for (lua_Integer r = 0; r < nrows; r++) {
        const char *row[TABLE_MAX_COLS];
        for (lua_Integer c = 0; c < ncols; c++) {
            lua_rawgeti(L, cells, r * ncols + c + 1);
            row[c] = lua_tostring(L, -1);
            lua_pop(L, 1); /* still held by the cells table */
        }
        table_add_row(t, row);
    }
    table_print(t, stdout, 0);
    table_free(t);
    return 0;
}

/* ---- the timeline's files --------------------------------------------------- */

static int timeline_file_of(lua_State *L, timeline_file which, const char *what)
{
    const char *name = lua_check_name(L, 1);
    const timeline *tl = lua_api_check_timeline(L, 2, what);
    cs_err err;
    if (timeline_report_one(lua_api_reports(L), name, which, tl, &err) != 0)
        luaL_error(L, "%s: %s", what, err.msg);
    return 0;
}

static int api_report_timeline(lua_State *L)
{
    lua_limits_check_cpu(L, "report.timeline()");
    return timeline_file_of(L, TLF_TRACE, "report.timeline");
}
static int api_report_schedule_svg(lua_State *L)
{
    lua_limits_check_cpu(L, "report.schedule_svg()");
    return timeline_file_of(L, TLF_SCHEDULE, "report.schedule_svg");
}
static int api_report_memory_svg(lua_State *L)
{
    lua_limits_check_cpu(L, "report.memory_svg()");
    return timeline_file_of(L, TLF_MEMORY, "report.memory_svg");
}

/* ---- report.chart(name, spec) ------------------------------------------------ */

/* A list of numbers as a C array owned by Lua (left on the stack, so that
 * it lives as long as the call and is collected after an error). */
static const double *number_list(lua_State *L, int idx, const char *series, const char *key,
                                 int *n)
{
    lua_getfield(L, idx, key);
    if (!lua_istable(L, -1))
        luaL_error(L, "report.chart: series '%s' needs '%s', a list of numbers", series, key);
    lua_Integer len = luaL_len(L, -1);
    double *v = lua_newuserdatauv(L, sizeof *v * (size_t)(len ? len : 1), 0);
    for (lua_Integer i = 1; i <= len; i++) {
        lua_rawgeti(L, -2, i);
        if (lua_type(L, -1) != LUA_TNUMBER)
            luaL_error(L, "report.chart: series '%s': %s[%I] is a %s, not a number", series, key,
                       i, luaL_typename(L, -1));
        v[i - 1] = lua_tonumber(L, -1);
        lua_pop(L, 1);
    }
    lua_remove(L, -2); /* the list; the userdata stays */
    *n = (int)len;
    return v;
}

static void read_series(lua_State *L, int list, svg_chart *c)
{
    static const char *const keys[] = {"name", "x", "y", NULL};
    lua_Integer n = luaL_len(L, list);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, list, i);
        int at = lua_gettop(L);
        if (!lua_istable(L, at))
            luaL_error(L, "report.chart: series %I is a %s, not a table", i, luaL_typename(L, at));
        lua_check_keys(L, at, "report.chart series", keys);
        const char *name = lua_check_opt_string(L, at, "report.chart series", "name", NULL);
        if (!name)
            luaL_error(L, "report.chart: series %I has no 'name'", i);
        int nx, ny;
        const double *x = number_list(L, at, name, "x", &nx);
        const double *y = number_list(L, at, name, "y", &ny);
        if (nx != ny)
            luaL_error(L, "report.chart: series '%s' has %d x values and %d y values", name, nx,
                       ny);
        cs_err err;
        if (svg_chart_add(c, name, x, y, nx, &err) != 0)
            luaL_error(L, "report.chart: %s", err.msg);
        lua_rotate(L, at, -1); /* keep x and y below; drop the series table */
        lua_pop(L, 1);
    }
}

static int api_report_chart(lua_State *L)
{
    lua_limits_check_cpu(L, "report.chart()");
    static const char *const keys[] = {"title", "x_label", "y_label", "x_log2", "points",
                                       "series", NULL};
    const char *W = "report.chart";
    const char *name = lua_check_name(L, 1);
    lua_check_keys(L, 2, W, keys);
    svg_chart c;
    svg_chart_init(&c, lua_check_opt_string(L, 2, W, "title", NULL),
                   lua_check_opt_string(L, 2, W, "x_label", NULL),
                   lua_check_opt_string(L, 2, W, "y_label", NULL));
    c.x_log2 = lua_check_opt_bool(L, 2, W, "x_log2", 0);
    c.mode = lua_check_opt_bool(L, 2, W, "points", 0) ? SVG_CHART_POINTS : SVG_CHART_LINES;
    lua_getfield(L, 2, "series");
    if (!lua_istable(L, -1))
        luaL_error(L, "report.chart: 'series' is required: a list of {name = ..., x = {...}, "
                      "y = {...}}");
    read_series(L, lua_gettop(L), &c);
    cs_err err;
    FILE *f = report_begin(lua_api_reports(L), name, &err);
    if (!f || svg_chart_write(f, &c, &err) != 0)
        luaL_error(L, "report.chart: %s", err.msg);
    return 0;
}

void lua_report_open(lua_State *L)
{
    static const luaL_Reg fns[] = {{"csv", api_report_csv},
                                   {"table", api_report_table},
                                   {"timeline", api_report_timeline},
                                   {"schedule_svg", api_report_schedule_svg},
                                   {"memory_svg", api_report_memory_svg},
                                   {"chart", api_report_chart},
                                   {NULL, NULL}};
    luaL_newlib(L, fns);
    lua_setglobal(L, "report");
}
