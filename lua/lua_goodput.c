/* lua_goodput: goodput{...} (see lua_goodput.h). */
#include "lua_goodput.h"

#include <lauxlib.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "faultmodel.h"
#include "goodput.h"
#include "lua_api.h"
#include "report.h"
#include "svg_job.h"
#include "system.h"
#include "lua_limits.h"

#define W "goodput"
#define DAY 86400.0

static const char *const keys[] = {
    "gpus", "days", "failures_per_gpu_day", "rates", "fault_model", "system", "nodes",
    "checkpoint", "checkpoint_s", "stall_s", "restart_s", "detect_s", "reload_s", "spares",
    "repair_h", "interval_s", "weibull_shape", "planned_per_day", "runs", "seed", "svg", NULL};

static double required(lua_State *L, const char *key)
{
    double v = lua_check_opt_number(L, 1, W, key, 0, 0, 1e15);
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
        *interval_s = lua_check_opt_number(L, 1, W, "interval_s", 0, 1e-3, 1e12);
    return is_auto;
}

/* rates = {gpu = R, ...} (failures per component-hour), over the defaults
 * when fault_model = "llama3". */
static void read_rates(lua_State *L, fault_model *fm)
{
    const char *base = lua_check_opt_string(L, 1, W, "fault_model", NULL);
    if (base && strcmp(base, "llama3") != 0)
        luaL_error(L, W ": fault_model '%s' is not one of: llama3", base);
    fault_model_default(fm);
    for (int c = 0; c < FAULT_NCLASSES && !base; c++)
        fm->cls[c].per_component_hour = 0;
    if (lua_getfield(L, 1, "rates") != LUA_TNIL) {
        luaL_checktype(L, -1, LUA_TTABLE);
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            fault_class c = FAULT_GPU; /* set: clang cannot know luaL_error does not return */
            cs_err err;
            if (lua_type(L, -2) != LUA_TSTRING || fault_class_parse(lua_tostring(L, -2), &c, &err))
                luaL_error(L, W ": rates: %s", lua_type(L, -2) == LUA_TSTRING ? err.msg
                                                                                : "keys are class names");
            double r = lua_tonumber(L, -1);
            if (!lua_isnumber(L, -1) || !(r > 0))
                luaL_error(L, W ": rates.%s must be a positive number of failures per "
                              "component-hour", fault_class_name(c));
            fm->cls[c].per_component_hour = r;
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
}

/* The failure sources: one rate for every GPU, or by class on a system. */
static void read_failures(lua_State *L, goodput_job *job, double detect, double restart)
{
    lua_getfield(L, 1, "failures_per_gpu_day");
    int single = !lua_isnil(L, -1);
    lua_pop(L, 1);
    if (single) {
        double gpus = required(L, "gpus"), rate = required(L, "failures_per_gpu_day");
        job->nsources = 1;
        job->src[0] = (goodput_source){"any", DAY / (gpus * rate), detect, restart, 0};
        return;
    }
    lua_getfield(L, 1, "system");
    int has_system = !lua_isnil(L, -1);
    lua_pop(L, 1);
    if (!has_system)
        luaL_error(L, W ": give failures_per_gpu_day, or rates (or fault_model) with a system");
    sys_system sys;
    long gpus;
    lua_api_read_system(L, W, &sys, &gpus);
    fault_model fm;
    read_rates(L, &fm);
    for (int c = 0; c < FAULT_NCLASSES; c++)
        fm.cls[c].detect_s = detect, fm.cls[c].restart_s = restart;
    double count[FAULT_NCLASSES];
    fault_components(&sys, gpus, count);
    fault_sources(&fm, count, job);
}

static void read_job(lua_State *L, goodput_job *job, goodput_policy *p, int *runs, int *seed)
{
    cs_err err;
    double days = required(L, "days"), ckpt = required(L, "checkpoint_s");
    goodput_ckpt kind;
    if (goodput_ckpt_parse(lua_check_opt_string(L, 1, W, "checkpoint", "sync"), &kind, &err))
        luaL_error(L, W ": %s", err.msg);
    double stall = lua_check_opt_number(L, 1, W, "stall_s", kind == GOODPUT_SYNC ? ckpt : -1, 0, 1e12);
    if (stall < 0)
        luaL_error(L, W ": checkpoint '%s' needs 'stall_s' (training stopped per checkpoint)",
                   goodput_ckpt_name(kind));
    double shape = lua_check_opt_number(L, 1, W, "weibull_shape", 1, 1e-3, 100);
    double restart = lua_check_opt_number(L, 1, W, "restart_s", 600, 0, 1e9);
    memset(job, 0, sizeof *job);
    read_failures(L, job, lua_check_opt_number(L, 1, W, "detect_s", 60, 0, 1e9), restart);
    job->horizon_s = days * DAY;
    job->dist = shape == 1 ? GOODPUT_EXPONENTIAL : GOODPUT_WEIBULL;
    job->weibull_shape = shape;
    job->planned_per_s = lua_check_opt_number(L, 1, W, "planned_per_day", 0, 0, 1e6) / DAY;
    job->planned_restart_s = restart;
    job->reload_s = lua_check_opt_number(L, 1, W, "reload_s", ckpt, 0, 1e9);
    job->spares = (int)lua_check_opt_int(L, 1, W, "spares", GOODPUT_SPARES_UNLIMITED, -1, 1 << 20);
    job->repair_s = lua_check_opt_number(L, 1, W, "repair_h", 24, 0, 1e6) * 3600;
    *p = (goodput_policy){kind, 1, kind == GOODPUT_SYNC ? ckpt : stall,
                          kind == GOODPUT_SYNC ? 0 : ckpt, stall};
    *runs = (int)lua_check_opt_int(L, 1, W, "runs", 100, 1, 1000000);
    *seed = (int)lua_check_opt_int(L, 1, W, "seed", 1, 0, 0x7fffffff);
}

/* svg = "name.svg": the first run along time, into the scenario's reports. */
static void write_svg(lua_State *L, const goodput_job *job, const goodput_policy *p, int seed)
{
    const char *name = lua_check_opt_string(L, 1, W, "svg", NULL);
    if (!name)
        return;
    cs_err err;
    if (goodput_check_trace(job, p, &err) != 0)
        luaL_error(L, W ": svg: %s", err.msg);
    FILE *f = report_begin(lua_api_reports(L), name, &err);
    if (!f)
        luaL_error(L, W ": svg: %s", err.msg);
    goodput_trace tr;
    goodput_run one;
    goodput_simulate(job, p, (uint64_t)seed, &one, &tr);
    char title[200];
    snprintf(title, sizeof title, "checkpoint %s every %.0f s: goodput %.4f",
             goodput_ckpt_name(p->kind), p->interval_s, one.goodput);
    int rc = svg_job_write(f, &tr, job->horizon_s, title, &err);
    goodput_trace_free(&tr); /* before any error: luaL_error does not return */
    if (rc != 0)
        luaL_error(L, W ": svg: %s", err.msg);
}

static void set(lua_State *L, const char *key, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, key);
}

