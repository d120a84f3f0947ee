/* lua_search: search{...} (see lua_search.h). */
#include "lua_search.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "lua_api.h"
#include "lua_describe.h"
#include "lua_offload.h"
#include "lua_sharding.h"
#include "memory.h"
#include "searchsim.h"
#include "sharding.h"
#include "lua_limits.h"

#define W "search"
#define GIB (1024.0 * 1024 * 1024)

static const char *const search_keys[] = {"system", "nodes", "gpus", "model", "seq", "gbs",
                                          "top", "objective", "fix", "max_tp", "max_vpp",
                                          "threads", "framework", "failures_per_gpu_day", "checkpoint",
                                          "storage_gbs", "restart_s", LUA_SHARDING_KEYS,
                                          "offload", "offload_to", "post_validation",
                                          "max_cp", NULL};
static const char *const fix_keys[] = {"tp", "pp", "dp", "vpp", "mbs", "sp", "zero",
                                       "recompute", "schedule", "cp", "cp_comm",
                                       "first_layers", "last_layers", NULL};

static void read_fix(lua_State *L, search_fix *fx)
{
    search_fix_init(fx);
    lua_getfield(L, 1, "fix");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return;
    }
    int at = lua_gettop(L);
    lua_check_keys(L, at, "search fix", fix_keys);
    fx->tp = (int)lua_check_opt_int(L, at, "search fix", "tp", 0, 1, 1 << 16);
    fx->pp = (int)lua_check_opt_int(L, at, "search fix", "pp", 0, 1, 1 << 16);
    fx->dp = (int)lua_check_opt_int(L, at, "search fix", "dp", 0, 1, 1 << 24);
    fx->vpp = (int)lua_check_opt_int(L, at, "search fix", "vpp", 0, 1, 1024);
    fx->mbs = (int)lua_check_opt_int(L, at, "search fix", "mbs", 0, 1, 1 << 20);
    fx->zero = (int)lua_check_opt_int(L, at, "search fix", "zero", -1, 0, SHARDING_MAX_STAGE);
    /* uneven pipeline stages (search.h): 0 lets the search split */
    fx->first_layers = (int)lua_check_opt_int(L, at, "search fix", "first_layers", 0, 1, 1 << 20);
    fx->last_layers = (int)lua_check_opt_int(L, at, "search fix", "last_layers", 0, 1, 1 << 20);
    lua_getfield(L, at, "sp");
    if (!lua_isnil(L, -1))
        fx->sp = lua_check_opt_bool(L, at, "search fix", "sp", 0);
    lua_pop(L, 1);
    cs_err err;
    const char *rec = lua_check_opt_string(L, at, "search fix", "recompute", NULL);
    const char *sched = lua_check_opt_string(L, at, "search fix", "schedule", NULL);
    layout_recompute r;
    layout_schedule s;
    if (rec && layout_recompute_parse(rec, "recompute", &r, &err) != 0)
        luaL_error(L, W ": fix: %s", err.msg);
    if (sched && layout_schedule_parse(sched, "schedule", &s, &err) != 0)
        luaL_error(L, W ": fix: %s", err.msg);
    if (rec)
        fx->recompute = (int)r;
    if (sched)
        fx->schedule = (int)s;
    fx->cp = (int)lua_check_opt_int(L, at, "search fix", "cp", 0, 1, 1 << 16);
    const char *comm = lua_check_opt_string(L, at, "search fix", "cp_comm", NULL);
    layout_cp_comm c;
    if (comm && layout_cp_comm_parse(comm, "cp_comm", &c, &err) != 0)
        luaL_error(L, W ": fix: %s", err.msg);
    if (comm)
        fx->cp_comm = (int)c;
    lua_pop(L, 1);
}

static void set_num(lua_State *L, const char *key, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, key);
}

static void push_row(lua_State *L, const search_result *r, const searchsim_row *row, int rank)
{
    const layout_desc *l = &r->cands[row->index].layout;
    char desc[160];
    lua_createtable(L, 0, 12);
    lua_pushinteger(L, rank);
    lua_setfield(L, -2, "rank");
    lua_pushstring(L, layout_describe(l, desc, sizeof desc));
    lua_setfield(L, -2, "layout");
    lua_describe_push_layout(L, l, 0);
    lua_setfield(L, -2, "spec");
    set_num(L, "iteration_s", row->sim.iteration_s);
    set_num(L, "analytic_s", row->analytic_s);
    set_num(L, "diff_percent", row->diff_percent);
    set_num(L, "tokens_per_s", row->sim.tokens_per_s);
    set_num(L, "mfu", row->sim.mfu);
    set_num(L, "peak_mem_gib", row->sim.peak_mem_bytes / GIB);
    lua_pushstring(L, row->note);
    lua_setfield(L, -2, "note");
    if (r->cands[row->index].goodput > 0) {
        set_num(L, "checkpoint_s", r->cands[row->index].ckpt_s);
        set_num(L, "goodput", r->cands[row->index].goodput);
        set_num(L, "tokens_per_day", row->tokens_per_day);
    }
}

