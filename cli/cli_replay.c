/* cli_replay: `clustersim replay --chakra DIR`: per-rank Chakra execution
 * traces simulated on a system (sim/replay): the iteration time and where
 * each rank's time went. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "estimate.h"
#include "replay_print.h"
#include "timeline_report.h"

#define CMD "replay"

static void replay_help(void)
{
    printf(
        "usage: clustersim replay --chakra DIR --system NAME [--gpus N | --nodes N]\n"
        "         [--price-compute] [--ranks all] [--format table|csv] [--out DIR]\n\n"
        "Simulates a set of MLCommons Chakra execution traces, one file per rank, on the\n"
        "system: compute nodes with their recorded durations (or, without one, their\n"
        "num_ops and tensor_size priced by the kernel model), collectives and sends/receives\n"
        "as flows on the system's links, and the recorded data and control dependencies.\n"
        "Prints the iteration time and, per rank, when it ended and its GPU compute, CPU,\n"
        "memory, communication, communication not hidden by GPU compute, and idle time.\n\n"
        "  --chakra DIR      a folder holding NAME.0.et ... NAME.(N-1).et (one NAME), or the\n"
        "                    prefix DIR/NAME itself; rank r runs on GPU r\n"
        "  --system NAME     the system to replay on (clustersim system --list); NAME:nvme=N:\n"
        "                    the same with N NVMe drives per node (1 to 64)\n"
        "  --gpus N          GPUs of the job (default: the traces' ranks); at least the ranks\n"
        "  --nodes N         whole nodes instead of --gpus\n"
        "  --price-compute   price compute nodes that carry num_ops with the kernel model on\n"
        "                    this system's GPU, not their recorded durations\n"
        "  --ranks all       print every rank (default: the 16 that ended last)\n"
        "  --format F        table (default) or csv (one row per rank; iteration_s as estimate's)\n"
        "  --out DIR         also write DIR/timeline.json (Chrome trace: open it in\n"
        "                    ui.perfetto.dev)\n"
        "A bad trace (unreadable, truncated, unknown schema version or node type, a missing\n"
        "dependency or rank file, a collective or send without its partner) exits 2 naming\n"
        "the file, the node id and the problem.  Node types and what is modelled:\n"
        "docs/traces.md.\n");
}

typedef struct replay_opts {
    const char *chakra, *system, *out_dir;
    long gpus, nodes;
    int price_compute, all_ranks;
    cli_format fmt;
} replay_opts;

enum { O_CHAKRA = 1, O_SYSTEM, O_GPUS, O_NODES, O_PRICE, O_RANKS, O_FORMAT, O_OUT };

static int parse_one(int c, const char *arg, void *ctx)
{
    replay_opts *o = ctx;
    switch (c) {
    case O_CHAKRA: o->chakra = arg; return CLI_OK;
    case O_SYSTEM: o->system = arg; return CLI_OK;
    case O_GPUS: return cli_parse_int(CMD, "--gpus", arg, 1, 1 << 20, &o->gpus);
    case O_NODES: return cli_parse_int(CMD, "--nodes", arg, 1, 1 << 16, &o->nodes);
    case O_PRICE: o->price_compute = 1; return CLI_OK;
    case O_RANKS: return cli_parse_all(CMD, "--ranks", arg, &o->all_ranks);
    case O_FORMAT: return cli_parse_format(CMD, arg, &o->fmt);
    case O_OUT: o->out_dir = arg; return CLI_OK;
    default: return cli_bad_option(CMD, 0, NULL);
    }
}

static int parse_opts(int argc, char **argv, replay_opts *o)
{
    static const struct option opts[] = {
        {"chakra", required_argument, 0, O_CHAKRA}, {"system", required_argument, 0, O_SYSTEM},
        {"gpus", required_argument, 0, O_GPUS},     {"nodes", required_argument, 0, O_NODES},
        {"price-compute", no_argument, 0, O_PRICE}, {"ranks", required_argument, 0, O_RANKS},
        {"format", required_argument, 0, O_FORMAT}, {"out", required_argument, 0, O_OUT},
        {0, 0, 0, 0}};
    memset(o, 0, sizeof *o);
    int rc = cli_getopt_each(CMD, argc, argv, opts, NULL, parse_one, o);
    if (rc)
        return rc;
    if (!o->chakra)
        return cli_bad_input(CMD, "--chakra DIR is required; see --help");
    if (!o->system)
        return cli_bad_input(CMD, "--system NAME is required; see --help");
    if (o->gpus && o->nodes)
        return cli_bad_input(CMD, "--gpus and --nodes: give one");
    return CLI_OK;
}

/* The trace of the run into dir, staged: it appears only when written. */
static int write_timeline(const char *dir, const timeline *tl, cs_err *err)
{
    report_set *files = report_new(dir);
    int rc = timeline_report_one(files, "timeline.json", TLF_TRACE, tl, err);
    return cli_finish_files(files, rc, err);
}

static int run(const replay_opts *o, const replay_traces *tr, topo *t, long gpus)
{
    opcost_eff eff;
    opcost_eff_default(&eff);
    replay_input in = {t, (int)gpus, estimate_device(t), &eff, o->price_compute};
    replay_result r;
    timeline tl;
    cs_err err;
    int rc = replay_run(tr, &in, &r, o->out_dir ? &tl : NULL, &err);
    if (rc == 0 && o->out_dir)
        rc = write_timeline(o->out_dir, &tl, &err);
    if (o->out_dir)
        timeline_free(&tl);
    if (rc == 0) {
        replay_label lab = {tr->prefix, o->system, gpus};
        if (o->fmt == CLI_CSV)
            replay_print_csv(stdout, &lab, &r);
        else
            replay_print_table(stdout, &lab, &r, o->all_ranks ? 1 << 30 : 16);
    }
    replay_result_free(&r);
    return rc == 0 ? CLI_OK : cli_bad_err(CMD, &err);
}

int cmd_replay(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        replay_help();
        return CLI_OK;
    }
    replay_opts o;
    int rc = parse_opts(argc, argv, &o);
    if (rc)
        return rc;
    replay_traces tr;
    cs_err err;
    if (replay_load(o.chakra, &tr, &err) != 0) {
        replay_traces_free(&tr);
        return cli_bad_err(CMD, &err);
    }
    sys_system sys;
    topo *t = NULL;
    long gpus = 0;
    rc = cli_build_job(CMD, o.system, o.gpus ? o.gpus : o.nodes ? 0 : tr.ranks, o.nodes, &sys, &t,
                       &gpus);
    if (rc == CLI_OK && gpus < tr.ranks)
        rc = cli_bad_input(CMD, "%s: %d ranks, but the job has %ld GPUs", tr.prefix, tr.ranks, gpus);
    if (rc == CLI_OK)
        rc = run(&o, &tr, t, gpus);
    if (t)
        topo_free(t);
    replay_traces_free(&tr);
    return rc;
}
