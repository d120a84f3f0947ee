/* cli_search: `clustersim search`: every valid layout of a model on a
 * cluster for a global batch, ranked: the closed form over all of them,
 * then the best K simulated. */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_modelopt.h"
#include "cli_shardopt.h"
#include "profile.h"
#include "search_report.h"
#include "searchsim.h"

#define CMD "search"

static void search_help(void)
{
    printf(
        "usage: clustersim search --system NAME (--gpus N | --nodes N) --gbs G\n"
        "         (--model NAME | shape flags) [--seq S] [--dtype D] [--top K]\n"
        "         [--objective time|mfu|memory] [--fix tp=8,pp=4,...] [--max-tp T]\n"
        "         [--max-vpp V] [--max-cp C] [--threads N] [--csv FILE] [--svg FILE] [--format table|csv]\n"
        "         [--failures-per-gpu-day R] [--checkpoint sync|async] [--storage-gbs B]\n"
        "         [--restart-s T] [--framework F] [--offload W [--offload-to T]]\n"
        "         [--post-validation]\n\n"
        "Every parallel layout of the model on the job's GPUs for the global batch:\n"
        "tp, pp, dp, vpp, mbs, sp, recomputation, zero and schedule over the values the\n"
        "rules allow (docs/search.md).  Prints how big the space was and what each rule and\n"
        "the memory check removed; evaluates every remaining layout in closed form; then\n"
        "simulates the best K and ranks those by simulated time, with the closed form\n"
        "beside it and a note where the two differ by more than 5%%.\n\n"
        "  --system NAME      built-in system (see 'clustersim system'); NAME:nvme=N: the\n"
        "                     same with N NVMe drives per node (1 to 64)\n"
        "  --gpus N           GPUs the job uses; --nodes N: whole nodes\n"
        "  --gbs G            global batch, sequences\n"
        "  --model NAME       built-in model (see 'clustersim model'), or shape flags:\n");
    cli_modelopt_help();
    printf(
        "  --top K            layouts to simulate and print (default 20; K x GPUs at most\n"
        "                     1,310,720: 20 on 65,536 GPUs)\n"
        "  --objective O      time (default), mfu, memory (least peak memory first), or\n"
        "                     goodput: expected tokens per day under failures, from each\n"
        "                     layout's checkpoint size (Daly's optimum interval; docs/search.md)\n"
        "  --failures-per-gpu-day R  goodput: failure rate (default 0.000474, Llama 3's)\n"
        "  --checkpoint P     goodput: sync (default) or async checkpoints\n"
        "  --storage-gbs B    goodput: shared storage bandwidth, GB/s (default 2000)\n"
        "  --restart-s T      goodput: detection and restart per failure (default 660)\n"
        "  --fix LIST         pin knobs: tp pp dp vpp mbs sp zero recompute schedule cp cp_comm\n"
        "                     ep (ep: expert parallelism of an MoE model, docs/moe.md)\n"
        "                     first_layers last_layers (uneven pipeline stages: the first\n"
        "                     and last stage's layers; by default a pp that does not\n"
        "                     divide the layers takes Megatron's uneven split)\n"
        "  --max-tp T         largest tp (default: GPUs per node; more lets tp span nodes)\n"
        "  --max-vpp V        largest vpp (default 8)\n"
        "  --offload W        auto: also every offload the rules allow (a model that fits\n"
        "                     only offloaded gets the fastest offload that fits); or pin\n"
        "                     optimizer, params or all (default none; docs/offload.md)\n"
        "  --offload-to T     with --offload: only cpu or only nvme (default both)\n"
        "  --max-cp C         also try context parallelism: every cp up to C dividing\n"
        "                     GPUs / tp, with p2p, a2a and a2a+p2p (default 1: none;\n"
        "                     --fix cp=16,cp_comm=p2p pins them)\n"
        "  --threads N        threads for the closed-form pass (default: every core)\n"
        "  --framework F      megatron-core (default), megatron-2019, -2021 or -2022: the\n"
        "                     training code's overlaps and optimizer bytes (docs/estimate.md)\n"
        "  --post-validation  every layout with the optimizer post-validation (no\n"
        "                     cross-stage sync before the optimizer step; docs/estimate.md)\n"
        "  --device-profile F kernel times from a profile 'clustersim calibrate' fitted on\n"
        "                     the system's GPU (default: the built-in model)\n"
        "  --csv FILE         every evaluated layout with its figures (docs/search.md)\n"
        "  --svg FILE         iteration time against peak memory, the Pareto front marked\n"
        "  --format F         table (default) or csv (the ranked rows)\n"
        "Sharding: every ZeRO stage 0-3 is searched unless --zero or --fsdp pins it;\n"
        "--hsdp-shard goes to the stages >= 1, --prefetch and --no-reshard to stage 3:\n");
    cli_shardopt_help();
    printf(
        "On a terminal a progress bar runs on standard error.  Ctrl-C stops the search and\n"
        "prints the best found so far (exit status 130).  Exit status 2: bad input, or no\n"
        "layout passes the rules or fits memory (the message says which came closest).\n");
}

