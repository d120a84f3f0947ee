/* cli_collective: `clustersim collective`, a size sweep printed the way
 * nccl-tests prints it (size, time, algbw, busbw), simulated as flows on the
 * topology, or from the closed form, or both side by side. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "cli.h"
#include "collsim.h"
#include "units.h"

typedef enum { MODE_SIM, MODE_ANALYTIC, MODE_BOTH } coll_mode;

typedef struct coll_opts {
    const char *system;
    long nodes, gpus, factor;
    coll_op op;
    coll_algo algo;
    uint64_t min_bytes, max_bytes;
    coll_mode mode;
    cli_format fmt;
} coll_opts;

static void collective_help(void)
{
    printf(
        "usage: clustersim collective [--system NAME] [--nodes N] [--gpus G] [--op OP]\n"
        "         [--algo ring|tree|hier|direct|nvls|auto] [--min SIZE] [--max SIZE]\n"
        "         [--step-factor F] [--mode sim|analytic|both] [--format table|csv]\n\n"
        "Sweeps message sizes from --min to --max (x F each step) and prints, per size, the\n"
        "time and bandwidths in nccl-tests' columns.  The group is the first G GPUs of the\n"
        "system (default: all of them).\n\n"
        "  --system NAME   built-in system (default dgx-h100; see 'clustersim system');\n"
        "                  NAME:nvme=N: the same with N NVMe drives per node (1 to 64)\n"
        "  --nodes N       nodes in the system (default 1)\n"
        "  --gpus G        GPUs in the group (default all; at most 65,536)\n"
        "  --op OP         allreduce (default), reducescatter, allgather, alltoall,\n"
        "                  broadcast, sendrecv\n"
        "  --algo A        auto (default: the fastest by the closed form, per size), ring,\n"
        "                  tree (allreduce), hier (allreduce), direct (alltoall, sendrecv),\n"
        "                  nvls (allreduce in one node with NVLink SHARP: dgx-h100, dgx-h200)\n"
        "  --min, --max    sizes, with K/M/G/T suffixes in powers of 1024 (default 1K, 1G)\n"
        "  --step-factor F multiply the size by F each row (default 2)\n"
        "  --mode M        sim: flows on the engine (default); analytic: the closed form;\n"
        "                  both: the two side by side with their difference\n"
        "  --format F      table (default) or csv\n\n"
        "Columns: size_bytes as nccl-tests counts it (allgather/reducescatter: the whole\n"
        "gathered buffer; alltoall: one rank's send buffer); time_us; algbw_gbps = size/time\n"
        "in GB/s (1e9 bytes); busbw_gbps = algbw x nccl-tests' factor (allreduce 2(n-1)/n,\n"
        "allgather, reducescatter, alltoall (n-1)/n, broadcast and sendrecv 1); algo;\n"
        "proto: the NCCL protocol (LL, LL128, Simple) its tuner would pick at the size, whose\n"
        "latency (NCCL's tuning tables) and bandwidth share the time includes ('-' for ops\n"
        "NCCL's tables do not price: broadcast, alltoall, sendrecv).\n");
}

static int parse_mode(const char *text, coll_mode *mode)
{
    static const char *names[] = {"sim", "analytic", "both"};
    for (int i = 0; i < 3; i++)
        if (strcmp(text, names[i]) == 0) {
            *mode = (coll_mode)i;
            return CLI_OK;
        }
    return cli_bad_input("collective", "--mode: '%s' is not a mode; valid: sim, analytic, both",
                         text);
}

static int parse_one(int c, const char *arg, void *ctx)
{
    coll_opts *o = ctx;
    cs_err err;
    switch (c) {
    case 's': o->system = arg; return CLI_OK;
    case 'n': return cli_parse_int("collective", "--nodes", arg, 1, 65536, &o->nodes);
    case 'g': return cli_parse_int("collective", "--gpus", arg, 1, 1 << 24, &o->gpus);
    case 'F': return cli_parse_int("collective", "--step-factor", arg, 2, 1 << 20, &o->factor);
    case 'o': return coll_op_parse(arg, &o->op, &err) ? cli_bad_err("collective", &err) : 0;
    case 'a': return coll_algo_parse(arg, &o->algo, &err) ? cli_bad_err("collective", &err) : 0;
    case 'm': return cli_parse_size("collective", "--min", arg, &o->min_bytes);
    case 'M': return cli_parse_size("collective", "--max", arg, &o->max_bytes);
    case 'd': return parse_mode(arg, &o->mode);
    case 'f': return cli_parse_format("collective", arg, &o->fmt);
    }
    return CLI_BAD_INPUT;
}

static int parse_opts(int argc, char **argv, coll_opts *o)
{
    static const struct option opts[] = {
        {"system", required_argument, 0, 's'}, {"nodes", required_argument, 0, 'n'},
        {"gpus", required_argument, 0, 'g'},   {"op", required_argument, 0, 'o'},
        {"algo", required_argument, 0, 'a'},   {"min", required_argument, 0, 'm'},
        {"max", required_argument, 0, 'M'},    {"step-factor", required_argument, 0, 'F'},
        {"mode", required_argument, 0, 'd'},   {"format", required_argument, 0, 'f'},
        {0, 0, 0, 0}};
    *o = (coll_opts){"dgx-h100", 1, 0, 2, COLL_ALLREDUCE, COLL_ALGO_AUTO, 1024, 1ULL << 30,
                     MODE_SIM, CLI_TABLE};
    static const cli_args args = {.hint = "; see --help"};
    int rc;
    if ((rc = cli_getopt_each("collective", argc, argv, opts, &args, parse_one, o)))
        return rc;
    if (o->min_bytes > o->max_bytes)
        return cli_bad_input("collective", "--min (%llu bytes) is larger than --max (%llu bytes)",
                             (unsigned long long)o->min_bytes, (unsigned long long)o->max_bytes);
    return CLI_OK;
}

/* Builds the plan of every algorithm the sweep may use. */
static int build_plans(topo *t, const coll_opts *o, const int32_t *gpus, int n,
                       coll_plan plans[4], coll_algo algos[4], int built[4], int *nalgos)
{
    coll_params params;
    cs_err err;
    coll_params_default(&params);
    if (o->algo == COLL_ALGO_AUTO) {
        *nalgos = coll_algos_for(o->op, algos);
    } else {
        algos[0] = o->algo;
        *nalgos = 1;
    }
    int any = 0;
    for (int i = 0; i < *nalgos; i++) {
        built[i] = coll_plan_build(t, o->op, algos[i], gpus, n, &params, &plans[i], &err) == 0;
        if (!built[i] && o->algo != COLL_ALGO_AUTO)
            return cli_bad_err("collective", &err);
        any |= built[i];
    }
    return any ? CLI_OK : cli_bad_err("collective", &err);
}