/* The goodput objective's fault model: Llama 3's rate unless given. */
static void read_faults(lua_State *L, const sys_node_type *node, int gpus, search_faults *f)
{
    double rate = lua_check_opt_number(L, 1, W, "failures_per_gpu_day", 419.0 / (16384 * 54),
                                     1e-12, 1e6);
    double storage = lua_check_opt_number(L, 1, W, "storage_gbs", 2000, 1e-6, 1e9);
    const char *ckpt = lua_check_opt_string(L, 1, W, "checkpoint", "sync");
    if (strcmp(ckpt, "sync") != 0 && strcmp(ckpt, "async") != 0)
        luaL_error(L, W ": checkpoint '%s' is not one of sync, async", ckpt);
    *f = (search_faults){86400 / (rate * gpus), lua_check_opt_number(L, 1, W, "restart_s", 660, 0, 1e9),
                         strcmp(ckpt, "async") == 0, {storage * 1e9, storage * 1e9},
                         node};
}

static void push_summary(lua_State *L, const search_result *r)
{
    lua_createtable(L, 0, 8);
    set_num(L, "space", (double)r->space);
    set_num(L, "valid", (double)r->valid);
    set_num(L, "evaluated", (double)r->evaluated);
    set_num(L, "fitting", (double)r->fitting);
    set_num(L, "closed_form_s", r->eval_s);
    lua_createtable(L, 0, SEARCH_NRULES);
    for (int i = 0; i < SEARCH_NRULES; i++) {
        lua_pushinteger(L, r->removed[i]);
        lua_setfield(L, -2, search_rule_name(i));
    }
    lua_setfield(L, -2, "removed");
}

/* Runs the search and the top-k simulation and pushes the result table;
 * returns 0, or -1 with err (nothing pushed).  Raises nothing (only on
 * running out of memory), so the caller can free the topology after it. */
static int run(lua_State *L, const search_input *in, search_objective obj, int top, cs_err *err)
{
    if (searchsim_check_top(in, top, err) != 0) /* before the search's own work */
        return -1;
    search_result r;
    if (search_run(in, &r, err) != 0) {
        search_result_free(&r);
        return -1;
    }
    searchsim_row *rows = calloc((size_t)top, sizeof *rows);
    if (!rows)
        abort();
    int n = 0;
    int rc = searchsim_top(in, &r, obj, top, rows, &n, err);
    if (rc == 0) {
        push_summary(L, &r);
        lua_createtable(L, n, 0);
        for (int i = 0; i < n; i++) {
            push_row(L, &r, &rows[i], i + 1);
            lua_rawseti(L, -2, i + 1);
        }
        lua_setfield(L, -2, "layouts");
        if (n == 0) {
            lua_pushstring(L, r.valid ? "no layout fits memory" : "no layout passes the rules");
            lua_setfield(L, -2, "why");
        }
    }
    searchsim_rows_free(rows, n);
    free(rows);
    search_result_free(&r);
    return rc;
}

static int api_search(lua_State *L)
{
    lua_limits_check_cpu(L, "search{}");
    lua_check_keys(L, 1, W, search_keys);
    model_desc m;
    lua_getfield(L, 1, "model");
    if (lua_isnil(L, -1))
        luaL_error(L, W ": 'model' is required: a name or a table from model{}");
    lua_describe_model(L, -1, W, &m);
    lua_pop(L, 1);
    m.seq_len = (int)lua_check_opt_int(L, 1, W, "seq", m.seq_len, 1, 1 << 24);
    int gbs = (int)lua_check_opt_int(L, 1, W, "gbs", 0, 0, 1 << 28);
    if (!gbs)
        luaL_error(L, W ": 'gbs' is required (the global batch, in sequences)");
    int top = (int)lua_check_opt_int(L, 1, W, "top", 20, 1, 10000);
    search_objective obj;
    cs_err err;
    if (search_objective_parse(lua_check_opt_string(L, 1, W, "objective", "time"), &obj, &err))
        luaL_error(L, W ": %s", err.msg);
    search_input in = {&m, NULL, 0, gbs, m.dtype, 1, NULL, {0}, 1, NULL, NULL, NULL, NULL,
                       FRAMEWORK_CORE, 0, 0};
    in.space.max_tp = (int)lua_check_opt_int(L, 1, W, "max_tp", 0, 1, 1 << 16);
    in.space.max_vpp = (int)lua_check_opt_int(L, 1, W, "max_vpp", 0, 1, 64);
    in.space.max_cp = (int)lua_check_opt_int(L, 1, W, "max_cp", 1, 1, 1 << 16);
    in.threads = (int)lua_check_opt_int(L, 1, W, "threads", 1, 1, 1024);
    if (framework_parse(lua_check_opt_string(L, 1, W, "framework", "megatron-core"), "framework",
                        &in.framework, &err) != 0)
        luaL_error(L, W ": %s", err.msg);
    in.post_validation = lua_check_opt_bool(L, 1, W, "post_validation", 0);
    read_fix(L, &in.space.fix);
    lua_sharding_read_space(L, 1, W, &in.space);
    lua_offload_read_space(L, 1, W, &in.space);
    sys_system sys;
    long gpus;
    lua_api_read_system(L, W, &sys, &gpus);
    in.gpus = (int)gpus;
    search_faults faults; /* read before the topology: an error here leaks nothing */
    if (obj == SEARCH_GOODPUT) {
        read_faults(L, &sys.groups[0].node, in.gpus, &faults);
        in.faults = &faults;
    }
    topo *t = NULL;
    if (topo_build(&sys, &t, &err) != 0)
        luaL_error(L, W ": %s", err.msg);
    opcost_eff eff;
    opcost_eff_default(&eff);
    in.topology = t;
    in.eff = &eff;

    int rc = run(L, &in, obj, top, &err);
    topo_free(t);
    if (rc != 0)
        luaL_error(L, W ": %s", err.msg);
    return 1;
}

void lua_search_open(lua_State *L)
{
    lua_register(L, "search", api_search);
}
