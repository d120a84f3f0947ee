/* cli_faults: `clustersim faults`: goodput of a long job under failures
 * and a checkpoint policy, over many simulated runs (costmodel/goodput),
 * with failures from one rate, per component class (costmodel/faultmodel)
 * or a log (traces/faultlog), and the checkpoint given or derived from a
 * layout (costmodel/checkpoint). */
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "cli.h"
#include "cli_layoutopt.h"
#include "faultlog.h"
#include "faultmodel.h"
#include "faults_print.h"
#include "report.h"
#include "svg_job.h"

#define CMD "faults"
#define HOUR 3600.0
#define DAY (24 * HOUR)

static void faults_help(void)
{
    printf(
        "usage: clustersim faults --gpus N --days D\n"
        "         (--failures-per-gpu-day R | --rate CLASS=R ... | --fault-model llama3 |\n"
        "          --log FILE.csv) [--system NAME]\n"
        "         (--checkpoint-s C | --model NAME --system NAME --tp T --pp P ... --mbs M\n"
        "          --gbs G [--storage-gbs B]) [--checkpoint sync|async|memory] [--stall-s S]\n"
        "         [--restart-s [CLASS=]T] [--detect-s [CLASS=]T] [--reload-s T]\n"
        "         [--spares N|unlimited] [--repair-h H] [--interval-s I|auto]\n"
        "         [--weibull-shape K] [--planned-per-day P] [--runs K] [--seed S]\n"
        "         [--svg FILE] [--format table|csv]\n\n"
        "Simulates a training job of N GPUs over D days K times (default 100): it trains,\n"
        "checkpoints every I seconds, and loses the work since the last checkpoint at each\n"
        "interruption, then spends detect + spare wait + restart + reload seconds getting\n"
        "back.  Prints goodput (useful training time over wall time) and interruptions with\n"
        "95%% confidence intervals, work lost, time in checkpoints and in restarts, tokens\n"
        "trained when a layout is given; with one exponential failure rate and sync\n"
        "checkpoints also Daly's optimum interval and expected goodput (docs/faults.md).\n\n"
        "Failures (one of):\n"
        "  --failures-per-gpu-day R  interruptions per GPU per day, one class for all\n"
        "  --rate CLASS=R            failures per component-hour of a class: gpu, gpu_memory\n"
        "                            (per GPU), nic, switch (per NIC link), host, software (per\n"
        "                            host); repeat for more classes; needs --system\n"
        "  --fault-model llama3      every class at the rate derived from Llama 3's 54 days\n"
        "                            (--rate overrides one class)\n"
        "  --log FILE.csv            replay interruptions: columns time_h (or time_s),\n"
        "                            component, kind (a class, or planned); one run\n"
        "Checkpoint:\n"
        "  --checkpoint P            sync (default): training stops while the checkpoint is\n"
        "                            written; async: stops for the copy to host memory, the\n"
        "                            write runs behind; memory: as async, to a peer host's\n"
        "                            memory, and a restart reloads from there\n"
        "  --checkpoint-s C          writing one checkpoint to shared storage, or derive it\n"
        "                            from a layout with the job flags below and\n"
        "  --storage-gbs B           shared storage bandwidth in GB/s (default 2000, Llama 3's)\n"
        "  --stall-s S               async, memory: training stopped per checkpoint\n"
        "  --reload-s T              reading the checkpoint back (default: --checkpoint-s)\n"
        "Restarts:\n"
        "  --detect-s [CLASS=]T      noticing a failure (default 60)\n"
        "  --restart-s [CLASS=]T     rescheduling and initialising (default 600)\n"
        "  --spares N|unlimited      hot spare nodes for failures that take a node out\n"
        "                            (gpu, gpu_memory, nic, host; default unlimited)\n"
        "  --repair-h H              repairing a node (default 24); with no spare free the job\n"
        "                            waits for the first repair\n"
        "Runs:\n"
        "  --interval-s I|auto       training between checkpoints; auto (default): the best\n"
        "                            mean goodput over the runs (golden-section search)\n"
        "  --weibull-shape K         Weibull lifetimes of shape K with the same mean\n"
        "  --planned-per-day P       planned interruptions (maintenance) per day (default 0)\n"
        "  --runs K, --seed S        runs (default 100) with seeds S, S+1, ... (default 1)\n"
        "  --svg FILE                the first run along time: training, lost, checkpoint, down\n"
        "  --format F                table (default) or csv\n"
        "Job flags (for component counts, checkpoint size and tokens):\n");
    cli_layoutopt_help();
}

