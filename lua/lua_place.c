/* lua_place: place{...} (see lua_place.h and docs/lua.md). */
#include "lua_place.h"

#include <lauxlib.h>
#include <string.h>

#include "lua_api.h"
#include "lua_limits.h"
#include "opgraph_csv.h"
#include "placerun.h"

#define W "place"
#define GIB 1073741824.0

static const char *const keys[] = {"graph", "model", "mbs", "devices", "mem_gib", "algo",
                                   "latency_us", "bytes_per_us", "channels", "coplace", "fuse",
                                   "evals", NULL};

/* mem_gib: one number for every device, or a list of one per device. */
static void read_mem(lua_State *L, place_spec *s)
{
    lua_getfield(L, 1, "mem_gib");
    int list = lua_istable(L, -1);
    if (!list && !lua_isnumber(L, -1))
        luaL_error(L, W ": 'mem_gib' is required: a number of GiB or a list, one per device");
    for (int d = 0; d < s->ndev; d++) {
        double gib;
        if (list) {
            lua_rawgeti(L, -1, d + 1);
            if (!lua_isnumber(L, -1))
                luaL_error(L, W ": 'mem_gib' needs %d numbers, one per device", s->ndev);
            gib = lua_tonumber(L, -1);
            lua_pop(L, 1);
        } else
            gib = lua_tonumber(L, -1);
        if (!(gib > 0) || gib > 1e6)
            luaL_error(L, W ": 'mem_gib' %f; a device's memory is above 0 and at most 1e6 GiB", gib);
        s->mem_bytes[d] = (uint64_t)(gib * GIB);
    }
    lua_pop(L, 1);
}

static void load_graph(lua_State *L, int ndev, opgraph *g)
{
    const char *dir = lua_check_opt_string(L, 1, W, "graph", NULL);
    if (dir)
        lua_limits_check_read(L, W, dir);
    const char *model = lua_check_opt_string(L, 1, W, "model", NULL);
    int mbs = (int)lua_check_opt_int(L, 1, W, "mbs", 1, 1, 65536);
    cs_err err;
    if (!dir == !model)
        luaL_error(L, W ": give one of 'graph' (a folder) or 'model' (a catalog name)");
    model_desc m;
    int rc = dir ? opgraph_read_dir(dir, g, &err)
                 : (opg_init(g), model_find(model, &m, &err) ||
                    opg_from_model(&m, "H100-SXM5-80GB", mbs, ndev, g, &err));
    if (rc != 0) {
        opg_free(g);
        luaL_error(L, W ": %s", err.msg);
    }
}

static void set(lua_State *L, const char *key, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, key);
}

static void push_result(lua_State *L, const placerun_input *in, const placerun_output *out)
{
    lua_createtable(L, 0, 11);
    lua_pushstring(L, place_algo_name(in->algo));
    lua_setfield(L, -2, "algo");
    set(L, "placement_s", out->place_s);
    set(L, "step_ms", out->sim.step_us / 1e3);
    if (out->res.est_step_us > 0)
        set(L, "predicted_ms", out->res.est_step_us / 1e3);
    set(L, "nodes", out->prep.fused.n);
    set(L, "units", out->prep.nunits);
    if (in->algo == PLACE_AUTO) {
        lua_pushstring(L, place_algo_name(out->auto_info.start));
        lua_setfield(L, -2, "start");
        set(L, "evals", out->auto_info.evals);
    }
    lua_createtable(L, in->spec.ndev, 0);
    for (int d = 0; d < in->spec.ndev; d++) {
        lua_createtable(L, 0, 4);
        set(L, "operators", out->sim.ops[d]);
        set(L, "busy_ms", out->sim.busy_us[d] / 1e3);
        set(L, "peak_mem_gib", out->sim.peak_bytes[d] / GIB);
        set(L, "mem_gib", out->need_bytes[d] / GIB);
        lua_rawseti(L, -2, d + 1);
    }
    lua_setfield(L, -2, "devices");
}

static int api_place(lua_State *L)
{
    lua_limits_check_cpu(L, "place{}");
    lua_check_keys(L, 1, W, keys);
    placerun_input in = {NULL, {0}, PLACE_AUTO, 1, 1, NULL, 0};
    in.spec.ndev = (int)lua_check_opt_int(L, 1, W, "devices", 0, 1, PLACE_MAX_DEVICES);
    if (in.spec.ndev == 0)
        luaL_error(L, W ": 'devices' is required (1 to %d)", PLACE_MAX_DEVICES);
    read_mem(L, &in.spec);
    cs_err err;
    if (place_algo_parse(lua_check_opt_string(L, 1, W, "algo", "auto"), &in.algo, &err) != 0)
        luaL_error(L, W ": %s", err.msg);
    in.spec.latency_us = lua_check_opt_number(L, 1, W, "latency_us", 134, 0, 1e9);
    in.spec.bytes_per_us = lua_check_opt_number(L, 1, W, "bytes_per_us", 5701, 1e-9, 1e15);
    if (place_channels_parse(lua_check_opt_string(L, 1, W, "channels", "pair"), &in.spec.channels,
                             &err) != 0)
        luaL_error(L, W ": %s", err.msg);
    in.coplace = lua_check_opt_bool(L, 1, W, "coplace", 1);
    in.fuse = lua_check_opt_bool(L, 1, W, "fuse", 1);
    in.max_evals = (int)lua_check_opt_int(L, 1, W, "evals", 1000, 0, 100000000);
    opgraph g;
    load_graph(L, in.spec.ndev, &g);
    in.g = &g;
    placerun_output out;
    int rc = placerun(&in, &out, &err);
    if (rc == 0)
        push_result(L, &in, &out);
    placerun_free(&out);
    opg_free(&g);
    if (rc != 0)
        luaL_error(L, W ": %s", err.msg);
    return 1;
}

void lua_place_open(lua_State *L)
{
    lua_register(L, "place", api_place);
}
