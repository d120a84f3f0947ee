/* lua_api: estimate{...} and report.csv(...) for scenarios (see lua_api.h). */
#include "lua_api.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "checkpoint.h"
#include "lua_collective.h"
#include "lua_describe.h"
#include "lua_goodput.h"
#include "lua_limits.h"
#include "lua_place.h"
#include "lua_report.h"
#include "lua_search.h"
#include "lua_stragglers.h"
#include "memory.h"
#include "profile.h"
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

double lua_api_opt_number(lua_State *L, int idx, const char *what, const char *key, double def,
                          double min, double max)
{
    lua_getfield(L, idx, key);
    double v = def;
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TNUMBER)
            luaL_error(L, "%s: '%s' must be a number, not %s", what, key, luaL_typename(L, -1));
        v = lua_tonumber(L, -1);
        if (!(v >= min && v <= max))
            luaL_error(L, "%s: '%s' is %f; it must be from %f to %f", what, key, v, min, max);
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
        size_t len;
        v = lua_tolstring(L, -1, &len); /* stays alive: the table holds it */
        if (strlen(v) != len) /* C would see only the text before the NUL */
            luaL_error(L, "%s: '%s' contains a NUL character", what, key);
    }
    lua_pop(L, 1);
    return v;
}

const char *lua_api_check_name(lua_State *L, int idx)
{
    size_t len;
    const char *v = luaL_checklstring(L, idx, &len);
    if (strlen(v) != len)
        luaL_error(L, "report name: it contains a NUL character");
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

/* ---- estimate{...} and simulate{...} ------------------------------------------ */

/* The keys of a job (lua_api_read_job), before the caller's own. */
static const char *const job_keys[] = {"system", "nodes", "gpus", "model", "seq", "layout",
                                       "device_profile", NULL};
static const char *const estimate_keys[] = {"mode", "ranks", "storage_gbs", NULL};
static const char *const simulate_keys[] = {"ranks", "check_memory", "storage_gbs", NULL};

#define TIMELINE_META "clustersim.timeline"

static void fail_err(lua_State *L, const char *what, const cs_err *err)
{
    luaL_error(L, "%s: %s", what, err->msg);
}

void lua_api_check_job_keys(lua_State *L, const char *what, const char *const *own)
{
    const char *keys[64]; /* room for every caller's: the job's 7, the layout's, 5 own */
    int n = 0;
    for (int i = 0; job_keys[i]; i++)
        keys[n++] = job_keys[i];
    for (int i = 0; own[i] && n < 63; i++)
        keys[n++] = own[i];
    for (int i = 0; lua_describe_layout_keys[i] && n < 63; i++)
        keys[n++] = lua_describe_layout_keys[i];
    keys[n] = NULL;
    lua_api_check_keys(L, 1, what, keys);
}

typedef struct num_field {
    const char *key;
    double value;
} num_field;

/* Sets t[key] = value for each field, t on the top of the stack. */
static void push_numbers(lua_State *L, const num_field *f, int n)
{
    for (int i = 0; i < n; i++) {
        double v = f[i].value;
        if (v == (double)(lua_Integer)v && v > -9e15 && v < 9e15) /* counts print as counts */
            lua_pushinteger(L, (lua_Integer)v);
        else
            lua_pushnumber(L, v);
        lua_setfield(L, -2, f[i].key);
    }
}

#define GIB (1024.0 * 1024 * 1024)
#define NFIELDS(a) ((int)(sizeof a / sizeof a[0]))

static void push_stages(lua_State *L, const estimate_result *r, const timeline *tl)
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
                               {"bubble_fraction", r->iteration_s > 0 ? st->bubble_s / r->iteration_s : 0},
                               {"optimizer_s", st->optimizer_s},
                               {"peak_mem_gib", st->peak_mem_bytes / GIB}};
        lua_createtable(L, 0, NFIELDS(f) + 1);
        push_numbers(L, f, NFIELDS(f));
        if (tl) {
            lua_pushnumber(L, tl->memory[s].peak_bytes / GIB);
            lua_setfield(L, -2, "sim_peak_mem_gib");
        }
        lua_rawseti(L, -2, s + 1);
    }
    lua_setfield(L, -2, "stages");
}