typedef struct faults_opts {
    long runs, seed, spares;
    double days, rate_per_gpu_day, ckpt_s, stall_s, reload_s, interval_s, weibull_shape;
    double planned_per_day, repair_h, storage_gbs, detect_s, restart_s;
    int has_stall, has_reload, has_shape, auto_interval, default_rates, has_runs;
    int rate_given[FAULT_NCLASSES];
    const char *log_path, *svg_path;
    fault_model fm;
    goodput_ckpt kind;
    cli_format fmt;
    layout_flags lf;
} faults_opts;

enum { O_DAYS = 1, O_RATE_GPU_DAY, O_RATE, O_FAULT_MODEL, O_LOG, O_CKPT, O_CKPT_S, O_STORAGE,
       O_STALL, O_RESTART, O_DETECT, O_RELOAD, O_SPARES, O_REPAIR, O_INTERVAL, O_SHAPE,
       O_PLANNED, O_RUNS, O_SEED, O_SVG, O_FORMAT };

static int parse_positive(const char *opt, const char *arg, double *out)
{
    return cli_parse_positive(CMD, opt, arg, out);
}

/* "CLASS=VALUE": the class; *value points after the '='.  0 when there is no '='. */
static int split_class(const char *opt, const char *arg, fault_class *c, const char **value,
                       int *rc)
{
    const char *eq = strchr(arg, '=');
    *rc = CLI_OK;
    if (!eq)
        return 0;
    char name[32];
    snprintf(name, sizeof name, "%.*s", (int)(eq - arg < 31 ? eq - arg : 31), arg);
    cs_err err;
    if (fault_class_parse(name, c, &err) != 0)
        *rc = cli_bad_input(CMD, "%s: %s", opt, err.msg);
    *value = eq + 1;
    return 1;
}

static int parse_rate(const char *arg, faults_opts *o)
{
    fault_class c;
    const char *value;
    int rc;
    if (!split_class("--rate", arg, &c, &value, &rc))
        return cli_bad_input(CMD, "--rate: '%s' is not CLASS=RATE (failures per component-hour)", arg);
    if (rc || (rc = parse_positive("--rate", value, &o->fm.cls[c].per_component_hour)))
        return rc;
    o->rate_given[c] = 1;
    return CLI_OK;
}

/* --detect-s and --restart-s: T for every class, or CLASS=T for one. */
static int parse_time(const char *opt, const char *arg, faults_opts *o, int restart)
{
    fault_class c;
    const char *value;
    int rc;
    double v;
    int one = split_class(opt, arg, &c, &value, &rc);
    if (rc || (rc = cli_parse_nonnegative(CMD, opt, one ? value : arg, &v)))
        return rc;
    for (int k = 0; k < FAULT_NCLASSES; k++)
        if (!one || k == (int)c)
            *(restart ? &o->fm.cls[k].restart_s : &o->fm.cls[k].detect_s) = v;
    if (!one)
        *(restart ? &o->restart_s : &o->detect_s) = v;
    return CLI_OK;
}

static int parse_spares(const char *arg, faults_opts *o)
{
    if (strcmp(arg, "unlimited") == 0) {
        o->spares = GOODPUT_SPARES_UNLIMITED;
        return CLI_OK;
    }
    return cli_parse_int(CMD, "--spares", arg, 0, 1 << 20, &o->spares);
}

static int parse_fault_model(const char *arg, faults_opts *o)
{
    if (strcmp(arg, "llama3") != 0)
        return cli_bad_input(CMD, "--fault-model: '%s' is not a fault model; valid: llama3", arg);
    o->default_rates = 1;
    return CLI_OK;
}