typedef struct search_opts {
    const char *system, *model, *fix, *csv, *svg;
    const char *device_profile;
    long gpus, nodes, gbs, top, max_tp, max_vpp, threads;
    long max_cp; /* --max-cp: context parallelism as a knob */
    search_objective objective;
    cli_format fmt;
    model_flags mf;
    double rate_per_gpu_day, storage_gbs, restart_s;
    int ckpt_async;
    framework_kind framework;
    shard_flags sf; /* --zero, --fsdp, --hsdp-shard, --prefetch, --no-reshard */
    int offload, offload_to; /* issue 17: search_space's meanings (-1 free) */
    int post_validation;
} search_opts;

enum { O_SYSTEM = 1, O_GPUS, O_NODES, O_MODEL, O_GBS, O_TOP, O_OBJ, O_FIX, O_MAXTP, O_MAXVPP,
       O_THREADS, O_CSV, O_SVG, O_FORMAT, O_RATE, O_CKPT, O_STORAGE, O_RESTART, O_PROFILE,
       O_FRAMEWORK, O_OFFLOAD, O_OFFLOAD_TO, O_POST_VALIDATION, O_MAXCP };

static int parse_ckpt(const char *arg, search_opts *o)
{
    if (strcmp(arg, "sync") != 0 && strcmp(arg, "async") != 0)
        return cli_bad_input(CMD, "--checkpoint: '%s' is not one of sync, async", arg);
    o->ckpt_async = strcmp(arg, "async") == 0;
    return CLI_OK;
}

