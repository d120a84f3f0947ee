/* lua_collective: collective{...} (see lua_collective.h). */
#include "lua_collective.h"

#include <lauxlib.h>
#include <stdlib.h>
#include <string.h>

#include "collsim.h"
#include "lua_api.h"
#include "units.h"
#include "lua_limits.h"

static const char *const collective_keys[] = {"system", "nodes", "gpus", "op",  "size",
                                              "algo",   "mode",  NULL};

#define W "collective"

/* size: a whole number of bytes or a text such as "256M" (powers of 1024). */
static uint64_t read_size(lua_State *L)
{
    cs_err err;
    uint64_t bytes = 0;
    lua_getfield(L, 1, "size");
    if (lua_type(L, -1) == LUA_TSTRING) {
        if (units_parse_size(lua_tostring(L, -1), "size", &bytes, &err) != 0)
            luaL_error(L, W ": %s", err.msg);
    } else if (lua_isinteger(L, -1) && lua_tointeger(L, -1) > 0) {
        bytes = (uint64_t)lua_tointeger(L, -1);
    } else {
        luaL_error(L, W ": 'size' is required: bytes as a whole number from 1, or a text such as "
                        "\"256M\"");
    }
    lua_pop(L, 1);
    return bytes;
}

typedef struct coll_req {
    coll_op op;
    coll_algo algo;
    uint64_t size_bytes;
    int analytic;
} coll_req;

static void read_request(lua_State *L, coll_req *q)
{
    cs_err err;
    const char *op = lua_check_opt_string(L, 1, W, "op", "allreduce");
    const char *algo = lua_check_opt_string(L, 1, W, "algo", "auto");
    const char *mode = lua_check_opt_string(L, 1, W, "mode", "sim");
    if (coll_op_parse(op, &q->op, &err) != 0 || coll_algo_parse(algo, &q->algo, &err) != 0)
        luaL_error(L, W ": %s", err.msg);
    if (strcmp(mode, "sim") != 0 && strcmp(mode, "analytic") != 0)
        luaL_error(L, W ": 'mode' is '%s'; it must be sim or analytic", mode);
    q->analytic = strcmp(mode, "analytic") == 0;
    q->size_bytes = read_size(L);
}

/* The plan to run: the given algorithm, or the fastest buildable one by the
 * closed form.  Returns 0 or -1 with err; plan is built on success. */
static int choose_plan(topo *t, const coll_req *q, const int32_t *gpus, int n, coll_plan *plan,
                       cs_err *err)
{
    coll_params params;
    coll_params_default(&params);
    if (q->algo != COLL_ALGO_AUTO)
        return coll_plan_build(t, q->op, q->algo, gpus, n, &params, plan, err);
    return coll_plan_best(t, q->op, gpus, n, &params, q->size_bytes, plan, err);
}

static void push_result(lua_State *L, const coll_req *q, const coll_plan *plan, int n,
                        double time_s)
{
    double algbw = time_s > 0 ? (double)q->size_bytes / time_s / 1e9 : 0;
    lua_createtable(L, 0, 9);
    lua_pushstring(L, coll_op_name(q->op));
    lua_setfield(L, -2, "op");
    lua_pushstring(L, coll_algo_name(plan->algo));
    lua_setfield(L, -2, "algo");
    lua_pushstring(L, q->analytic ? "analytic" : "sim");
    lua_setfield(L, -2, "mode");
    lua_pushinteger(L, n);
    lua_setfield(L, -2, "ranks");
    lua_pushinteger(L, (lua_Integer)q->size_bytes);
    lua_setfield(L, -2, "size_bytes");
    lua_pushnumber(L, time_s);
    lua_setfield(L, -2, "time_s");
    lua_pushnumber(L, time_s * 1e6);
    lua_setfield(L, -2, "time_us");
    lua_pushnumber(L, algbw);
    lua_setfield(L, -2, "algbw_gbps");
    lua_pushnumber(L, algbw * coll_busbw_factor(q->op, n));
    lua_setfield(L, -2, "busbw_gbps");
}

static int api_collective(lua_State *L)
{
    lua_limits_check_cpu(L, "collective{}");
    lua_check_keys(L, 1, W, collective_keys);
    coll_req q;
    read_request(L, &q);
    sys_system sys;
    long gpus;
    lua_api_read_system(L, W, &sys, &gpus);
    if (gpus < 2 && q.op != COLL_SENDRECV)
        luaL_error(L, W ": a collective needs 'gpus' of at least 2 (it is %I)", (lua_Integer)gpus);
    if (gpus > COLL_FACE_MAX_RANKS)
        luaL_error(L, W ": the group has %I GPUs; a collective takes at most %d: give 'gpus' or "
                   "fewer 'nodes'", (lua_Integer)gpus, COLL_FACE_MAX_RANKS);
    /* Nothing below raises before the C resources are freed. */
    cs_err err;
    topo *t = NULL;
    if (topo_build(&sys, &t, &err) != 0)
        luaL_error(L, W ": %s", err.msg);
    int32_t *group = malloc(sizeof *group * (size_t)gpus);
    if (!group)
        abort();
    for (long i = 0; i < gpus; i++)
        group[i] = (int32_t)i;
    coll_plan plan;
    int rc = choose_plan(t, &q, group, (int)gpus, &plan, &err);
    double time_s = 0;
    if (rc == 0) {
        time_s = coll_time_s(&plan, q.size_bytes);
        uint64_t end_ps;
        exec_result res;
        const coll_plan *p = &plan;
        if (!q.analytic && (rc = collsim_run(t, &p, &q.size_bytes, 1, &end_ps, &res, &err)) == 0)
            time_s = units_ps_to_s(end_ps);
        if (rc == 0)
            push_result(L, &q, &plan, (int)gpus, time_s);
        coll_plan_free(&plan);
    }
    free(group);
    topo_free(t);
    if (rc != 0)
        luaL_error(L, W ": %s", err.msg);
    return 1;
}

void lua_collective_open(lua_State *L)
{
    lua_register(L, "collective", api_collective);
}
