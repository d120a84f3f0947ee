/* main: the clustersim command; dispatches to the subcommands. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "par_mpi.h"
#include "parmap.h"
#include "report.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"system", cmd_system, "list the built-in systems, or describe one (GPUs, links, network)"},
    {"devices", cmd_devices, "list the GPU catalog with datasheet figures"},
    {"model", cmd_model, "list the model catalog, or one model's shape and parameter count"},
    {"estimate", cmd_estimate, "one layout's iteration time, MFU, memory and per-stage breakdown"},
    {"validate", cmd_validate, "published training figures (Megatron-LM) against the simulator, row by row"},
    {"run", cmd_run, "run a Lua scenario (sandboxed) and write its reports"},
    {"sweep", cmd_sweep, "many estimate/search/goodput/stragglers/place points into one CSV (threads or MPI)"},
    {"search", cmd_search, "every valid layout of a model on a cluster, ranked"},
    {"place", cmd_place, "place an operator graph on memory-limited devices (m-TOPO, m-ETF, m-SCT, auto) and simulate it"},
    {"faults", cmd_faults, "goodput of a long job under failures and a checkpoint policy"},
    {"replay", cmd_replay, "per-rank Chakra execution traces simulated on a system"},
    {"stragglers", cmd_stragglers, "iterations with slow GPUs or links, every rank simulated"},
    {"calibrate", cmd_calibrate, "fit the device model to kernel measurements (kernels/), held-out errors"},
    {"topology", cmd_topology, "this machine's NUMA nodes, cores, GPUs, NICs and PCIe tree (hwloc)"},
    {"collective", cmd_collective, "size sweep of a collective, in nccl-tests' columns"},
    {"bench", cmd_bench, "benchmarks: engine, collective, job, search, place, faults, sweep, scale"},
};
#define NCOMMANDS ((int)(sizeof commands / sizeof commands[0]))

static void usage(FILE *out)
{
    fprintf(out, "usage: clustersim COMMAND [options]   (clustersim COMMAND --help for its options)\n\n"
                 "An event-driven simulator and cost-model explorer for training on GPU clusters.\n\n"
                 "commands:\n");
    for (int i = 0; i < NCOMMANDS; i++)
        fprintf(out, "  %-11s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "\nExit status: 0 success, 2 bad input (the message says what and where), "
                 "1 internal failure.\n");
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_BAD_INPUT;
    }
    const char *cmd = argv[1];
    report_cleanup_on_signals();
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return CLI_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("clustersim 0.1.0\n");
        return CLI_OK;
    }
    for (int i = 0; i < NCOMMANDS; i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "clustersim: unknown command '%s'; valid commands:", cmd);
    for (int i = 0; i < NCOMMANDS; i++)
        fprintf(stderr, " %s", commands[i].name);
    fprintf(stderr, " (see clustersim --help)\n");
    return CLI_BAD_INPUT;
}

int main(int argc, char **argv)
{
    if (par_mpi_start(&argc, &argv) != 0)
        return CLI_BAD_INPUT;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (parmap_size() == 1) /* one process: its runs over every core; under MPI: one per rank */
        parmap_set_default_threads(cores > 0 ? (int)cores : 1);
    return par_mpi_finish(dispatch(argc, argv));
}