static int parse_one(int c, const char *arg, void *ctx)
{
    faults_opts *o = ctx;
    cs_err err;
    switch (c) {
    case O_RUNS: o->has_runs = 1; return cli_parse_int(CMD, "--runs", arg, 1, 1000000, &o->runs);
    case O_SEED: return cli_parse_int(CMD, "--seed", arg, 0, 0x7fffffff, &o->seed);
    case O_DAYS: return parse_positive("--days", arg, &o->days);
    case O_RATE_GPU_DAY: return parse_positive("--failures-per-gpu-day", arg, &o->rate_per_gpu_day);
    case O_RATE: return parse_rate(arg, o);
    case O_FAULT_MODEL: return parse_fault_model(arg, o);
    case O_LOG: o->log_path = arg; return CLI_OK;
    case O_CKPT_S: return parse_positive("--checkpoint-s", arg, &o->ckpt_s);
    case O_STORAGE: return parse_positive("--storage-gbs", arg, &o->storage_gbs);
    case O_STALL: o->has_stall = 1; return parse_positive("--stall-s", arg, &o->stall_s);
    case O_RESTART: return parse_time("--restart-s", arg, o, 1);
    case O_DETECT: return parse_time("--detect-s", arg, o, 0);
    case O_RELOAD:
        o->has_reload = 1;
        return cli_parse_nonnegative(CMD, "--reload-s", arg, &o->reload_s);
    case O_SPARES: return parse_spares(arg, o);
    case O_REPAIR: return parse_positive("--repair-h", arg, &o->repair_h);
    case O_SHAPE: o->has_shape = 1; return parse_positive("--weibull-shape", arg, &o->weibull_shape);
    case O_PLANNED: return parse_positive("--planned-per-day", arg, &o->planned_per_day);
    case O_SVG: o->svg_path = arg; return CLI_OK;
    case O_FORMAT: return cli_parse_format(CMD, arg, &o->fmt);
    case O_CKPT: return goodput_ckpt_parse(arg, &o->kind, &err) ? cli_bad_err(CMD, &err) : CLI_OK;
    case O_INTERVAL:
        o->auto_interval = strcmp(arg, "auto") == 0;
        return o->auto_interval ? CLI_OK : parse_positive("--interval-s", arg, &o->interval_s);
    default: {
        int rc = cli_layoutopt_parse(CMD, c, arg, &o->lf);
        return rc < 0 ? cli_bad_option(CMD, 0, NULL) : rc;
    }
    }
}

static int any_rate(const faults_opts *o)
{
    for (int c = 0; c < FAULT_NCLASSES; c++)
        if (o->rate_given[c])
            return 1;
    return o->default_rates;
}

static int check_failures(const faults_opts *o)
{
    int ways = (o->rate_per_gpu_day > 0) + any_rate(o) + (o->log_path != NULL);
    if (ways == 0)
        return cli_bad_input(CMD, "give the failures: --failures-per-gpu-day R, --rate CLASS=R, "
                                  "--fault-model llama3 or --log FILE.csv");
    if (ways > 1)
        return cli_bad_input(CMD, "give the failures one way: --failures-per-gpu-day, --rate "
                                  "(with --fault-model) or --log");
    if (o->log_path && (o->has_runs || o->has_shape))
        return cli_bad_input(CMD, "--log replays one run of the logged interruptions: --runs and "
                                  "--weibull-shape draw failures and do not apply");
    if (any_rate(o) && !o->lf.system)
        return cli_bad_input(CMD, "--rate and --fault-model count components on a system: give "
                                  "--system NAME (see 'clustersim system')");
    return CLI_OK;
}

static int check_checkpoint(const faults_opts *o)
{
    int layout = cli_layoutopt_has_model(&o->lf);
    if (!o->ckpt_s && !layout)
        return cli_bad_input(CMD, "--checkpoint-s is required (the time to write one "
                                  "checkpoint to shared storage), or give a layout to derive it");
    if (o->ckpt_s && layout)
        return cli_bad_input(CMD, "give --checkpoint-s or a layout to derive it from, not both");
    if (layout)
        return cli_layoutopt_check(CMD, &o->lf);
    if (o->kind != GOODPUT_SYNC && !o->has_stall)
        return cli_bad_input(CMD, "--checkpoint %s needs --stall-s (training stopped per "
                                  "checkpoint)", goodput_ckpt_name(o->kind));
    return CLI_OK;
}

