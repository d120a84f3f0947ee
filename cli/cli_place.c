/* cli_place: `clustersim place`: an operator graph placed on memory-limited
 * devices by m-TOPO, m-ETF, m-SCT, a baseline or auto, then simulated. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "opgraph_csv.h"
#include "placerun.h"
#include "table.h"
#include "units.h"

#define CMD "place"
#define GIB 1073741824.0

static void help(void)
{
    printf(
        "usage: clustersim place (--graph DIR | --model NAME [--mbs B]) --devices N\n"
        "                        --mem-gib X[,Y,...] [--algo A] [--comm linear:LATENCY_US,BYTES_PER_US\n"
        "                        | --system NAME] [--channels pair|device] [--csv placement.csv]\n"
        "                        [--format table|csv] [--no-coplace] [--no-fuse] [--evals K]\n\n"
        "Places an operator graph on N devices within their memory and simulates one step.\n"
        "  --graph DIR      nodes.csv, edges.csv, groups.csv (../shared/placement/README.md)\n"
        "  --model NAME     a catalog transformer's training step, operator by operator\n"
        "                   (per layer forward and backward; --mbs sequences, default 1)\n"
        "  --devices N      devices, 1 to %d\n"
        "  --mem-gib X,...  memory per device in GiB: one value for all, or one per device\n"
        "  --algo A         topo (m-TOPO), etf (m-ETF), sct (m-SCT), expert (the graph's\n"
        "                   expert_device column, TensorFlow's colocation rule), expert-nearest\n"
        "                   (unpinned operators with the nearest pinned one), single (all on\n"
        "                   device 0), roundrobin, or auto (all of them, then a local search;\n"
        "                   the default)\n"
        "  --comm linear:L,B  a transfer costs L us per tensor + bytes / B (bytes per us);\n"
        "                   default linear:134,5701 (Baechi's measured fit, as edges.csv)\n"
        "  --system NAME    transfers as flows over that system's links instead (device i =\n"
        "                   GPU i); --model then takes the system's GPU for operator times\n"
        "  --channels C     how linear transfers share links, in the simulation and in the\n"
        "                   placers' pricing: pair (one channel per ordered device pair, as\n"
        "                   NVLink gives; the default) or device (one per device for its\n"
        "                   sends and receives, Baechi's model)\n"
        "  --csv FILE       writes id,name,device per operator\n"
        "  --format F       table (default) or csv: one row algo,devices,placement_s,step_ms,\n"
        "                   max_peak_mem_gib,max_mem_gib,prep_s,nodes,units,predicted_ms\n"
        "                   (predicted_ms: the placers' list schedule of this placement; empty\n"
        "                   for expert, expert-nearest and auto)\n"
        "  --no-coplace     no co-placement (an operator with one consumer joins it)\n"
        "  --no-fuse        no fusion of units into single nodes\n"
        "  --evals K        auto: at most K simulations (default 1000); K x (operators +\n"
        "                   edges) at most 33,554,432 (m-SCT: nodes + edges at most 65,536)\n"
        "A tensor goes once to each device that reads it (edges.csv's src_outputs; without\n"
        "that column every edge carries tensors of its own).\n"
        "Memory: a device holds the persistent and scratch bytes of its operators and each\n"
        "output that leaves its fused node (docs/placement.md).  An infeasible placement\n"
        "names the device that runs out and by how much (exit status 2).\n",
        PLACE_MAX_DEVICES);
}

typedef struct opts {
    const char *graph, *model, *system, *csv, *mem;
    long devices, mbs, evals;
    int coplace, fuse;
    place_algo algo;
    place_channels channels;
    double latency_us, bytes_per_us;
    cli_format fmt;
} opts;

static int parse_mem(const char *text, int ndev, place_spec *s)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", text);
    size_t len = strlen(buf);
    if (len == 0 || buf[0] == ',' || buf[len - 1] == ',' || strstr(buf, ",,"))
        return cli_bad_input(CMD, "--mem-gib: '%s' has an empty value", text);
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        double gib;
        if (n >= ndev)
            return cli_bad_input(CMD, "--mem-gib has more values than the %d devices", ndev);
        if (cli_parse_positive(CMD, "--mem-gib", tok, &gib))
            return CLI_BAD_INPUT;
        if (gib > 1e9) /* beyond it the bytes do not fit 64 bits */
            return cli_bad_input(CMD, "--mem-gib: %s is more than 1e9 GiB", tok);
        s->mem_bytes[n++] = (uint64_t)(gib * GIB);
    }
    if (n != 1 && n != ndev)
        return cli_bad_input(CMD, "--mem-gib has %d values; give one for every device or %d", n,
                             ndev);
    for (int d = n; d < ndev; d++)
        s->mem_bytes[d] = s->mem_bytes[0];
    return CLI_OK;
}