static void print_header(const coll_opts *o, const sys_system *sys, int n)
{
    if (o->fmt == CLI_CSV) {
        printf("size_bytes,time_us,algbw_gbps,busbw_gbps,algo,mode%s,proto\n",
               o->mode == MODE_BOTH ? ",analytic_time_us,diff_percent" : "");
        return;
    }
    static const char *modes[] = {"simulated as flows", "closed form", "simulated and closed form"};
    printf("# %s over %d GPUs of %d x %s (%s network), %s\n", coll_op_name(o->op), n,
           sys_total_nodes(sys), sys->name, sys_net_kind_name(sys->net.kind), modes[o->mode]);
    printf("# algbw = size / time; busbw = algbw x %.4g (nccl-tests' factor); GB/s = 1e9 B/s\n",
           coll_busbw_factor(o->op, n));
    const sys_node_type *nt = &sys->groups[0].node;
    if (nt->fabric == SYS_FABRIC_NVSWITCH)
        printf("# NVLink %.0f GB/s per GPU per direction, at %.3f of it (%.0f GB/s): %s\n",
               nt->nvlink_bw_bytes_per_s / 1e9, nt->nvlink_eff,
               nt->nvlink_bw_bytes_per_s * nt->nvlink_eff / 1e9, nt->nvlink_source);
    if (sys_total_nodes(sys) > 1 && nt->nics > 0)
        printf("# NICs %d x %.1f GB/s per node per direction, at %.3f of it: %s\n", nt->nics,
               nt->nic_bw_bytes_per_s / 1e9, nt->nic_eff > 0 ? nt->nic_eff : 1, nt->nic_source);
    printf("# latency and protocol (LL, LL128, Simple) by NCCL's tuner model: NVIDIA/nccl "
           "src/graph/tuning.cc\n");
    printf("%14s %12s %11s %11s %7s%s  %6s\n", "size_bytes", "time_us", "algbw_GB/s",
           "busbw_GB/s", "algo", o->mode == MODE_BOTH ? "  analytic_us  diff_%" : "", "proto");
}