static int check_opts(const faults_opts *o)
{
    int rc;
    if (!o->lf.gpus || !o->days)
        return cli_bad_input(CMD, "--gpus and --days are required");
    if ((rc = check_failures(o)) || (rc = check_checkpoint(o)))
        return rc;
    return cli_check_out_path(CMD, "--svg", o->svg_path);
}

static void init_opts(faults_opts *o)
{
    memset(o, 0, sizeof *o);
    cli_layoutopt_init(&o->lf);
    fault_model_default(&o->fm);
    for (int c = 0; c < FAULT_NCLASSES; c++)
        o->fm.cls[c].per_component_hour = 0; /* given, or the defaults with --fault-model */
    o->runs = 100, o->seed = 1, o->restart_s = 600, o->detect_s = 60, o->auto_interval = 1;
    o->spares = GOODPUT_SPARES_UNLIMITED, o->repair_h = 24, o->storage_gbs = 2000;
}

static int parse_opts(int argc, char **argv, faults_opts *o)
{
    static const struct option own[] = {
        {"days", required_argument, 0, O_DAYS},
        {"failures-per-gpu-day", required_argument, 0, O_RATE_GPU_DAY},
        {"rate", required_argument, 0, O_RATE}, {"fault-model", required_argument, 0, O_FAULT_MODEL},
        {"log", required_argument, 0, O_LOG}, {"checkpoint", required_argument, 0, O_CKPT},
        {"checkpoint-s", required_argument, 0, O_CKPT_S},
        {"storage-gbs", required_argument, 0, O_STORAGE},
        {"stall-s", required_argument, 0, O_STALL}, {"restart-s", required_argument, 0, O_RESTART},
        {"detect-s", required_argument, 0, O_DETECT}, {"reload-s", required_argument, 0, O_RELOAD},
        {"spares", required_argument, 0, O_SPARES}, {"repair-h", required_argument, 0, O_REPAIR},
        {"interval-s", required_argument, 0, O_INTERVAL},
        {"weibull-shape", required_argument, 0, O_SHAPE},
        {"planned-per-day", required_argument, 0, O_PLANNED},
        {"runs", required_argument, 0, O_RUNS}, {"seed", required_argument, 0, O_SEED},
        {"svg", required_argument, 0, O_SVG}, {"format", required_argument, 0, O_FORMAT}};
    enum { NOWN = sizeof own / sizeof own[0] };
    struct option opts[CLI_LAYOUTOPT_TABLE(NOWN)];
    cli_layoutopt_table(opts, own, NOWN);
    init_opts(o);
    int rc;
    if ((rc = cli_getopt_each(CMD, argc, argv, opts, NULL, parse_one, o)))
        return rc;
    return check_opts(o);
}

/* ---- the study ---- */

typedef struct faults_run {
    goodput_job job;
    goodput_policy p;
    faultlog log;
    sys_system sys;
    int has_sys;
    ckpt_cost ckpt;
    int has_ckpt;
    char layout[160], failures[200];
    double tokens_per_s;
} faults_run;

/* The checkpoint's costs and the tokens per second from the layout. */
static int derive_from_layout(const faults_opts *o, faults_run *r)
{
    cli_job job;
    int rc = cli_layoutopt_build(CMD, &o->lf, &job);
    cs_err err;
    estimate_result est = {0};
    ckpt_storage st = {o->storage_gbs * 1e9, o->storage_gbs * 1e9};
    if (rc == CLI_OK && (estimate_analytic(&job.in, &est, &err) != 0 ||
                         ckpt_cost_of(&job.model, &job.layout, &job.sys.groups[0].node, &st,
                                      job.eff.profile, &r->ckpt, &err) != 0))
        rc = cli_bad_err(CMD, &err);
    if (rc == CLI_OK) {
        r->has_ckpt = 1, r->tokens_per_s = est.tokens_per_s;
        r->sys = job.sys, r->has_sys = 1;
        layout_describe(&job.layout, r->layout, sizeof r->layout);
    }
    estimate_result_free(&est);
    cli_job_free(&job);
    return rc;
}

