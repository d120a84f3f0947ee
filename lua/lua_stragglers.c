/* lua_stragglers: stragglers{...} (see lua_stragglers.h and docs/lua.md). */
#include "lua_stragglers.h"

#include <lauxlib.h>
#include <limits.h>
#include <stdio.h>

#include "lua_api.h"
#include "stragglers.h"
#include "lua_limits.h"

#define W "stragglers"
#define MAX_SLOW 65536

static const char *const own_keys[] = {"slow", "slow_prob", "slow_factor", "iterations", "seed",
                                       NULL};
static const char *const slow_keys[] = {"gpu", "link", "factor", "from", "to", NULL};

/* One entry of `slow` at the top of the stack: {gpu = RANK | link = NODE,
 * factor = F, from = I, to = J}.  Ranges against the job are checked later
 * (straggler_check), once the topology says how many nodes there are. */
static void read_one(lua_State *L, int i, straggler *s)
{
    char what[48];
    snprintf(what, sizeof what, W ": slow[%d]", i);
    if (!lua_istable(L, -1))
        luaL_error(L, "%s must be a table such as {gpu = 5, factor = 1.5}, not %s", what,
                   luaL_typename(L, -1));
    lua_check_keys(L, -1, what, slow_keys);
    int at = lua_gettop(L);
    lua_Integer gpu = lua_check_opt_int(L, at, what, "gpu", -1, 0, INT_MAX);
    lua_Integer link = lua_check_opt_int(L, at, what, "link", -1, 0, INT_MAX);
    if ((gpu < 0) == (link < 0))
        luaL_error(L, "%s: give one of 'gpu' (a rank) or 'link' (a node whose NICs slow down)",
                   what);
    s->kind = gpu >= 0 ? STRAGGLER_GPU : STRAGGLER_LINK;
    s->target = (int)(gpu >= 0 ? gpu : link);
    lua_getfield(L, at, "factor");
    if (lua_type(L, -1) != LUA_TNUMBER)
        luaL_error(L, "%s: 'factor' is required: a number >= 1 (2: half speed)", what);
    s->factor = lua_tonumber(L, -1);
    lua_pop(L, 1);
    s->from_iter = (int)lua_check_opt_int(L, at, what, "from", 0, 0, INT_MAX);
    s->to_iter = (int)lua_check_opt_int(L, at, what, "to", INT_MAX, 0, INT_MAX);
}

/* `slow`, a list of stragglers, into a userdata left on the stack (so Lua
 * frees it whatever raises later); returns its entries and count. */
static straggler *read_slow(lua_State *L, int *n)
{
    lua_getfield(L, 1, "slow");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        *n = 0;
        return lua_newuserdatauv(L, sizeof(straggler), 0);
    }
    if (!lua_istable(L, -1))
        luaL_error(L, W ": 'slow' must be a list such as {{gpu = 5, factor = 1.5}}, not %s",
                   luaL_typename(L, -1));
    lua_Integer len = luaL_len(L, -1);
    if (len > MAX_SLOW)
        luaL_error(L, W ": 'slow' has %I entries; at most %d", len, MAX_SLOW);
    *n = (int)len;
    straggler *list = lua_newuserdatauv(L, sizeof *list * (size_t)(len > 0 ? len : 1), 0);
    for (int i = 0; i < *n; i++) {
        lua_rawgeti(L, -2, i + 1);
        read_one(L, i + 1, &list[i]);
        lua_pop(L, 1);
    }
    lua_remove(L, -2); /* the list; the userdata stays */
    return list;
}

#define set lua_api_set_number
#define set_int lua_api_set_int

static void set_place(lua_State *L, const layout_desc *l, int gpu)
{
    straggler_place at = straggler_place_of(l, gpu);
    set_int(L, "stage", at.stage);
    set_int(L, "tp", at.tp);
    set_int(L, "dp", at.dp);
}

/* held_up_by: the GPUs that held the others up, most often first, each
 * {gpu, stage, tp, dp, iterations}; and `none`, the iterations none did. */
