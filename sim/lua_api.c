/* lua_api: estimate{...} and report.csv(...) for scenarios (see lua_api.h). */
#include "lua_api.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "trainsim.h"

#define REPORTS_KEY "clustersim.reports"

/* ---- table checks ------------------------------------------------------------ */

void lua_api_check_keys(lua_State *L, int idx, const char *what, const char *const *allowed)
{
    idx = lua_absindex(L, idx);
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        const char *key = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        int known = 0;
        for (int i = 0; key && allowed[i]; i++)
            known |= strcmp(key, allowed[i]) == 0;
        if (!known) {
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            for (int i = 0; allowed[i]; i++) {
                luaL_addstring(&b, i ? ", " : "");
                luaL_addstring(&b, allowed[i]);
            }
            luaL_pushresult(&b);
            luaL_error(L, "%s: unknown key '%s'; valid keys: %s", what,
                       key ? key : luaL_typename(L, -2), lua_tostring(L, -1));
        }
    }
}

lua_Integer lua_api_opt_int(lua_State *L, int idx, const char *what, const char *key,
                            lua_Integer def, lua_Integer min, lua_Integer max)
{
    lua_getfield(L, idx, key);
    lua_Integer v = def;
    if (!lua_isnil(L, -1)) {
        int isint = 0;
        if (lua_type(L, -1) == LUA_TNUMBER)
            v = lua_tointegerx(L, -1, &isint);
        if (!isint)
            luaL_error(L, "%s: '%s' must be a whole number, not %s", what, key,
                       luaL_typename(L, -1));
        if (v < min || v > max)
            luaL_error(L, "%s: '%s' is %I; it must be from %I to %I", what, key, v, min, max);
    }
    lua_pop(L, 1);
    return v;
}

const char *lua_api_opt_string(lua_State *L, int idx, const char *what, const char *key,
                               const char *def)
{
    lua_getfield(L, idx, key);
    const char *v = def;
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "%s: '%s' must be a string, not %s", what, key, luaL_typename(L, -1));
        v = lua_tostring(L, -1); /* stays alive: the table holds it */
    }
    lua_pop(L, 1);
    return v;
}

int lua_api_opt_bool(lua_State *L, int idx, const char *what, const char *key, int def)
{
    lua_getfield(L, idx, key);
    int v = def;
    if (!lua_isnil(L, -1)) {
        if (!lua_isboolean(L, -1))
            luaL_error(L, "%s: '%s' must be true or false, not %s", what, key,
                       luaL_typename(L, -1));
        v = lua_toboolean(L, -1);
    }
    lua_pop(L, 1);
    return v;
}

/* ---- estimate{...} ------------------------------------------------------------ */

static const char *const estimate_keys[] = {
    "system", "nodes", "gpus", "model", "seq", "tp", "pp", "dp", "vpp", "mbs", "gbs",
    "schedule", "sp", "recompute", "zero", "dtype", "attention", "mode", "ranks", NULL};

static void fail_err(lua_State *L, const char *what, const cs_err *err)
{
    luaL_error(L, "%s: %s", what, err->msg);
}

