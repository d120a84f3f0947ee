/* cli_topology: `clustersim topology`: this machine's NUMA nodes, cores,
 * GPUs, NICs and PCIe tree through hwloc, printed and optionally written
 * as a Lua node description. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "hwtopo.h"
#include "report.h"

#define CMD "topology"

static void topology_help(void)
{
    printf("usage: clustersim topology [--out FILE.lua] [--synthetic DESC]\n\n"
           "Describes the machine it runs on through hwloc: packages, NUMA nodes, cores, GPUs,\n"
           "NICs and the PCIe bridges between them, each device with its nearest NUMA node.\n\n"
           "  --out FILE.lua    also write it as a Lua table (docs/calibration.md)\n"
           "  --synthetic DESC  an hwloc synthetic machine instead (\"pack:2 numa:1 core:8 pu:2\")\n");
}

static int write_lua(const char *path, const hwtopo *t, cs_err *err)
{
    const char *name;
    report_set *r = report_for_path(path, &name);
    FILE *f = report_begin(r, name, err);
    if (f)
        hwtopo_write_lua(f, t);
    int rc = f ? report_commit(r, err) : -1;
    report_free(r);
    return rc;
}

typedef struct topology_opts {
    const char *out, *synthetic;
} topology_opts;

static int parse_one(int c, const char *arg, void *ctx)
{
    topology_opts *o = ctx;
    if (c == 'o')
        o->out = arg;
    else
        o->synthetic = arg;
    return CLI_OK;
}

int cmd_topology(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        topology_help();
        return CLI_OK;
    }
    static const struct option opts[] = {{"out", required_argument, 0, 'o'},
                                         {"synthetic", required_argument, 0, 's'},
                                         {0, 0, 0, 0}};
    topology_opts o = {NULL, NULL};
    int rc;
    if ((rc = cli_getopt_each(CMD, argc, argv, opts, NULL, parse_one, &o)))
        return rc;
    static hwtopo t;
    cs_err err;
    if (hwtopo_load(o.synthetic, &t, &err) != 0)
        return cli_bad_err(CMD, &err);
    hwtopo_print(stdout, &t);
    if (o.out && write_lua(o.out, &t, &err) != 0)
        return cli_bad_err(CMD, &err);
    if (o.out)
        fprintf(stderr, "wrote %s\n", o.out);
    return CLI_OK;
}