static void push_held_up(lua_State *L, const straggler_summary *s, const layout_desc *l)
{
    lua_createtable(L, s->nculprits, 1);
    for (int i = 0; i < s->nculprits; i++) {
        lua_createtable(L, 0, 5);
        set_int(L, "gpu", s->culprits[i].gpu);
        set_place(L, l, s->culprits[i].gpu);
        set_int(L, "iterations", s->culprits[i].iterations);
        lua_rawseti(L, -2, i + 1);
    }
    set_int(L, "none", s->none);
    lua_setfield(L, -2, "held_up_by");
}

/* iterations: one row per iteration, the CLI's columns (held_up_by -1: none). */
static void push_iterations(lua_State *L, const straggler_result *r, const layout_desc *l)
{
    lua_createtable(L, r->n, 0);
    for (int i = 0; i < r->n; i++) {
        const straggler_iter *it = &r->iters[i];
        lua_createtable(L, 0, 11);
        set_int(L, "iteration", i);
        set(L, "step_s", it->iteration_s);
        set(L, "vs_baseline_percent", 100 * (it->iteration_s / r->baseline_s - 1));
        set_int(L, "gpus_slowed", it->gpus_slowed);
        set_int(L, "links_slowed", it->links_slowed);
        set_int(L, "held_up_by", it->held_up_by);
        if (it->held_up_by >= 0)
            set_place(L, l, it->held_up_by);
        set(L, "compute_s", it->busiest_s);
        set(L, "unslowed_compute_s", it->base_busy_s);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "iterations");
}

static void push_result(lua_State *L, const straggler_result *r, const layout_desc *l)
{
    straggler_summary s;
    straggler_summarize(r, &s);
    lua_createtable(L, 0, 10);
    set(L, "baseline_s", r->baseline_s);
    set(L, "min_s", s.min_s);
    set(L, "median_s", s.median_s);
    set(L, "p90_s", s.p90_s);
    set(L, "max_s", s.max_s);
    set(L, "mean_s", s.mean_s);
    set_int(L, "simulations", r->simulations);
    push_held_up(L, &s, l);
    straggler_summary_free(&s);
    push_iterations(L, r, l);
}

/* Each straggler against the job, naming the entry of `slow` at fault;
 * returns 0 or fills err. */
static int check_slow(const estimate_input *in, const straggler *list, int n, cs_err *err)
{
    for (int i = 0; i < n; i++) {
        cs_err one;
        if (straggler_check(in, &list[i], &one) != 0)
            return cs_fail(err, "slow[%d]: %s", i + 1, one.msg);
    }
    return 0;
}

static int api_stragglers(lua_State *L)
{
    lua_limits_check_cpu(L, "stragglers{}");
    lua_api_check_job_keys(L, W, own_keys);
    lua_api_job job;
    lua_api_read_job(L, W, &job);
    straggler_plan plan = {0};
    plan.iterations = (int)lua_check_opt_int(L, 1, W, "iterations", 20, 1, 100000);
    plan.seed = (uint64_t)lua_check_opt_int(L, 1, W, "seed", 1, 0, 0x7fffffff);
    plan.random_prob = lua_check_opt_number(L, 1, W, "slow_prob", 0, 0, 1);
    plan.random_factor = lua_check_opt_number(L, 1, W, "slow_factor", 1.5, 1, 1e6);
    plan.list = read_slow(L, &plan.n);
    /* Nothing below raises before t is freed: Lua errors would skip the free. */
    cs_err err;
    topo *t = NULL;
    if (topo_build(&job.sys, &t, &err) != 0)
        luaL_error(L, W ": %s", err.msg);
    estimate_input in = {&job.model, &job.layout, t, (int)job.gpus, &job.eff};
    straggler_result r = {0};
    int rc = check_slow(&in, plan.list, plan.n, &err);
    if (rc == 0)
        rc = straggler_run(&in, &plan, &r, &err);
    topo_free(t);
    if (rc == 0)
        push_result(L, &r, &job.layout);
    straggler_result_free(&r);
    if (rc != 0)
        luaL_error(L, W ": %s", err.msg);
    return 1;
}

void lua_stragglers_open(lua_State *L)
{
    lua_register(L, "stragglers", api_stragglers);
}