static void read_layout(lua_State *L, const model_desc *m, long gpus, layout_desc *l)
{
    const char *W = "estimate";
    cs_err err;
    layout_init(l, m);
    l->tp = (int)lua_api_opt_int(L, 1, W, "tp", 1, 1, 1 << 16);
    l->pp = (int)lua_api_opt_int(L, 1, W, "pp", 1, 1, 1 << 16);
    long rest = gpus / ((long)l->tp * l->pp);
    l->dp = (int)lua_api_opt_int(L, 1, W, "dp", rest > 0 ? rest : 1, 1, 1 << 24);
    l->vpp = (int)lua_api_opt_int(L, 1, W, "vpp", 1, 1, 1024);
    l->mbs = (int)lua_api_opt_int(L, 1, W, "mbs", 1, 1, 1 << 20);
    l->gbs = (int)lua_api_opt_int(L, 1, W, "gbs", (lua_Integer)l->dp * l->mbs, 1, 1 << 28);
    l->sp = lua_api_opt_bool(L, 1, W, "sp", 0);
    l->zero = (int)lua_api_opt_int(L, 1, W, "zero", 0, 0, 1);
    const char *sched = lua_api_opt_string(L, 1, W, "schedule", l->vpp > 1 ? "interleaved" : "1f1b");
    const char *rec = lua_api_opt_string(L, 1, W, "recompute", "none");
    const char *dtype = lua_api_opt_string(L, 1, W, "dtype", model_dtype_name(m->dtype));
    const char *attn = lua_api_opt_string(L, 1, W, "attention", "flash");
    if (layout_schedule_parse(sched, "schedule", &l->schedule, &err) != 0 ||
        layout_recompute_parse(rec, "recompute", &l->recompute, &err) != 0 ||
        model_dtype_parse(dtype, "dtype", &l->dtype, &err) != 0)
        fail_err(L, W, &err);
    if (strcmp(attn, "flash") != 0 && strcmp(attn, "unfused") != 0)
        luaL_error(L, "estimate: 'attention' is '%s'; it must be flash or unfused", attn);
    l->flash_attention = strcmp(attn, "flash") == 0;
}

typedef struct num_field {
    const char *key;
    double value;
} num_field;

/* Sets t[key] = value for each field, t on the top of the stack. */
static void push_numbers(lua_State *L, const num_field *f, int n)
{
    for (int i = 0; i < n; i++) {
        lua_pushnumber(L, f[i].value);
        lua_setfield(L, -2, f[i].key);
    }
}

#define GIB (1024.0 * 1024 * 1024)
#define NFIELDS(a) ((int)(sizeof a / sizeof a[0]))

static void push_stages(lua_State *L, const estimate_result *r)
{
    lua_createtable(L, r->pp, 0);
    for (int s = 0; s < r->pp; s++) {
        const estimate_stage *st = &r->stages[s];
        const num_field f[] = {{"stage", s},
                               {"compute_s", st->compute_s},
                               {"recompute_s", st->recompute_s},
                               {"tp_comm_s", st->tp_comm_s},
                               {"dp_exposed_s", st->dp_exposed_s},
                               {"p2p_s", st->p2p_s},
                               {"bubble_s", st->bubble_s},
                               {"optimizer_s", st->optimizer_s},
                               {"peak_mem_gib", st->peak_mem_bytes / GIB}};
        lua_createtable(L, 0, NFIELDS(f));
        push_numbers(L, f, NFIELDS(f));
        lua_rawseti(L, -2, s + 1);
    }
    lua_setfield(L, -2, "stages");
}

static void push_result(lua_State *L, const estimate_input *in, const estimate_result *r)
{
    char desc[160];
    const num_field f[] = {{"gpus", in->gpus},
                           {"iteration_s", r->iteration_s},
                           {"tokens_per_s", r->tokens_per_s},
                           {"model_tflops_per_gpu", r->model_tflops_per_gpu},
                           {"hw_tflops_per_gpu", r->hw_tflops_per_gpu},
                           {"mfu", r->mfu},
                           {"hfu", r->hfu},
                           {"peak_mem_gib", r->peak_mem_bytes / GIB},
                           {"peak_stage", r->peak_stage}};
    lua_createtable(L, 0, NFIELDS(f) + 4);
    lua_pushstring(L, in->model->name);
    lua_setfield(L, -2, "model");
    lua_pushstring(L, layout_describe(in->layout, desc, sizeof desc));
    lua_setfield(L, -2, "layout");
    push_numbers(L, f, NFIELDS(f));
    lua_pushboolean(L, r->fits);
    lua_setfield(L, -2, "fits");
    push_stages(L, r);
}