static int api_goodput(lua_State *L)
{
    lua_limits_check_cpu(L, "goodput{}");
    lua_check_keys(L, 1, W, keys);
    goodput_job job;
    goodput_policy p;
    int runs, seed;
    read_job(L, &job, &p, &runs, &seed);
    int is_auto = read_interval(L, &p.interval_s);
    cs_err err;
    double mtbf = goodput_job_mtbf_s(&job);
    if (is_auto)
        p.interval_s = fmax(GOODPUT_MIN_INTERVAL_S, fmin(mtbf, job.horizon_s));
    double lo_s = fmax(1, p.stall_s / 10), hi_s = fmin(job.horizon_s, 10 * mtbf);
    /* the work bound counts the interval search's runs too */
    long all_runs = runs + (is_auto ? goodput_best_interval_runs(runs, lo_s, hi_s) : 0);
    if (goodput_check(&job, &p, &err) != 0 ||
        goodput_check_work(&job, (int)(all_runs < INT_MAX ? all_runs : INT_MAX), &err) != 0)
        luaL_error(L, W ": %s", err.msg);
    if (is_auto)
        p.interval_s = goodput_best_interval(&job, &p, runs, (uint64_t)seed, lo_s, hi_s);
    goodput_stats st;
    if (goodput_runs(&job, &p, runs, (uint64_t)seed, &st, &err) != 0)
        luaL_error(L, W ": %s", err.msg);
    write_svg(L, &job, &p, seed);
    lua_createtable(L, 0, 12);
    set(L, "runs", st.runs);
    set(L, "mtbf_hours", mtbf / 3600);
    set(L, "interval_s", p.interval_s);
    set(L, "goodput_mean", st.goodput_mean);
    set(L, "goodput_ci95", st.goodput_ci95);
    set(L, "interruptions_mean", st.interruptions_mean);
    set(L, "interruptions_ci95", st.interruptions_ci95);
    set(L, "planned_mean", st.planned_mean);
    set(L, "lost_hours_mean", st.lost_hours_mean);
    set(L, "checkpoint_hours_mean", st.ckpt_hours_mean);
    set(L, "restart_hours_mean", st.down_hours_mean);
    set(L, "spare_wait_hours_mean", st.spare_wait_hours_mean);
    lua_createtable(L, 0, job.nsources);
    for (int i = 0; i < job.nsources; i++)
        set(L, job.src[i].name, st.by_source_mean[i]);
    lua_setfield(L, -2, "by_class");
    if (job.nsources == 1 && job.dist == GOODPUT_EXPONENTIAL && p.kind == GOODPUT_SYNC &&
        job.planned_per_s == 0 && job.spares == GOODPUT_SPARES_UNLIMITED) {
        double t = goodput_daly_interval(p.stall_s, mtbf);
        set(L, "daly_interval_s", t);
        set(L, "daly_goodput", goodput_daly_goodput(t, p.stall_s, job.src[0].detect_s +
                                                    job.src[0].restart_s + job.reload_s, mtbf));
    }
    return 1;
}

void lua_goodput_open(lua_State *L)
{
    lua_register(L, "goodput", api_goodput);
}