static int parse_one(int c, const char *arg, void *ctx)
{
    search_opts *o = ctx;
    cs_err err;
    switch (c) {
    case O_SYSTEM: o->system = arg; return CLI_OK;
    case O_MODEL: o->model = arg; return CLI_OK;
    case O_FIX: o->fix = arg; return CLI_OK;
    case O_CSV: o->csv = arg; return CLI_OK;
    case O_SVG: o->svg = arg; return CLI_OK;
    case O_GPUS: return cli_parse_int(CMD, "--gpus", arg, 1, 1 << 24, &o->gpus);
    case O_NODES: return cli_parse_int(CMD, "--nodes", arg, 1, 1 << 20, &o->nodes);
    case O_GBS: return cli_parse_int(CMD, "--gbs", arg, 1, 1 << 28, &o->gbs);
    case O_TOP: return cli_parse_int(CMD, "--top", arg, 1, 10000, &o->top);
    case O_MAXTP: return cli_parse_int(CMD, "--max-tp", arg, 1, 1 << 16, &o->max_tp);
    case O_MAXVPP: return cli_parse_int(CMD, "--max-vpp", arg, 1, 64, &o->max_vpp);
    case O_MAXCP: return cli_parse_int(CMD, "--max-cp", arg, 1, 1 << 16, &o->max_cp);
    case O_THREADS: return cli_parse_int(CMD, "--threads", arg, 1, 1024, &o->threads);
    case O_PROFILE: o->device_profile = arg; return CLI_OK;
    case O_FORMAT: return cli_parse_format(CMD, arg, &o->fmt);
    case O_RATE: return cli_parse_positive(CMD, "--failures-per-gpu-day", arg, &o->rate_per_gpu_day);
    case O_STORAGE: return cli_parse_positive(CMD, "--storage-gbs", arg, &o->storage_gbs);
    case O_RESTART: return cli_parse_nonnegative(CMD, "--restart-s", arg, &o->restart_s);
    case O_CKPT: return parse_ckpt(arg, o);
    case O_POST_VALIDATION: o->post_validation = 1; return CLI_OK;
    case O_FRAMEWORK:
        return framework_parse(arg, "--framework", &o->framework, &err) ? cli_bad_err(CMD, &err)
                                                                         : CLI_OK;
    case O_OBJ:
        return search_objective_parse(arg, &o->objective, &err) ? cli_bad_err(CMD, &err) : CLI_OK;
    case O_OFFLOAD: /* auto: every offload the rules allow, and none */
        if (strcmp(arg, "auto") == 0)
            return o->offload = -1, CLI_OK;
        return offload_what_parse(arg, "--offload", &o->offload, &err) ? cli_bad_err(CMD, &err)
                                                                       : CLI_OK;
    case O_OFFLOAD_TO:
        return offload_to_parse(arg, "--offload-to", &o->offload_to, &err) ? cli_bad_err(CMD, &err)
                                                                           : CLI_OK;
    default:
        if (c >= CLI_SHARDOPT_FIRST && c <= CLI_SHARDOPT_LAST)
            return cli_shardopt_parse(CMD, c, arg, &o->sf);
        return cli_modelopt_parse(CMD, c, arg, &o->mf);
    }
}

static int parse_opts(int argc, char **argv, search_opts *o)
{
    static const struct option own[] = {
        {"system", required_argument, 0, O_SYSTEM}, {"gpus", required_argument, 0, O_GPUS},
        {"nodes", required_argument, 0, O_NODES},   {"model", required_argument, 0, O_MODEL},
        {"gbs", required_argument, 0, O_GBS},       {"top", required_argument, 0, O_TOP},
        {"objective", required_argument, 0, O_OBJ}, {"fix", required_argument, 0, O_FIX},
        {"max-tp", required_argument, 0, O_MAXTP},  {"max-vpp", required_argument, 0, O_MAXVPP},
        {"threads", required_argument, 0, O_THREADS}, {"csv", required_argument, 0, O_CSV},
        {"svg", required_argument, 0, O_SVG},       {"format", required_argument, 0, O_FORMAT},
        {"failures-per-gpu-day", required_argument, 0, O_RATE},
        {"checkpoint", required_argument, 0, O_CKPT}, {"storage-gbs", required_argument, 0, O_STORAGE},
        {"restart-s", required_argument, 0, O_RESTART},
        {"device-profile", required_argument, 0, O_PROFILE},
        {"framework", required_argument, 0, O_FRAMEWORK},
        {"offload", required_argument, 0, O_OFFLOAD},
        {"offload-to", required_argument, 0, O_OFFLOAD_TO},
        {"post-validation", no_argument, 0, O_POST_VALIDATION},
        {"max-cp", required_argument, 0, O_MAXCP},
    };
    enum { NOWN = sizeof own / sizeof own[0] };
    struct option opts[NOWN + CLI_MODELOPT_COUNT + CLI_SHARDOPT_COUNT + 1];
    memcpy(opts, own, sizeof own);
    memcpy(opts + NOWN, cli_modelopt_options, sizeof cli_modelopt_options);
    memcpy(opts + NOWN + CLI_MODELOPT_COUNT, cli_shardopt_options, sizeof cli_shardopt_options);
    opts[NOWN + CLI_MODELOPT_COUNT + CLI_SHARDOPT_COUNT] = (struct option){0, 0, 0, 0};
    memset(o, 0, sizeof *o);
    cli_shardopt_init(&o->sf);
    o->top = 20;
    o->offload_to = -1;
    o->rate_per_gpu_day = 419.0 / (16384 * 54); /* Llama 3's unexpected interruptions */
    o->storage_gbs = 2000, o->restart_s = 660;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    o->threads = cores > 0 ? cores : 1;
    int rc;
    if ((rc = cli_getopt_each(CMD, argc, argv, opts, NULL, parse_one, o)))
        return rc;
    if (!o->system)
        return cli_bad_input(CMD, "--system is required (see 'clustersim system')");
    if (!o->gpus && !o->nodes)
        return cli_bad_input(CMD, "give --gpus N or --nodes N");
    if (!o->gbs)
        return cli_bad_input(CMD, "--gbs is required (the global batch, in sequences)");
    if (!o->model && !cli_modelopt_any_shape(&o->mf))
        return cli_bad_input(CMD, "give --model NAME (see 'clustersim model') or shape flags");
    if ((rc = cli_check_out_path(CMD, "--csv", o->csv)) || (rc = cli_check_out_path(CMD, "--svg", o->svg)))
        return rc;
    if (o->offload_to >= 0 && o->offload == 0)
        return cli_bad_input(CMD, "offload: --offload-to needs --offload auto|optimizer|params|all");
    return cli_shardopt_check(CMD, &o->sf, 1);
}

