/* lua_replay: replay{...} (see lua_replay.h). */
#include "lua_replay.h"

#include <lauxlib.h>
#include <string.h>

#include "estimate.h"
#include "lua_api.h"
#include "lua_check.h"
#include "replay.h"
#include "lua_limits.h"

#define W "replay"

static const char *const replay_keys[] = {"chakra", "system", "nodes", "gpus", "price_compute",
                                          NULL};

#define set_number lua_api_set_number
#define set_int lua_api_set_int

static void push_ranks(lua_State *L, const replay_result *r)
{
    lua_createtable(L, r->ranks, 0);
    for (int i = 0; i < r->ranks; i++) {
        const replay_rank *k = &r->rank[i];
        const struct { const char *key; double s; } f[] = {
            {"end_s", k->end_s},   {"compute_s", k->compute_s},   {"cpu_s", k->cpu_s},
            {"memory_s", k->memory_s}, {"comm_s", k->comm_s},
            {"exposed_comm_s", k->exposed_comm_s}, {"idle_s", k->idle_s}};
        lua_createtable(L, 0, 8);
        set_int(L, "rank", i);
        for (size_t j = 0; j < sizeof f / sizeof f[0]; j++)
            set_number(L, f[j].key, f[j].s);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "ranks");
}

static void push_result(lua_State *L, const replay_traces *tr, const char *system, long gpus,
                        const replay_result *r)
{
    lua_createtable(L, 0, 12);
    lua_pushstring(L, tr->prefix);
    lua_setfield(L, -2, "traces");
    lua_pushstring(L, system);
    lua_setfield(L, -2, "system");
    set_int(L, "gpus", gpus);
    set_number(L, "iteration_s", r->iteration_s);
    set_int(L, "nodes", r->nodes);
    set_int(L, "collectives", r->collectives);
    set_int(L, "transfers", r->transfers);
    set_int(L, "priced", r->priced);
    set_int(L, "untimed", r->untimed);
    push_ranks(L, r);
}

#define TRACES_META "clustersim.chakra_traces"

/* The traces live in a userdata so that a Lua error cannot leak them. */
static int traces_gc(lua_State *L)
{
    replay_traces_free(luaL_checkudata(L, 1, TRACES_META));
    return 0;
}

static replay_traces *load_traces(lua_State *L, const char *dir)
{
    replay_traces *tr = lua_newuserdatauv(L, sizeof *tr, 0);
    memset(tr, 0, sizeof *tr);
    luaL_setmetatable(L, TRACES_META);
    cs_err err;
    if (replay_load(dir, tr, &err) != 0)
        lua_api_fail(L, W, &err);
    return tr;
}

/* The traces' ranks are the job's GPUs unless the scenario says. */
static void default_gpus(lua_State *L, int ranks)
{
    lua_getfield(L, 1, "gpus");
    lua_getfield(L, 1, "nodes");
    lua_getfield(L, 1, "system");
    int unsized = lua_isnil(L, -2) && lua_isnil(L, -3) && lua_type(L, -1) == LUA_TSTRING;
    lua_pop(L, 3);
    if (unsized) {
        lua_pushinteger(L, ranks);
        lua_setfield(L, 1, "gpus");
    }
}

static int api_replay(lua_State *L)
{
    lua_limits_check_cpu(L, "replay{}");
    lua_check_keys(L, 1, W, replay_keys);
    const char *dir = lua_check_opt_string(L, 1, W, "chakra", NULL);
    if (!dir)
        luaL_error(L, W ": 'chakra' is required: a folder of NAME.RANK.et files, or their prefix");
    int price = lua_check_opt_bool(L, 1, W, "price_compute", 0);
    replay_traces *tr = load_traces(L, dir);
    default_gpus(L, tr->ranks);
    sys_system sys;
    long gpus = 0;
    lua_api_read_system(L, W, &sys, &gpus);
    /* Lua's from here: its __gc frees it whatever happens. */
    timeline *tl = lua_newuserdatauv(L, sizeof *tl, 0);
    memset(tl, 0, sizeof *tl);
    luaL_setmetatable(L, LUA_API_TIMELINE_META);
    /* Nothing below raises before t and r are freed. */
    cs_err err;
    topo *t = NULL;
    replay_result r;
    memset(&r, 0, sizeof r);
    int rc = topo_build(&sys, &t, &err);
    if (rc == 0) {
        opcost_eff eff;
        opcost_eff_default(&eff);
        replay_input in = {t, (int)gpus, estimate_device(t), &eff, price};
        rc = replay_run(tr, &in, &r, tl, &err);
    }
    if (rc == 0)
        push_result(L, tr, sys.name, gpus, &r);
    replay_result_free(&r);
    if (t)
        topo_free(t);
    if (rc != 0)
        lua_api_fail(L, W, &err);
    lua_pushvalue(L, -2); /* the timeline userdata */
    lua_setfield(L, -2, "timeline");
    return 1;
}

void lua_replay_open(lua_State *L)
{
    luaL_newmetatable(L, TRACES_META);
    lua_pushcfunction(L, traces_gc);
    lua_setfield(L, -2, "__gc");
    lua_pop(L, 1);
    lua_register(L, "replay", api_replay);
}
