/* lua_estimate: estimate{...} and simulate{...} for scenarios (see
 * lua_estimate.h). */
#include "lua_estimate.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "checkpoint.h"
#include "lua_api.h"
#include "lua_offload.h"
#include "memory.h"
#include "trainsim.h"
#include "lua_limits.h"

static const char *const estimate_keys[] = {"mode", "ranks", "storage_gbs", NULL};
static const char *const simulate_keys[] = {"ranks", "check_memory", "storage_gbs", NULL};

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
                               {"peak_mem_gib", st->peak_mem_bytes / GIB},
                               /* sharding (zero 2, 3, HSDP): part of dp_exposed_s, and hidden */
                               {"shard_exposed_s", st->shard_exposed_s},
                               {"shard_hidden_s", st->shard_hidden_s},
                               /* context parallelism: exposed and hidden exchanges */
                               {"cp_exposed_s", st->cp_exposed_s},
                               {"cp_hidden_s", st->cp_hidden_s}};
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
    lua_offload_push_report(L, &r->offload);
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

static int run(lua_State *L, int simulate)
{
    lua_limits_check_cpu(L, simulate ? "simulate{}" : "estimate{}");
    const char *W = simulate ? "simulate" : "estimate";
    lua_api_check_job_keys(L, W, simulate ? simulate_keys : estimate_keys);
    const char *mode = simulate ? "sim" : lua_check_opt_string(L, 1, W, "mode", "sim");
    const char *ranks = lua_check_opt_string(L, 1, W, "ranks", "folded");
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
    if (simulate && lua_check_opt_bool(L, 1, W, "check_memory", 1) &&
        (layout_validate(l, m, (int)job.gpus, node->gpus, &err) != 0 ||
         memory_require_fit(m, l, node->gpu, &err) != 0))
        luaL_error(L, "%s: %s (check_memory = false draws it anyway)", W, err.msg);
    timeline *tl = NULL;
    if (simulate) { /* owned by Lua from here: freed by its __gc whatever happens */
        tl = lua_newuserdatauv(L, sizeof *tl, 0);
        memset(tl, 0, sizeof *tl);
        luaL_setmetatable(L, LUA_API_TIMELINE_META);
    }
    double storage_gbs = lua_check_opt_number(L, 1, W, "storage_gbs", 2000, 1e-6, 1e9);
    /* Nothing below raises before t is freed: Lua errors would skip the free. */
    topo *t = NULL;
    if (topo_build(&job.sys, &t, &err) != 0)
        lua_api_fail(L, W, &err);
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
        lua_api_fail(L, W, &err);
    if (tl) {
        lua_pushvalue(L, -2); /* the timeline userdata */
        lua_setfield(L, -2, "timeline");
    }
    return 1;
}

static int api_estimate(lua_State *L) { return run(L, 0); }
static int api_simulate(lua_State *L) { return run(L, 1); }


void lua_estimate_open(lua_State *L)
{
    lua_register(L, "estimate", api_estimate);
    lua_register(L, "simulate", api_simulate);
}