static void policy_of(const faults_opts *o, faults_run *r)
{
    goodput_policy *p = &r->p;
    p->kind = o->kind;
    p->interval_s = o->interval_s;
    if (r->has_ckpt) {
        const ckpt_cost *c = &r->ckpt;
        p->stall_s = o->has_stall ? o->stall_s : o->kind == GOODPUT_SYNC ? c->sync_s : c->snapshot_s;
        p->write_s = o->kind == GOODPUT_ASYNC ? c->sync_s : c->peer_copy_s;
        p->memory_reload_s = c->memory_reload_s;
        r->job.reload_s = o->has_reload ? o->reload_s : c->reload_s;
    } else {
        p->stall_s = o->kind == GOODPUT_SYNC ? o->ckpt_s : o->stall_s;
        p->write_s = o->ckpt_s;
        p->memory_reload_s = o->stall_s;
        r->job.reload_s = o->has_reload ? o->reload_s : o->ckpt_s;
    }
    if (o->kind == GOODPUT_SYNC)
        p->write_s = 0;
}

/* Failures by class: the components on the system, the rates, or the log. */
static int class_failures(const faults_opts *o, faults_run *r)
{
    double count[FAULT_NCLASSES] = {0}; /* a replay without a system counts nothing */
    if (!r->has_sys && o->lf.system) {
        topo *t = NULL;
        long gpus;
        int rc = cli_build_job(CMD, o->lf.system, o->lf.gpus, o->lf.nodes, &r->sys, &t, &gpus);
        topo_free(t);
        if (rc)
            return rc;
        r->has_sys = 1;
    }
    if (r->has_sys)
        fault_components(&r->sys, o->lf.gpus, count);
    fault_model fm = o->fm, def;
    fault_model_default(&def);
    for (int c = 0; c < FAULT_NCLASSES; c++)
        if (o->default_rates && !o->rate_given[c])
            fm.cls[c].per_component_hour = def.cls[c].per_component_hour;
    fault_sources(&fm, count, &r->job);
    if (r->has_sys)
        snprintf(r->failures, sizeof r->failures, "failures by class on %s (%.0f hosts, %.0f "
                 "NICs)", r->sys.name, count[FAULT_HOST], count[FAULT_NIC]);
    if (!o->log_path)
        return CLI_OK;
    cs_err err;
    if (faultlog_read(o->log_path, &r->log, &err) != 0)
        return cli_bad_err(CMD, &err);
    r->job.log = r->log.events, r->job.nlog = r->log.n;
    snprintf(r->failures, sizeof r->failures, "%d interruptions replayed from %s", r->log.n,
             o->log_path);
    return CLI_OK;
}

static int build_run(const faults_opts *o, faults_run *r)
{
    memset(r, 0, sizeof *r);
    int rc;
    if (cli_layoutopt_has_model(&o->lf) && (rc = derive_from_layout(o, r)))
        return rc;
    goodput_job *job = &r->job;
    if (o->rate_per_gpu_day > 0) {
        *job = goodput_job_single(0, DAY / (o->rate_per_gpu_day * (double)o->lf.gpus),
                                  o->detect_s, o->restart_s, 0);
        snprintf(r->failures, sizeof r->failures, "%.4g failures per GPU-day", o->rate_per_gpu_day);
    } else if ((rc = class_failures(o, r))) {
        return rc;
    }
    job->horizon_s = o->days * DAY;
    job->dist = o->has_shape ? GOODPUT_WEIBULL : GOODPUT_EXPONENTIAL;
    job->weibull_shape = o->has_shape ? o->weibull_shape : 1;
    job->planned_per_s = o->planned_per_day / DAY;
    job->planned_restart_s = o->restart_s;
    job->spares = (int)o->spares;
    job->repair_s = o->repair_h * HOUR;
    policy_of(o, r);
    return CLI_OK;
}

static int daly_applies(const goodput_job *job, const goodput_policy *p)
{
    return job->nsources == 1 && !job->log && job->dist == GOODPUT_EXPONENTIAL &&
           p->kind == GOODPUT_SYNC && job->planned_per_s == 0 &&
           job->spares == GOODPUT_SPARES_UNLIMITED;
}