static int parse_comm(const char *text, opts *o)
{
    char rest[256];
    double lat, bw;
    char extra;
    if (sscanf(text, "linear:%255s", rest) != 1 || sscanf(rest, "%lf,%lf%c", &lat, &bw, &extra) != 2 ||
        !(lat >= 0) || !(bw > 0) || lat > 1e9 || bw > 1e15)
        return cli_bad_input(CMD, "--comm '%s': expected linear:LATENCY_US,BYTES_PER_US with a "
                             "latency of 0 or more and a bandwidth above 0, e.g. linear:134,5701",
                             text);
    o->latency_us = lat;
    o->bytes_per_us = bw;
    return CLI_OK;
}

static int parse_one(int c, const char *arg, void *ctx)
{
    opts *o = ctx;
    cs_err err;
    switch (c) {
    case 'g': o->graph = arg; return CLI_OK;
    case 'm': o->model = arg; return CLI_OK;
    case 'b': return cli_parse_int(CMD, "--mbs", arg, 1, 1 << 16, &o->mbs);
    case 'n': return cli_parse_int(CMD, "--devices", arg, 1, PLACE_MAX_DEVICES, &o->devices);
    case 'M': o->mem = arg; return CLI_OK;
    case 'a': return place_algo_parse(arg, &o->algo, &err) ? cli_bad_err(CMD, &err) : CLI_OK;
    case 'c': return parse_comm(arg, o);
    case 's': o->system = arg; return CLI_OK;
    case 'C': return place_channels_parse(arg, &o->channels, &err) ? cli_bad_err(CMD, &err) : CLI_OK;
    case 'o': o->csv = arg; return CLI_OK;
    case 'f': return cli_parse_format(CMD, arg, &o->fmt);
    case 'P': o->coplace = 0; return CLI_OK;
    case 'F': o->fuse = 0; return CLI_OK;
    default: return cli_parse_int(CMD, "--evals", arg, 0, 100000000, &o->evals); /* 'e' */
    }
}

static int parse(int argc, char **argv, opts *o)
{
    static const struct option lo[] = {
        {"graph", required_argument, 0, 'g'}, {"model", required_argument, 0, 'm'},
        {"mbs", required_argument, 0, 'b'},   {"devices", required_argument, 0, 'n'},
        {"mem-gib", required_argument, 0, 'M'}, {"algo", required_argument, 0, 'a'},
        {"comm", required_argument, 0, 'c'},  {"system", required_argument, 0, 's'},
        {"csv", required_argument, 0, 'o'},   {"format", required_argument, 0, 'f'},
        {"no-coplace", no_argument, 0, 'P'},  {"no-fuse", no_argument, 0, 'F'},
        {"evals", required_argument, 0, 'e'}, {"channels", required_argument, 0, 'C'},
        {0, 0, 0, 0}};
    static const cli_args args = {.hint = "; see --help"};
    int rc = cli_getopt_each(CMD, argc, argv, lo, &args, parse_one, o);
    if (rc == 0 && !o->graph == !o->model)
        rc = cli_bad_input(CMD, "give one of --graph DIR or --model NAME");
    if (rc == 0 && (!o->devices || !o->mem))
        rc = cli_bad_input(CMD, "--devices and --mem-gib are required; see --help");
    return rc;
}

/* The graph from --graph or --model; dev_name is the GPU type for --model. */
static int load_graph(const opts *o, const char *dev_name, opgraph *g)
{
    cs_err err;
    if (o->graph) {
        if (opgraph_read_dir(o->graph, g, &err) != 0)
            return cli_bad_err(CMD, &err);
        return CLI_OK;
    }
    model_desc m;
    opg_init(g);
    if (model_find(o->model, &m, &err) != 0 ||
        opg_from_model(&m, dev_name, (int)o->mbs, (int)o->devices, g, &err) != 0)
        return cli_bad_err(CMD, &err);
    return CLI_OK;
}

static double max_gib(const uint64_t *bytes, int n)
{
    uint64_t m = 0;
    for (int d = 0; d < n; d++)
        m = bytes[d] > m ? bytes[d] : m;
    return m / GIB;
}

static void print_devices(const placerun_input *in, const placerun_output *out)
{
    static const char *const names[] = {"device", "operators", "busy", "peak memory",
                                        "placed memory", "limit"};
    static const char *const units[] = {NULL, NULL, "ms", "GiB", "GiB", "GiB"};
    table *t = table_new(6, names, units);
    for (int d = 0; d < in->spec.ndev; d++) {
        char c[6][32];
        snprintf(c[0], 32, "%d", d);
        snprintf(c[1], 32, "%d", out->sim.ops[d]);
        snprintf(c[2], 32, "%.3f", out->sim.busy_us[d] / 1e3);
        snprintf(c[3], 32, "%.3f", out->sim.peak_bytes[d] / GIB);
        snprintf(c[4], 32, "%.3f", out->need_bytes[d] / GIB);
        snprintf(c[5], 32, "%.3f", in->spec.mem_bytes[d] / GIB);
        const char *cells[6] = {c[0], c[1], c[2], c[3], c[4], c[5]};
        table_add_row(t, cells);
    }
    table_print(t, stdout, 2);
    table_free(t);
}