static double bubble_fraction(const estimate_result *r)
{
    double sum = 0;
    for (int s = 0; s < r->pp; s++)
        sum += r->stages[s].bubble_s;
    return r->pp > 0 && r->iteration_s > 0 ? sum / (r->pp * r->iteration_s) : 0;
}

static void push_result(lua_State *L, const estimate_input *in, const estimate_result *r,
                        const char *system, const timeline *tl)
{
    char desc[160];
    const num_field f[] = {{"gpus", in->gpus},
                           {"microbatches", layout_microbatches(in->layout)},
                           {"iteration_s", r->iteration_s},
                           {"tokens_per_s", r->tokens_per_s},
                           {"model_tflops_per_gpu", r->model_tflops_per_gpu},
                           {"hw_tflops_per_gpu", r->hw_tflops_per_gpu},
                           {"mfu", r->mfu},
                           {"hfu", r->hfu},
                           {"bubble_fraction", bubble_fraction(r)},
                           {"peak_mem_gib", r->peak_mem_bytes / GIB},
                           {"usable_mem_gib", memory_usable_bytes(estimate_device(in->topology)) / GIB},
                           {"peak_stage", r->peak_stage}};
    lua_createtable(L, 0, NFIELDS(f) + 8);
    lua_pushstring(L, system);
    lua_setfield(L, -2, "system");
    lua_pushstring(L, in->model->name);
    lua_setfield(L, -2, "model");
    lua_pushstring(L, layout_describe(in->layout, desc, sizeof desc));
    lua_setfield(L, -2, "layout");
    lua_pushstring(L, layout_schedule_name(in->layout->schedule));
    lua_setfield(L, -2, "schedule");
    push_numbers(L, f, NFIELDS(f));
    lua_pushboolean(L, r->fits);
    lua_setfield(L, -2, "fits");
    push_stages(L, r, tl);
}

/* The system: a catalog name sized by nodes or gpus, or a table (system{}),
 * and the GPUs of the job (default: all of the system's). */
void lua_api_read_system(lua_State *L, const char *what, sys_system *sys, long *gpus)
{
    cs_err err;
    lua_getfield(L, 1, "system");
    int is_table = lua_istable(L, -1);
    const char *name = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    long nodes = (long)lua_api_opt_int(L, 1, what, "nodes", 0, 0, 1 << 20);
    if (is_table && nodes)
        luaL_error(L, "%s: 'nodes' is part of the system table; set it there", what);
    if (is_table)
        lua_describe_system(L, -1, what, sys);
    else if (!name)
        luaL_error(L, "%s: 'system' is required: a name from 'clustersim system' or a table "
                      "from system{}", what);
    else if (sys_from_catalog(name, 1, sys, &err) != 0)
        fail_err(L, what, &err);
    long per_node = sys->groups[0].node.gpus;
    long all = is_table ? sys_total_gpus(sys) : nodes * per_node;
    *gpus = (long)lua_api_opt_int(L, 1, what, "gpus", all, 0, 1 << 24);
    if (*gpus <= 0)
        luaL_error(L, "%s: give 'gpus' or 'nodes'", what);
    if ((is_table || nodes) && *gpus > all)
        luaL_error(L, "%s: 'gpus' is %I, more than the system's %I", what, (lua_Integer)*gpus,
                   (lua_Integer)all);
    if (!is_table && sys_from_catalog(name, (int)(nodes ? nodes : (*gpus + per_node - 1) / per_node),
                                      sys, &err) != 0)
        fail_err(L, what, &err);
    lua_pop(L, 1);
}