/* The first run, drawn along time into path. */
static int write_svg(const char *path, const faults_run *r, uint64_t seed, cs_err *err)
{
    if (goodput_check_trace(&r->job, &r->p, err) != 0)
        return -1;
    goodput_trace tr;
    goodput_run one;
    goodput_simulate(&r->job, &r->p, seed, &one, &tr);
    char title[300];
    snprintf(title, sizeof title, "%s; checkpoint %s every %.0f s: goodput %.4f",
             r->failures, goodput_ckpt_name(r->p.kind), r->p.interval_s, one.goodput);
    const char *name;
    report_set *rs = report_for_path(path, &name);
    FILE *f = report_begin(rs, name, err);
    int rc = f ? svg_job_write(f, &tr, r->job.horizon_s, title, err) : -1;
    if (rc == 0)
        rc = report_commit(rs, err);
    report_free(rs);
    goodput_trace_free(&tr);
    return rc;
}

/* Progress on a terminal: runs simulated of those planned (the interval
 * search's, then the study's). */
typedef struct progress {
    double started_s;
    long total;
} progress;

static void show_progress(void *ctx, long runs_done)
{
    const progress *pr = ctx;
    if (runs_done < pr->total)
        cli_progress(CMD, "runs", runs_done, pr->total, pr->started_s);
}

static int study(const faults_opts *o, faults_run *r)
{
    cs_err err;
    goodput_job *job = &r->job;
    goodput_policy *p = &r->p;
    int runs = job->log ? 1 : (int)o->runs; /* a replay draws nothing */
    double mtbf = goodput_job_mtbf_s(job);
    p->interval_s = o->auto_interval ? fmax(GOODPUT_MIN_INTERVAL_S, fmin(mtbf, job->horizon_s))
                                     : p->interval_s;
    double lo_s = fmax(1, p->stall_s / 10), hi_s = fmin(job->horizon_s, 10 * mtbf);
    /* the work bound counts the interval search's runs too */
    long all_runs = runs + (o->auto_interval ? goodput_best_interval_runs(runs, lo_s, hi_s) : 0);
    if (goodput_check(job, p, &err) != 0 ||
        goodput_check_work(job, (int)(all_runs < INT_MAX ? all_runs : INT_MAX), &err) != 0)
        return cli_bad_err(CMD, &err);
    progress pr = {cli_wall_s(), all_runs};
    goodput_set_progress(show_progress, &pr);
    if (o->auto_interval)
        p->interval_s = goodput_best_interval(job, p, runs, (uint64_t)o->seed, lo_s, hi_s);
    goodput_stats st;
    int rc = goodput_runs(job, p, runs, (uint64_t)o->seed, &st, &err);
    cli_progress(CMD, "runs", pr.total, pr.total, pr.started_s); /* clears the line */
    goodput_set_progress(NULL, NULL);
    if (rc != 0 || (o->svg_path && write_svg(o->svg_path, r, (uint64_t)o->seed, &err) != 0))
        return cli_bad_err(CMD, &err);
    faults_study fs = {o->lf.gpus, o->days, r->failures, o->auto_interval,
                       r->has_ckpt ? &r->ckpt : NULL, r->layout, r->tokens_per_s, 0, 0};
    if (daly_applies(job, p)) {
        const goodput_source *s = &job->src[0];
        fs.daly_interval_s = goodput_daly_interval(p->stall_s, mtbf);
        fs.daly_goodput = goodput_daly_goodput(fs.daly_interval_s, p->stall_s,
                                               s->detect_s + s->restart_s + job->reload_s, mtbf);
    }
    if (o->fmt == CLI_CSV)
        faults_print_csv(stdout, &fs, job, p, &st);
    else
        faults_print_table(stdout, &fs, job, p, &st);
    return CLI_OK;
}

int cmd_faults(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        faults_help();
        return CLI_OK;
    }
    faults_opts o;
    faults_run r;
    int rc;
    if ((rc = parse_opts(argc, argv, &o)))
        return rc;
    if ((rc = build_run(&o, &r)) == CLI_OK)
        rc = study(&o, &r);
    faultlog_free(&r.log);
    return rc;
}