static void print_table(const opts *o, const placerun_input *in, const placerun_output *out)
{
    const opgraph *f = &out->prep.fused;
    printf("graph: %s, %d operators, %d edges; %s%s: %d nodes in %d units (%d cut to avoid "
           "a cycle)\n", o->graph ? o->graph : o->model, in->g->n, in->g->m,
           in->coplace ? "co-placement" : "no co-placement", in->fuse ? " and fusion" : ", no fusion",
           f->n, out->prep.nunits, out->prep.split_units);
    if (in->t)
        printf("devices: %d, transfers over the links of %s\n", in->spec.ndev, o->system);
    else
        printf("devices: %d, transfers %.6g us per tensor + bytes / %.6g bytes per us, one "
               "channel per %s\n", in->spec.ndev, in->spec.latency_us, in->spec.bytes_per_us,
               in->spec.channels == PLACE_CH_PAIR ? "device pair" : "device");
    printf("tensors: %d; %s\n", in->g->ntensors,
           in->g->shared_tensors ? "edges naming one output share it: a device receives it once"
                                 : "no output indices (src_outputs): every edge carries tensors "
                                   "of its own");
    printf("algorithm %s: placed in %.4f s (preprocessing %.4f s)\n", place_algo_name(in->algo),
           out->place_s, out->prep_s);
    if (in->algo == PLACE_AUTO)
        printf("auto: started from %s (%.3f ms), %d simulations, %d moves kept\n",
               place_algo_name(out->auto_info.start), out->auto_info.start_step_us / 1e3,
               out->auto_info.evals, out->auto_info.moves);
    if (out->res.est_step_us > 0)
        printf("predicted step (the placers' list schedule of it%s): %.3f ms, %+.1f%% of the "
               "simulated\n", in->t ? ", priced by the linear model, not the links" : "",
               out->res.est_step_us / 1e3, 100 * (out->res.est_step_us / out->sim.step_us - 1));
    printf("simulated step: %.3f ms; %d transfers, %.3f GiB\n", out->sim.step_us / 1e3,
           out->sim.transfers, out->sim.transfer_bytes / GIB);
    print_devices(in, out);
}

static void print_csv(const placerun_input *in, const placerun_output *out)
{
    printf("algo,devices,placement_s,step_ms,max_peak_mem_gib,max_mem_gib,prep_s,nodes,units,"
           "predicted_ms\n");
    printf("%s,%d,%.6f,%.6f,%.6f,%.6f,%.6f,%d,%d,", place_algo_name(in->algo), in->spec.ndev,
           out->place_s, out->sim.step_us / 1e3, max_gib(out->sim.peak_bytes, in->spec.ndev),
           max_gib(out->need_bytes, in->spec.ndev), out->prep_s, out->prep.fused.n,
           out->prep.nunits);
    if (out->res.est_step_us > 0)
        printf("%.6f", out->res.est_step_us / 1e3);
    printf("\n");
}

static int run(const opts *o, placerun_input *in, opgraph *g)
{
    placerun_output out;
    cs_err err;
    int rc = placerun(in, &out, &err);
    if (rc != 0)
        rc = cli_bad_err(CMD, &err);
    if (rc == 0 && o->csv && placerun_write_csv(o->csv, g, out.res.op_dev, &err) != 0)
        rc = cli_bad_err(CMD, &err);
    if (rc == 0 && o->fmt == CLI_CSV)
        print_csv(in, &out);
    else if (rc == 0)
        print_table(o, in, &out);
    placerun_free(&out);
    return rc;
}

int cmd_place(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        help();
        return CLI_OK;
    }
    opts o = {0};
    o.mbs = 1;
    o.evals = 1000;
    o.coplace = o.fuse = 1;
    o.algo = PLACE_AUTO;
    o.latency_us = -1;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc;
    if (o.system && o.latency_us >= 0)
        return cli_bad_input(CMD, "give --comm or --system, not both");
    placerun_input in = {NULL, {(int)o.devices, {0}, 134, 5701, o.channels}, o.algo, o.coplace,
                         o.fuse, NULL, (int)o.evals};
    if (o.latency_us >= 0) {
        in.spec.latency_us = o.latency_us;
        in.spec.bytes_per_us = o.bytes_per_us;
    }
    if ((rc = parse_mem(o.mem, (int)o.devices, &in.spec)))
        return rc;
    sys_system sys;
    long job_gpus;
    if (o.system && (rc = cli_build_job(CMD, o.system, o.devices, 0, &sys, &in.t, &job_gpus)))
        return rc;
    opgraph g;
    rc = load_graph(&o, o.system ? sys.groups[0].node.gpu->name : "H100-SXM5-80GB", &g);
    in.g = &g;
    if (rc == 0)
        rc = run(&o, &in, &g);
    opg_free(&g);
    topo_free(in.t);
    return rc;
}