/* The layout: a `layout` table (layout{}) or the keys inline. */
static void read_layout(lua_State *L, const char *what, const model_desc *m, long gpus,
                        layout_desc *l)
{
    lua_getfield(L, 1, "layout");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_describe_layout(L, 1, what, m, gpus, l);
        return;
    }
    if (!lua_istable(L, -1))
        luaL_error(L, "%s: 'layout' must be a table from layout{}, not %s", what,
                   luaL_typename(L, -1));
    for (int i = 0; lua_describe_layout_keys[i]; i++) {
        const char *key = lua_describe_layout_keys[i];
        if (strcmp(key, "gpus") == 0 || strcmp(key, "microbatches") == 0)
            continue; /* derived: the layout checks its own against tp pp dp */
        lua_getfield(L, 1, key);
        if (!lua_isnil(L, -1))
            luaL_error(L, "%s: '%s' is given both inline and in 'layout'; give it once", what,
                       key);
        lua_pop(L, 1);
    }
    lua_api_check_keys(L, -1, "layout", lua_describe_layout_keys);
    lua_describe_layout(L, -1, what, m, gpus, l);
    lua_pop(L, 1);
}

/* The result's `checkpoint` table: the layout's checkpoint and its times
 * (costmodel/checkpoint) at storage_gbs GB/s of shared storage. */
static void push_checkpoint(lua_State *L, const model_desc *m, const layout_desc *l,
                            const sys_node_type *node, double storage_gbs,
                            const calib_profile *profile)
{
    ckpt_storage st = {storage_gbs * 1e9, storage_gbs * 1e9};
    ckpt_cost c;
    if (ckpt_cost_of(m, l, node, &st, profile, &c, NULL) != 0)
        return;
    num_field f[] = {{"total_gb", c.total_bytes / 1e9}, {"gpu_gb", c.gpu_bytes / 1e9},
                     {"node_gb", c.node_bytes / 1e9}, {"sync_s", c.sync_s},
                     {"snapshot_s", c.snapshot_s}, {"peer_copy_s", c.peer_copy_s},
                     {"reload_s", c.reload_s}, {"memory_reload_s", c.memory_reload_s}};
    lua_createtable(L, 0, (int)(sizeof f / sizeof f[0]));
    push_numbers(L, f, (int)(sizeof f / sizeof f[0]));
    lua_setfield(L, -2, "checkpoint");
}

static int timeline_gc(lua_State *L)
{
    timeline_free(luaL_checkudata(L, 1, TIMELINE_META));
    return 0;
}

void lua_api_read_job(lua_State *L, const char *what, lua_api_job *job)
{
    lua_getfield(L, 1, "model");
    if (lua_isnil(L, -1))
        luaL_error(L, "%s: 'model' is required: a name from 'clustersim model' or a table from "
                      "model{}", what);
    lua_describe_model(L, -1, what, &job->model);
    lua_pop(L, 1);
    job->model.seq_len = (int)lua_api_opt_int(L, 1, what, "seq", job->model.seq_len, 1, 1 << 24);
    lua_api_read_system(L, what, &job->sys, &job->gpus);
    read_layout(L, what, &job->model, job->gpus, &job->layout);
    opcost_eff_default(&job->eff);
    cs_err err;
    const char *profile_path = lua_api_opt_string(L, 1, what, "device_profile", NULL);
    if (profile_path)
        lua_limits_check_read(L, what, profile_path);
    if (profile_path && profile_apply(profile_path, job->sys.groups[0].node.gpu, &job->profile,
                                      &job->eff, &err) != 0)
        fail_err(L, what, &err);
}

