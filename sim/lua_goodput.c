/* lua_goodput: goodput{...} (see lua_goodput.h). */
#include "lua_goodput.h"

#include <lauxlib.h>
#include <math.h>
#include <string.h>

#include "goodput.h"
#include "lua_api.h"

#define W "goodput"
#define DAY 86400.0

static const char *const keys[] = {
    "gpus", "days", "failures_per_gpu_day", "checkpoint", "checkpoint_s", "stall_s",
    "restart_s", "detect_s", "reload_s", "interval_s", "weibull_shape", "planned_per_day",
    "runs", "seed", NULL};

static double required(lua_State *L, const char *key)
{
    double v = lua_api_opt_number(L, 1, W, key, 0, 0, 1e15);
    if (!(v > 0))
        luaL_error(L, W ": '%s' is required (a positive number)", key);
    return v;
}

/* interval_s: a number, or "auto" (the default) for the best found. */
static int read_interval(lua_State *L, double *interval_s)
{
    lua_getfield(L, 1, "interval_s");
    int is_auto = lua_isnil(L, -1) ||
                  (lua_type(L, -1) == LUA_TSTRING && strcmp(lua_tostring(L, -1), "auto") == 0);
    lua_pop(L, 1);
    if (!is_auto)
        *interval_s = lua_api_opt_number(L, 1, W, "interval_s", 0, 1e-3, 1e12);
    return is_auto;
}

static void read_job(lua_State *L, goodput_job *job, goodput_policy *p, int *runs, int *seed)
{
    cs_err err;
    double gpus = required(L, "gpus"), days = required(L, "days");
    double rate = required(L, "failures_per_gpu_day"), ckpt = required(L, "checkpoint_s");
    goodput_ckpt kind;
    if (goodput_ckpt_parse(lua_api_opt_string(L, 1, W, "checkpoint", "sync"), &kind, &err))
        luaL_error(L, W ": %s", err.msg);
    double stall = lua_api_opt_number(L, 1, W, "stall_s", kind == GOODPUT_SYNC ? ckpt : -1, 0, 1e12);
    if (stall < 0)
        luaL_error(L, W ": checkpoint '%s' needs 'stall_s' (training stopped per checkpoint)",
                   goodput_ckpt_name(kind));
    double shape = lua_api_opt_number(L, 1, W, "weibull_shape", 1, 1e-3, 100);
    *job = (goodput_job){days * DAY, DAY / (gpus * rate),
                         shape == 1 ? GOODPUT_EXPONENTIAL : GOODPUT_WEIBULL, shape,
                         lua_api_opt_number(L, 1, W, "planned_per_day", 0, 0, 1e6) / DAY,
                         lua_api_opt_number(L, 1, W, "detect_s", 60, 0, 1e9),
                         lua_api_opt_number(L, 1, W, "restart_s", 600, 0, 1e9),
                         lua_api_opt_number(L, 1, W, "reload_s", ckpt, 0, 1e9)};
    *p = (goodput_policy){kind, 1, kind == GOODPUT_SYNC ? ckpt : stall,
                          kind == GOODPUT_SYNC ? 0 : ckpt, stall};
    *runs = (int)lua_api_opt_int(L, 1, W, "runs", 100, 1, 1000000);
    *seed = (int)lua_api_opt_int(L, 1, W, "seed", 1, 0, 0x7fffffff);
}

static void set(lua_State *L, const char *key, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, key);
}

static int api_goodput(lua_State *L)
{
    lua_api_check_keys(L, 1, W, keys);
    goodput_job job;
    goodput_policy p;
    int runs, seed;
    read_job(L, &job, &p, &runs, &seed);
    int is_auto = read_interval(L, &p.interval_s);
    cs_err err;
    if (is_auto)
        p.interval_s = job.mtbf_s;
    if (goodput_check(&job, &p, &err) != 0)
        luaL_error(L, W ": %s", err.msg);
    if (is_auto)
        p.interval_s = goodput_best_interval(&job, &p, runs, (uint64_t)seed, fmax(1, p.stall_s / 10),
                                             fmin(job.horizon_s, 10 * job.mtbf_s));
    goodput_stats st;
    if (goodput_runs(&job, &p, runs, (uint64_t)seed, &st, &err) != 0)
        luaL_error(L, W ": %s", err.msg);
    lua_createtable(L, 0, 12);
    set(L, "runs", st.runs);
    set(L, "mtbf_hours", job.mtbf_s / 3600);
    set(L, "interval_s", p.interval_s);
    set(L, "goodput_mean", st.goodput_mean);
    set(L, "goodput_ci95", st.goodput_ci95);
    set(L, "interruptions_mean", st.interruptions_mean);
    set(L, "interruptions_ci95", st.interruptions_ci95);
    set(L, "planned_mean", st.planned_mean);
    set(L, "lost_hours_mean", st.lost_hours_mean);
    set(L, "checkpoint_hours_mean", st.ckpt_hours_mean);
    set(L, "restart_hours_mean", st.down_hours_mean);
    if (job.dist == GOODPUT_EXPONENTIAL && p.kind == GOODPUT_SYNC && job.planned_per_s == 0) {
        double t = goodput_daly_interval(p.stall_s, job.mtbf_s);
        set(L, "daly_interval_s", t);
        set(L, "daly_goodput", goodput_daly_goodput(t, p.stall_s,
                                                    job.detect_s + job.restart_s + job.reload_s,
                                                    job.mtbf_s));
    }
    return 1;
}

void lua_goodput_open(lua_State *L)
{
    lua_register(L, "goodput", api_goodput);
}
