/* lua_api: the checks and readers every Lua face shares (see lua_api.h). */
#include "lua_api.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "lua_describe.h"
#include "lua_limits.h"
#include "profile.h"
#include "tiers_spec.h"

#define REPORTS_KEY "clustersim.reports"

/* ---- the job the training faces share ------------------------------------------ */

/* The keys of a job (lua_api_read_job), before the caller's own. */
static const char *const job_keys[] = {"system", "nodes", "gpus", "model", "seq", "layout",
                                       "device_profile", NULL};

void lua_api_fail(lua_State *L, const char *what, const cs_err *err)
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
    lua_check_keys(L, 1, what, keys);
}

/* The system: a catalog name sized by nodes or gpus, or a table (system{}),
 * and the GPUs of the job (default: all of the system's). */
void lua_api_read_system(lua_State *L, const char *what, sys_system *sys, long *gpus)
{
    cs_err err;
    lua_getfield(L, 1, "system");
    int is_table = lua_istable(L, -1);
    const char *name = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    long nodes = (long)lua_check_opt_int(L, 1, what, "nodes", 0, 0, 1 << 20);
    if (is_table && nodes)
        luaL_error(L, "%s: 'nodes' is part of the system table; set it there", what);
    if (is_table)
        lua_describe_system(L, -1, what, sys);
    else if (!name)
        luaL_error(L, "%s: 'system' is required: a name from 'clustersim system' or a table "
                      "from system{}", what);
    else if (sys_from_spec(name, 1, sys, &err) != 0) /* NAME or NAME:nvme=N */
        lua_api_fail(L, what, &err);
    long per_node = sys->groups[0].node.gpus;
    long all = is_table ? sys_total_gpus(sys) : nodes * per_node;
    *gpus = (long)lua_check_opt_int(L, 1, what, "gpus", all, 0, 1 << 24);
    if (*gpus <= 0)
        luaL_error(L, "%s: give 'gpus' or 'nodes'", what);
    if ((is_table || nodes) && *gpus > all)
        luaL_error(L, "%s: 'gpus' is %I, more than the system's %I", what, (lua_Integer)*gpus,
                   (lua_Integer)all);
    if (!is_table && sys_from_spec(name, (int)(nodes ? nodes : (*gpus + per_node - 1) / per_node),
                                   sys, &err) != 0)
        lua_api_fail(L, what, &err);
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
    lua_check_keys(L, -1, "layout", lua_describe_layout_keys);
    lua_describe_layout(L, -1, what, m, gpus, l);
    lua_pop(L, 1);
}

static int timeline_gc(lua_State *L)
{
    timeline_free(luaL_checkudata(L, 1, LUA_API_TIMELINE_META));
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
    job->model.seq_len = (int)lua_check_opt_int(L, 1, what, "seq", job->model.seq_len, 1, 1 << 24);
    lua_api_read_system(L, what, &job->sys, &job->gpus);
    read_layout(L, what, &job->model, job->gpus, &job->layout);
    opcost_eff_default(&job->eff);
    cs_err err;
    const char *profile_path = lua_check_opt_string(L, 1, what, "device_profile", NULL);
    if (profile_path)
        lua_limits_check_read(L, what, profile_path);
    if (profile_path && profile_apply(profile_path, job->sys.groups[0].node.gpu, &job->profile,
                                      &job->eff, &err) != 0)
        lua_api_fail(L, what, &err);
}

const timeline *lua_api_check_timeline(lua_State *L, int idx, const char *what)
{
    if (lua_istable(L, idx)) {
        lua_getfield(L, idx, "timeline");
        lua_replace(L, idx);
    }
    timeline *tl = luaL_testudata(L, idx, LUA_API_TIMELINE_META);
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

void lua_api_init(lua_State *L, report_set *reports)
{
    lua_pushlightuserdata(L, reports);
    lua_setfield(L, LUA_REGISTRYINDEX, REPORTS_KEY);
    luaL_newmetatable(L, LUA_API_TIMELINE_META);
    lua_pushcfunction(L, timeline_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
}

void lua_api_set_number(lua_State *L, const char *key, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, key);
}

void lua_api_set_int(lua_State *L, const char *key, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, key);
}