/* ---- progress and Ctrl-C ------------------------------------------------------ */

static volatile sig_atomic_t stop_requested;

#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
static void on_sigint(int sig)
{
    (void)sig;
    stop_requested = 1;
}
#endif

/* Ctrl-C stops the search, which then prints the best so far (exit 130).
 * The fuzzing build (meson -Dfuzz=true) leaves SIGINT to libFuzzer, which
 * stops a campaign with its statistics: fuzz_cli's inputs are mostly
 * searches, so a campaign took the signal as a search's and went on.  A
 * search is cut short there by SEARCH_MAX_EVALUATED instead (the same
 * "interrupted" path).  The flag is cleared first: a process may search
 * more than once (fuzz_cli runs main per input). */
static void take_sigint(struct sigaction *old)
{
    stop_requested = 0;
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, old);
#else
    (void)old;
#endif
}

static void give_back_sigint(const struct sigaction *old)
{
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    sigaction(SIGINT, old, NULL);
#else
    (void)old;
#endif
}

/* [#####.....] done/total units, rate, time left: on a terminal only. */
static void progress_bar(void *ctx, const char *units, long done, long total, double elapsed_s)
{
    (void)ctx;
    if (total <= 0)
        return;
    int width = 30, filled = (int)(width * (double)done / (double)total);
    double rate = elapsed_s > 0 ? (double)done / elapsed_s : 0;
    double left = rate > 0 ? (double)(total - done) / rate : 0;
    char bar[64];
    for (int i = 0; i < width; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r[%s] %ld/%ld %s, %.0f/s, %.1f s left \033[K", bar, done, total, units,
            rate, left);
    if (done == total)
        fputs("\r\033[K", stderr); /* clear the line once done */
    fflush(stderr);
}

/* ---- the run ------------------------------------------------------------------ */

/* --zero / --fsdp pin the zero knob (as --fix zero=N, which must agree);
 * the shard group and the ZeRO-3 flags go to the layouts that use them. */
static int apply_sharding(const shard_flags *f, search_space *sp)
{
    int zero = cli_shardopt_zero(f);
    if (zero >= 0 && sp->fix.zero >= 0 && sp->fix.zero != zero)
        return cli_bad_input(CMD, "--fix zero=%d and %s ask for different ZeRO stages: give one",
                             sp->fix.zero, f->fsdp ? "--fsdp (zero 3)" : "--zero");
    if (zero >= 0)
        sp->fix.zero = zero;
    sp->shard_group = (int)f->shard_group;
    sp->has_prefetch = f->has_prefetch;
    sp->prefetch = (int)f->prefetch;
    sp->no_reshard = f->no_reshard;
    return CLI_OK;
}

/* faults: room for the fault model of the goodput objective. */
static int fill_input(const search_opts *o, const model_desc *m, topo *t, long gpus,
                      const opcost_eff *eff, search_faults *faults, search_input *in)
{
    cs_err err;
    *in = (search_input){m, t, (int)gpus, (int)o->gbs, m->dtype, 1, eff, {0}, (int)o->threads,
                         NULL, NULL, &stop_requested, NULL, FRAMEWORK_CORE, 0, 0};
    in->framework = o->framework;
    in->post_validation = o->post_validation;
    in->time_misfits = o->csv != NULL; /* --csv lists every layout with its time */
    in->space.max_tp = (int)o->max_tp;
    in->space.max_vpp = (int)o->max_vpp;
    in->space.offload = o->offload;
    in->space.offload_to = o->offload_to;
    in->space.max_cp = (int)o->max_cp;
    if (o->objective == SEARCH_GOODPUT) {
        *faults = (search_faults){86400 / (o->rate_per_gpu_day * (double)gpus), o->restart_s,
                             o->ckpt_async, {o->storage_gbs * 1e9, o->storage_gbs * 1e9},
                             topo_node_type(t, 0)};
        in->faults = faults;
    }
    search_fix_init(&in->space.fix);
    if (o->fix && search_fix_parse(o->fix, &in->space.fix, &err) != 0)
        return cli_bad_err(CMD, &err);
    int rc = apply_sharding(&o->sf, &in->space);
    if (rc)
        return rc;
    if (isatty(STDERR_FILENO))
        in->progress = progress_bar;
    return CLI_OK;
}

static int run_search(const search_opts *o, const search_input *in)
{
    search_result r;
    cs_err err;
    if (searchsim_check_top(in, (int)o->top, &err) != 0) /* before the search's own work */
        return cli_bad_err(CMD, &err);
    if (search_run(in, &r, &err) != 0) {
        search_result_free(&r);
        return cli_bad_err(CMD, &err);
    }
    int rc = CLI_OK;
    if (r.fitting == 0 && !r.interrupted) {
        search_report_nothing(stderr, in, &r);
        rc = CLI_BAD_INPUT;
    } else {
        rc = search_report_all(in, &r, o->objective, (int)o->top, o->fmt == CLI_CSV, o->csv,
                               o->svg, &err);
        if (rc != 0)
            rc = cli_bad_err(CMD, &err);
    }
    if (rc == CLI_OK && stop_requested)
        rc = 130; /* interrupted: the best so far was printed */
    search_result_free(&r);
    return rc;
}

int cmd_search(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        search_help();
        return CLI_OK;
    }
    search_opts o;
    int rc;
    if ((rc = parse_opts(argc, argv, &o)))
        return rc;
    model_desc m;
    if ((rc = cli_modelopt_resolve(CMD, o.model, &o.mf, &m)))
        return rc;
    sys_system sys;
    topo *t = NULL;
    long gpus = 0;
    if ((rc = cli_build_job(CMD, o.system, o.gpus, o.nodes, &sys, &t, &gpus)))
        return rc;
    opcost_eff eff;
    opcost_eff_default(&eff);
    calib_profile profile;
    cs_err err;
    if (o.device_profile &&
        profile_apply(o.device_profile, sys.groups[0].node.gpu, &profile, &eff, &err) != 0) {
        topo_free(t);
        return cli_bad_err(CMD, &err);
    }
    search_input in;
    search_faults faults;
    if ((rc = fill_input(&o, &m, t, gpus, &eff, &faults, &in)) == CLI_OK) {
        struct sigaction old;
        take_sigint(&old);
        rc = run_search(&o, &in);
        give_back_sigint(&old);
    }
    topo_free(t);
    return rc;
}
