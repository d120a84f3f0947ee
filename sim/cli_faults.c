/* cli_faults: `clustersim faults`: goodput of a long job under failures
 * and a checkpoint policy, over many simulated runs (costmodel/goodput). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "goodput.h"

#define CMD "faults"
#define HOUR 3600.0
#define DAY (24 * HOUR)

static void faults_help(void)
{
    printf(
        "usage: clustersim faults --gpus N --days D --failures-per-gpu-day R\n"
        "         --checkpoint-s C [--checkpoint sync|async|memory] [--stall-s S]\n"
        "         [--restart-s T] [--detect-s T] [--reload-s T] [--interval-s I|auto]\n"
        "         [--weibull-shape K] [--planned-per-day P] [--runs K] [--seed S]\n"
        "         [--format table|csv]\n\n"
        "Simulates a training job of N GPUs over D days K times (default 100): it trains,\n"
        "checkpoints every I seconds, and loses the work since the last checkpoint at each\n"
        "interruption, then spends detect + restart + reload seconds getting back.  Prints\n"
        "goodput (useful training time over wall time) and interruptions with 95%%\n"
        "confidence intervals, work lost, time in checkpoints and in restarts; with\n"
        "exponential failures and sync checkpoints also Daly's optimum interval and\n"
        "expected goodput beside the simulated ones (docs/faults.md).\n\n"
        "  --gpus N                  GPUs of the job\n"
        "  --days D                  wall time simulated\n"
        "  --failures-per-gpu-day R  unexpected interruptions per GPU per day; the job's mean\n"
        "                            time between failures is 1 / (N R) days\n"
        "  --checkpoint P            sync (default): training stops while the checkpoint is\n"
        "                            written; async: stops for --stall-s (copy to host), the\n"
        "                            write runs behind; memory: as async, to a peer host's\n"
        "                            memory, and a restart reloads from there in --stall-s\n"
        "  --checkpoint-s C          writing one checkpoint to shared storage\n"
        "  --stall-s S               async, memory: training stopped per checkpoint (required)\n"
        "  --restart-s T             rescheduling and initialising (default 600)\n"
        "  --detect-s T              noticing a failure (default 60)\n"
        "  --reload-s T              reading the checkpoint back (default: --checkpoint-s)\n"
        "  --interval-s I|auto       training between checkpoints; auto (default): the best\n"
        "                            mean goodput over the runs (golden-section search)\n"
        "  --weibull-shape K         Weibull lifetimes of shape K with the same mean\n"
        "                            (default: exponential)\n"
        "  --planned-per-day P       planned interruptions (maintenance) per day (default 0)\n"
        "  --runs K, --seed S        runs (default 100) with seeds S, S+1, ... (default 1)\n"
        "  --format F                table (default) or csv\n");
}

typedef struct faults_opts {
    long gpus, runs, seed;
    double days, rate_per_gpu_day, ckpt_s, stall_s, restart_s, detect_s, reload_s;
    double interval_s, weibull_shape, planned_per_day;
    int has_stall, has_reload, has_shape, auto_interval;
    goodput_ckpt kind;
    cli_format fmt;
} faults_opts;

enum { O_GPUS = 1, O_DAYS, O_RATE, O_CKPT, O_CKPT_S, O_STALL, O_RESTART, O_DETECT, O_RELOAD,
       O_INTERVAL, O_SHAPE, O_PLANNED, O_RUNS, O_SEED, O_FORMAT };

static int parse_positive(const char *opt, const char *arg, double *out)
{
    return cli_parse_positive(CMD, opt, arg, out);
}

static int parse_one(int c, const char *arg, faults_opts *o)
{
    cs_err err;
    switch (c) {
    case O_GPUS: return cli_parse_int(CMD, "--gpus", arg, 1, 1 << 24, &o->gpus);
    case O_RUNS: return cli_parse_int(CMD, "--runs", arg, 1, 1000000, &o->runs);
    case O_SEED: return cli_parse_int(CMD, "--seed", arg, 0, 0x7fffffff, &o->seed);
    case O_DAYS: return parse_positive("--days", arg, &o->days);
    case O_RATE: return parse_positive("--failures-per-gpu-day", arg, &o->rate_per_gpu_day);
    case O_CKPT_S: return parse_positive("--checkpoint-s", arg, &o->ckpt_s);
    case O_STALL: o->has_stall = 1; return parse_positive("--stall-s", arg, &o->stall_s);
    case O_RESTART: return parse_positive("--restart-s", arg, &o->restart_s);
    case O_DETECT: return parse_positive("--detect-s", arg, &o->detect_s);
    case O_RELOAD: o->has_reload = 1; return parse_positive("--reload-s", arg, &o->reload_s);
    case O_SHAPE: o->has_shape = 1; return parse_positive("--weibull-shape", arg, &o->weibull_shape);
    case O_PLANNED: return parse_positive("--planned-per-day", arg, &o->planned_per_day);
    case O_FORMAT: return cli_parse_format(CMD, arg, &o->fmt);
    case O_CKPT: return goodput_ckpt_parse(arg, &o->kind, &err) ? cli_bad_err(CMD, &err) : CLI_OK;
    case O_INTERVAL:
        o->auto_interval = strcmp(arg, "auto") == 0;
        return o->auto_interval ? CLI_OK : parse_positive("--interval-s", arg, &o->interval_s);
    default: return cli_bad_option(CMD, 0, NULL);
    }
}

static int check_opts(const faults_opts *o)
{
    if (!o->gpus || !o->days)
        return cli_bad_input(CMD, "--gpus and --days are required");
    if (!o->rate_per_gpu_day)
        return cli_bad_input(CMD, "--failures-per-gpu-day is required (replaying a log is not "
                                  "supported yet)");
    if (!o->ckpt_s)
        return cli_bad_input(CMD, "--checkpoint-s is required (the time to write one "
                                  "checkpoint to shared storage)");
    if (o->kind != GOODPUT_SYNC && !o->has_stall)
        return cli_bad_input(CMD, "--checkpoint %s needs --stall-s (training stopped per "
                                  "checkpoint)", goodput_ckpt_name(o->kind));
    return CLI_OK;
}

static int parse_opts(int argc, char **argv, faults_opts *o)
{
    static const struct option opts[] = {
        {"gpus", required_argument, 0, O_GPUS}, {"days", required_argument, 0, O_DAYS},
        {"failures-per-gpu-day", required_argument, 0, O_RATE},
        {"checkpoint", required_argument, 0, O_CKPT},
        {"checkpoint-s", required_argument, 0, O_CKPT_S},
        {"stall-s", required_argument, 0, O_STALL}, {"restart-s", required_argument, 0, O_RESTART},
        {"detect-s", required_argument, 0, O_DETECT}, {"reload-s", required_argument, 0, O_RELOAD},
        {"interval-s", required_argument, 0, O_INTERVAL},
        {"weibull-shape", required_argument, 0, O_SHAPE},
        {"planned-per-day", required_argument, 0, O_PLANNED},
        {"runs", required_argument, 0, O_RUNS}, {"seed", required_argument, 0, O_SEED},
        {"format", required_argument, 0, O_FORMAT}, {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    o->runs = 100, o->seed = 1, o->restart_s = 600, o->detect_s = 60, o->auto_interval = 1;
    int c, rc;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == '?')
            return cli_bad_option(CMD, argc, argv);
        if ((rc = parse_one(c, optarg, o)))
            return rc;
    }
    if (optind < argc)
        return cli_bad_input(CMD, "unexpected argument '%s'", argv[optind]);
    return check_opts(o);
}

static void fill(const faults_opts *o, goodput_job *job, goodput_policy *p)
{
    *job = (goodput_job){o->days * DAY, DAY / (o->rate_per_gpu_day * (double)o->gpus),
                         o->has_shape ? GOODPUT_WEIBULL : GOODPUT_EXPONENTIAL,
                         o->has_shape ? o->weibull_shape : 1, o->planned_per_day / DAY,
                         o->detect_s, o->restart_s, o->has_reload ? o->reload_s : o->ckpt_s};
    *p = (goodput_policy){o->kind, o->interval_s, o->kind == GOODPUT_SYNC ? o->ckpt_s : o->stall_s,
                          o->kind == GOODPUT_SYNC ? 0 : o->ckpt_s, o->stall_s};
}

static void print_table(const faults_opts *o, const goodput_job *job, const goodput_policy *p,
                        const goodput_stats *st, double daly_t, double daly_g)
{
    printf("# %ld GPUs, %.4g days, %.4g failures per GPU-day: the job fails every %.2f h (%s)\n",
           o->gpus, o->days, o->rate_per_gpu_day, job->mtbf_s / HOUR,
           job->dist == GOODPUT_WEIBULL ? "Weibull" : "exponential");
    printf("# checkpoint %s: %.0f s stall%s; downtime per failure %.0f s (detect %.0f, restart "
           "%.0f, reload %.0f)\n", goodput_ckpt_name(p->kind), p->stall_s,
           p->kind == GOODPUT_SYNC ? "" : " + background write", job->detect_s + job->restart_s +
               (p->kind == GOODPUT_MEMORY ? p->memory_reload_s : job->reload_s),
           job->detect_s, job->restart_s,
           p->kind == GOODPUT_MEMORY ? p->memory_reload_s : job->reload_s);
    printf("interval        %10.0f s%s\n", p->interval_s, o->auto_interval ? " (best found)" : "");
    if (daly_t > 0)
        printf("Daly optimum    %10.0f s (expected goodput at it %.4f)\n", daly_t, daly_g);
    printf("goodput         %10.4f +- %.4f (95%%, %d runs)\n", st->goodput_mean, st->goodput_ci95,
           st->runs);
    printf("interruptions   %10.1f +- %.1f\n", st->interruptions_mean, st->interruptions_ci95);
    printf("work lost       %10.1f h\n", st->lost_hours_mean);
    printf("checkpointing   %10.1f h\n", st->ckpt_hours_mean);
    printf("restarts        %10.1f h\n", st->down_hours_mean);
}

static void print_csv(const goodput_policy *p, const goodput_stats *st)
{
    printf("runs,interruptions_mean,interruptions_ci95,goodput_mean,goodput_ci95,interval_s,"
           "lost_hours_mean,checkpoint_hours_mean,restart_hours_mean,checkpoint\n");
    printf("%d,%.3f,%.3f,%.6f,%.6f,%.1f,%.3f,%.3f,%.3f,%s\n", st->runs, st->interruptions_mean,
           st->interruptions_ci95, st->goodput_mean, st->goodput_ci95, p->interval_s,
           st->lost_hours_mean, st->ckpt_hours_mean, st->down_hours_mean,
           goodput_ckpt_name(p->kind));
}

int cmd_faults(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        faults_help();
        return CLI_OK;
    }
    faults_opts o;
    int rc;
    if ((rc = parse_opts(argc, argv, &o)))
        return rc;
    goodput_job job;
    goodput_policy p;
    fill(&o, &job, &p);
    cs_err err;
    p.interval_s = o.auto_interval ? job.mtbf_s : p.interval_s; /* checked below */
    if (goodput_check(&job, &p, &err) != 0)
        return cli_bad_err(CMD, &err);
    if (o.auto_interval)
        p.interval_s = goodput_best_interval(&job, &p, (int)o.runs, (uint64_t)o.seed,
                                             fmax(1, p.stall_s / 10), fmin(job.horizon_s, 10 * job.mtbf_s));
    goodput_stats st;
    if (goodput_runs(&job, &p, (int)o.runs, (uint64_t)o.seed, &st, &err) != 0)
        return cli_bad_err(CMD, &err);
    int daly = job.dist == GOODPUT_EXPONENTIAL && p.kind == GOODPUT_SYNC && job.planned_per_s == 0;
    double dt = daly ? goodput_daly_interval(p.stall_s, job.mtbf_s) : 0;
    double restart = job.detect_s + job.restart_s + job.reload_s;
    if (o.fmt == CLI_CSV)
        print_csv(&p, &st);
    else
        print_table(&o, &job, &p, &st, dt, daly ? goodput_daly_goodput(dt, p.stall_s, restart, job.mtbf_s) : 0);
    return CLI_OK;
}