static void print_row(const coll_opts *o, int n, uint64_t size, double time_s, double analytic_s,
                      coll_algo algo, int proto)
{
    const char *proto_name = proto < 0 ? "-" : ncclproto_name((ncclproto_proto)proto);
    double algbw = time_s > 0 ? (double)size / time_s / 1e9 : 0;
    double busbw = algbw * coll_busbw_factor(o->op, n);
    double diff = analytic_s > 0 ? 100.0 * (analytic_s - time_s) / time_s : 0;
    diff = round(diff * 1000) / 1000 + 0.0; /* no "-0.00" for a rounding-level difference */
    if (o->fmt == CLI_CSV) {
        printf("%llu,%.3f,%.3f,%.3f,%s,%s", (unsigned long long)size, time_s * 1e6, algbw, busbw,
               coll_algo_name(algo), o->mode == MODE_ANALYTIC ? "analytic" : "sim");
        if (o->mode == MODE_BOTH)
            printf(",%.3f,%.3f", analytic_s * 1e6, diff);
        printf(",%s\n", proto_name);
        return;
    }
    printf("%14llu %12.2f %11.2f %11.2f %7s", (unsigned long long)size, time_s * 1e6, algbw,
           busbw, coll_algo_name(algo));
    if (o->mode == MODE_BOTH)
        printf("  %11.2f  %6.2f", analytic_s * 1e6, diff);
    printf("  %6s\n", proto_name);
}

static long sweep_rows(const coll_opts *o)
{
    long rows = 0;
    for (uint64_t size = o->min_bytes; size <= o->max_bytes; size *= (uint64_t)o->factor) {
        rows++;
        if (size > o->max_bytes / (uint64_t)o->factor)
            break;
    }
    return rows;
}

static int sweep(topo *t, const coll_opts *o, int n, coll_plan plans[4],
                 const coll_algo algos[4], const int built[4], int nalgos)
{
    long rows = sweep_rows(o), row = 0;
    double started_s = cli_wall_s();
    for (uint64_t size = o->min_bytes; size <= o->max_bytes;) {
        cli_progress("collective", "sizes", row++, rows, started_s);
        int pick = collsim_pick(plans, built, nalgos, size);
        double analytic_s = coll_time_s(&plans[pick], size);
        double time_s = analytic_s;
        if (o->mode != MODE_ANALYTIC) {
            const coll_plan *p = &plans[pick];
            uint64_t end_ps;
            exec_result res;
            cs_err err;
            if (collsim_run(t, &p, &size, 1, &end_ps, &res, &err) != 0)
                return cli_bad_err("collective", &err);
            time_s = units_ps_to_s(end_ps);
        }
        if (isatty(STDERR_FILENO) && isatty(STDOUT_FILENO))
            cli_progress("collective", "sizes", rows, rows, started_s); /* the row, not the bar */
        print_row(o, n, size, time_s, o->mode == MODE_BOTH ? analytic_s : 0, algos[pick],
                  coll_proto_pick(&plans[pick], size));
        if (size > o->max_bytes / (uint64_t)o->factor)
            break;
        size *= (uint64_t)o->factor;
    }
    cli_progress("collective", "sizes", rows, rows, started_s);
    return CLI_OK;
}

int cmd_collective(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        collective_help();
        return CLI_OK;
    }
    coll_opts o;
    sys_system sys;
    topo *t = NULL;
    int rc = parse_opts(argc, argv, &o);
    if (rc || (rc = cli_build_topo("collective", o.system, o.nodes, &sys, &t)))
        return rc;
    int total = topo_gpu_count(t);
    int n = o.gpus ? (int)o.gpus : total;
    if (n > total) {
        topo_free(t);
        return cli_bad_input("collective", "--gpus %d is larger than the system: %ld x %s has %d "
                             "GPUs; use --gpus 1 to %d or more --nodes", n, o.nodes, o.system,
                             total, total);
    }
    if (n > COLL_FACE_MAX_RANKS) {
        topo_free(t);
        if (o.gpus)
            return cli_bad_input("collective", "--gpus %d: a sweep simulates at most %d GPUs",
                                 n, COLL_FACE_MAX_RANKS);
        return cli_bad_input("collective", "the group has %d GPUs (%ld x %s); a sweep simulates "
                             "at most %d: use --gpus %d or fewer --nodes", n, o.nodes, o.system,
                             COLL_FACE_MAX_RANKS, COLL_FACE_MAX_RANKS);
    }
    int32_t *group = malloc(sizeof(int32_t) * (size_t)n);
    if (!group)
        abort();
    for (int i = 0; i < n; i++)
        group[i] = i;
    coll_plan plans[4];
    coll_algo algos[4];
    int built[4] = {0}, nalgos = 0;
    rc = build_plans(t, &o, group, n, plans, algos, built, &nalgos);
    if (rc == CLI_OK) {
        print_header(&o, &sys, n);
        rc = sweep(t, &o, n, plans, algos, built, nalgos);
    }
    for (int i = 0; i < nalgos; i++)
        if (built[i])
            coll_plan_free(&plans[i]);
    free(group);
    topo_free(t);
    return rc;
}