static int run(lua_State *L, int simulate)
{
    const char *W = simulate ? "simulate" : "estimate";
    lua_api_check_job_keys(L, W, simulate ? simulate_keys : estimate_keys);
    const char *mode = simulate ? "sim" : lua_api_opt_string(L, 1, W, "mode", "sim");
    const char *ranks = lua_api_opt_string(L, 1, W, "ranks", "folded");
    if (strcmp(mode, "sim") != 0 && strcmp(mode, "analytic") != 0)
        luaL_error(L, "%s: 'mode' is '%s'; it must be sim or analytic", W, mode);
    if (strcmp(ranks, "folded") != 0 && strcmp(ranks, "all") != 0)
        luaL_error(L, "%s: 'ranks' is '%s'; it must be folded or all", W, ranks);
    lua_api_job job;
    lua_api_read_job(L, W, &job);
    model_desc *m = &job.model;
    layout_desc *l = &job.layout;
    const sys_node_type *node = &job.sys.groups[0].node;
    cs_err err;
    /* a timeline of a run that cannot start is drawn only on request */
    if (simulate && lua_api_opt_bool(L, 1, W, "check_memory", 1) &&
        (layout_validate(l, m, (int)job.gpus, node->gpus, &err) != 0 ||
         memory_require_fit(m, l, node->gpu, &err) != 0))
        luaL_error(L, "%s: %s (check_memory = false draws it anyway)", W, err.msg);
    timeline *tl = NULL;
    if (simulate) { /* owned by Lua from here: freed by its __gc whatever happens */
        tl = lua_newuserdatauv(L, sizeof *tl, 0);
        memset(tl, 0, sizeof *tl);
        luaL_setmetatable(L, TIMELINE_META);
    }
    double storage_gbs = lua_api_opt_number(L, 1, W, "storage_gbs", 2000, 1e-6, 1e9);
    /* Nothing below raises before t is freed: Lua errors would skip the free. */
    topo *t = NULL;
    if (topo_build(&job.sys, &t, &err) != 0)
        fail_err(L, W, &err);
    estimate_input in = {m, l, t, (int)job.gpus, &job.eff};
    estimate_result r;
    trainsim_mode tm = strcmp(ranks, "all") == 0 ? TRAINSIM_ALL_RANKS : TRAINSIM_FOLDED;
    int rc = strcmp(mode, "analytic") == 0 ? estimate_analytic(&in, &r, &err)
             : tl                          ? trainsim_record(&in, tm, &r, tl, NULL, &err)
                                           : trainsim_run(&in, tm, &r, NULL, &err);
    if (rc == 0) {
        push_result(L, &in, &r, job.sys.name, tl);
        push_checkpoint(L, m, l, node, storage_gbs, job.eff.profile);
    }
    estimate_result_free(&r);
    topo_free(t);
    if (rc != 0)
        fail_err(L, W, &err);
    if (tl) {
        lua_pushvalue(L, -2); /* the timeline userdata */
        lua_setfield(L, -2, "timeline");
    }
    return 1;
}

static int api_estimate(lua_State *L) { return run(L, 0); }
static int api_simulate(lua_State *L) { return run(L, 1); }

const timeline *lua_api_check_timeline(lua_State *L, int idx, const char *what)
{
    if (lua_istable(L, idx)) {
        lua_getfield(L, idx, "timeline");
        lua_replace(L, idx);
    }
    timeline *tl = luaL_testudata(L, idx, TIMELINE_META);
    if (!tl)
        luaL_error(L, "%s: give a result of simulate{} (it carries the timeline), not %s", what,
                   luaL_typename(L, idx));
    return tl;
}

report_set *lua_api_reports(lua_State *L)
{
    lua_getfield(L, LUA_REGISTRYINDEX, REPORTS_KEY);
    report_set *reports = lua_touserdata(L, -1);
    lua_pop(L, 1);
    return reports;
}

void lua_api_open(lua_State *L, report_set *reports)
{
    lua_pushlightuserdata(L, reports);
    lua_setfield(L, LUA_REGISTRYINDEX, REPORTS_KEY);
    luaL_newmetatable(L, TIMELINE_META);
    lua_pushcfunction(L, timeline_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    lua_describe_open(L);
    lua_register(L, "estimate", api_estimate);
    lua_register(L, "simulate", api_simulate);
    lua_report_open(L);
    lua_collective_open(L);
    lua_search_open(L);
    lua_goodput_open(L);
    lua_place_open(L);
    lua_stragglers_open(L);
}
