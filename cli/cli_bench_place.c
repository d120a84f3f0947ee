/* cli_bench_place: `clustersim bench place`: how long m-ETF and m-SCT take
 * on the GNMT graph of ../shared/placement, 4 devices of 16 GiB, with
 * co-placement and fusion (and without fusion), against the times Baechi's
 * Python placer takes on the same graph on this project's reference machine.
 * Prints figures; never passes or fails on time. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "opgraph_csv.h"
#include "placerun.h"

#define CMD "bench place"

static void help(void)
{
    printf("usage: clustersim bench place [--graph DIR] [--repeat R]\n\n"
           "m-ETF and m-SCT on the GNMT v2 graph (default ../shared/placement/gnmt_v2_b128),\n"
           "4 devices of 16 GiB, linear communication 134 us + bytes / 5701 B/us per tensor,\n"
           "one channel per device pair: the best of\n"
           "R runs (default 5) of preprocessing and of placement, with and without fusion,\n"
           "beside Baechi's Python placer (0.7 s m-ETF and 6.8 s m-SCT after fusion, 25 s\n"
           "and 52 s without it, as measured by the issue) and the speed-up.\n");
}

static int one(const opgraph *g, place_algo a, int fuse, int repeat, double baechi_s)
{
    placerun_input in = {g, {4, {0}, 134, 5701, PLACE_CH_PAIR}, a, 1, fuse, NULL, 0};
    for (int d = 0; d < 4; d++)
        in.spec.mem_bytes[d] = 16ULL << 30;
    double best_place = 1e30, best_prep = 1e30, step_ms = 0, predicted_ms = 0;
    int nodes = 0;
    for (int r = 0; r < repeat; r++) {
        placerun_output out;
        cs_err err;
        if (placerun(&in, &out, &err) != 0) {
            placerun_free(&out);
            return cli_bad_err(CMD, &err);
        }
        best_place = out.place_s < best_place ? out.place_s : best_place;
        best_prep = out.prep_s < best_prep ? out.prep_s : best_prep;
        step_ms = out.sim.step_us / 1e3;
        predicted_ms = out.res.est_step_us / 1e3;
        nodes = out.prep.fused.n;
        placerun_free(&out);
    }
    printf("%-6s %-10s %6d nodes  preprocessing %.4f s  placement %.4f s  total %.4f s  "
           "Baechi %.1f s  speed-up %.0fx  (simulated step %.3f ms, predicted %.3f ms)\n",
           place_algo_name(a), fuse ? "fused" : "not fused", nodes, best_prep, best_place,
           best_prep + best_place, baechi_s, baechi_s / (best_prep + best_place), step_ms,
           predicted_ms);
    return CLI_OK;
}

typedef struct bench_place_opts {
    const char *dir;
    long repeat;
} bench_place_opts;

static int parse_one(int c, const char *arg, void *ctx)
{
    bench_place_opts *o = ctx;
    if (c == 'g') {
        o->dir = arg;
        return CLI_OK;
    }
    return cli_parse_int(CMD, "--repeat", arg, 1, 1000, &o->repeat);
}

int cmd_bench_place(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        help();
        return CLI_OK;
    }
    static const struct option opts[] = {{"graph", required_argument, 0, 'g'},
                                         {"repeat", required_argument, 0, 'r'}, {0, 0, 0, 0}};
    static const cli_args args = {.hint = "; see --help"};
    bench_place_opts o = {CS_SHARED_DIR "/placement/gnmt_v2_b128", 5};
    int rc;
    if ((rc = cli_getopt_each(CMD, argc, argv, opts, &args, parse_one, &o)))
        return rc;
    opgraph g;
    cs_err err;
    if (opgraph_read_dir(o.dir, &g, &err) != 0) {
        opg_free(&g);
        return cli_bad_err(CMD, &err);
    }
    printf("graph %s: %d operators, %d edges; best of %ld runs\n", o.dir, g.n, g.m, o.repeat);
    rc = one(&g, PLACE_ETF, 1, (int)o.repeat, 0.7);
    if (!rc)
        rc = one(&g, PLACE_SCT, 1, (int)o.repeat, 6.8);
    if (!rc)
        rc = one(&g, PLACE_ETF, 0, (int)o.repeat, 25);
    if (!rc)
        rc = one(&g, PLACE_SCT, 0, (int)o.repeat, 52);
    opg_free(&g);
    return rc;
}