/* The job's size: gpus from "gpus" or whole "nodes" of the system. */
static void job_size(lua_State *L, const char **name, long *gpus, long *nodes)
{
    cs_err err;
    sys_system sys;
    *name = lua_api_opt_string(L, 1, "estimate", "system", NULL);
    if (!*name)
        luaL_error(L, "estimate: 'system' is required (a name from 'clustersim system')");
    if (sys_from_catalog(*name, 1, &sys, &err) != 0)
        fail_err(L, "estimate", &err);
    long per_node = sys.groups[0].node.gpus;
    *nodes = (long)lua_api_opt_int(L, 1, "estimate", "nodes", 0, 0, 1 << 20);
    *gpus = (long)lua_api_opt_int(L, 1, "estimate", "gpus", *nodes * per_node, 0, 1 << 24);
    if (*gpus <= 0)
        luaL_error(L, "estimate: give 'gpus' or 'nodes'");
    if (!*nodes)
        *nodes = (*gpus + per_node - 1) / per_node;
}

static int api_estimate(lua_State *L)
{
    lua_api_check_keys(L, 1, "estimate", estimate_keys);
    cs_err err;
    model_desc m;
    const char *model = lua_api_opt_string(L, 1, "estimate", "model", NULL);
    if (!model)
        luaL_error(L, "estimate: 'model' is required (a name from 'clustersim model')");
    if (model_find(model, &m, &err) != 0)
        fail_err(L, "estimate", &err);
    m.seq_len = (int)lua_api_opt_int(L, 1, "estimate", "seq", m.seq_len, 1, 1 << 24);
    const char *mode = lua_api_opt_string(L, 1, "estimate", "mode", "sim");
    const char *ranks = lua_api_opt_string(L, 1, "estimate", "ranks", "folded");
    if (strcmp(mode, "sim") != 0 && strcmp(mode, "analytic") != 0)
        luaL_error(L, "estimate: 'mode' is '%s'; it must be sim or analytic", mode);
    if (strcmp(ranks, "folded") != 0 && strcmp(ranks, "all") != 0)
        luaL_error(L, "estimate: 'ranks' is '%s'; it must be folded or all", ranks);
    const char *sys_name;
    long gpus, nodes;
    job_size(L, &sys_name, &gpus, &nodes);
    layout_desc l;
    read_layout(L, &m, gpus, &l);
    /* Nothing below raises before t is freed: Lua errors would skip the free. */
    sys_system sys;
    topo *t = NULL;
    if (sys_from_catalog(sys_name, (int)nodes, &sys, &err) != 0 || topo_build(&sys, &t, &err) != 0)
        fail_err(L, "estimate", &err);
    opcost_eff eff;
    opcost_eff_default(&eff);
    estimate_input in = {&m, &l, t, (int)gpus, &eff};
    estimate_result r;
    int rc = strcmp(mode, "analytic") == 0
                 ? estimate_analytic(&in, &r, &err)
                 : trainsim_run(&in, strcmp(ranks, "all") == 0 ? TRAINSIM_ALL_RANKS : TRAINSIM_FOLDED,
                                &r, NULL, &err);
    if (rc == 0)
        push_result(L, &in, &r);
    estimate_result_free(&r);
    topo_free(t);
    if (rc != 0)
        fail_err(L, "estimate", &err);
    return 1;
}

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
    const char *name = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    int cols = push_columns(L);
    lua_Integer ncols = luaL_len(L, cols), nrows = luaL_len(L, 2);
    lua_getfield(L, LUA_REGISTRYINDEX, REPORTS_KEY);
    report_set *reports = lua_touserdata(L, -1);
    lua_pop(L, 1);
    cs_err err;
    FILE *f = report_begin(reports, name, &err);
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

void lua_api_open(lua_State *L, report_set *reports)
{
    lua_pushlightuserdata(L, reports);
    lua_setfield(L, LUA_REGISTRYINDEX, REPORTS_KEY);
    lua_register(L, "estimate", api_estimate);
    lua_newtable(L);
    lua_pushcfunction(L, api_report_csv);
    lua_setfield(L, -2, "csv");
    lua_setglobal(L, "report");
}
