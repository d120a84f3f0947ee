/* Unit tests: tensors as the unit of transfer, and the channel models.
 *   One tensor read by three operators on another device is sent once; two
 *   outputs are two transfers; edges added without output indices (an old
 *   CSV) carry tensors of their own.  The channel models on hand-made
 *   placements give the step times worked out below, in the simulation and
 *   in the placers' own pricing (place_estimate) alike.  The CSV reader:
 *   src_outputs read, an old file without it loads (every edge its own
 *   tensors), malformed values named with line and cause. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "opgraph_csv.h"
#include "placesim.h"
#include "tap.h"

static void node(opgraph *g, double us, uint64_t out)
{
    opg_node nd = {0, us, 0, 0, out, -1, -1, g->n};
    opg_add_node(g, "op", &nd);
}

static void edge_out(opgraph *g, int src, int dst, int output, uint64_t bytes)
{
    opg_add_edge_outputs(g, src, dst, 1, &output, &bytes);
}

/* The linear model: 10 us per tensor plus bytes / 100 bytes per us. */
static placesim_result simulate(const opgraph *g, const int *dev, int ndev, place_channels ch)
{
    placesim_cfg c = {ndev, 10, 100, ch, NULL, NULL};
    placesim_result r;
    cs_err err;
    CHECK(placesim_run(g, dev, &c, &r, NULL, &err) == 0);
    return r;
}

/* The placers' pricing of the same placement (each operator its own unit). */
static double estimate(const opgraph *g, const int *dev, int ndev, place_channels ch)
{
    place_prep p;
    CHECK(place_prepare(g, 0, 0, &p, NULL) == 0);
    place_spec s = {ndev, {0}, 10, 100, ch};
    int unit_dev[16];
    for (int v = 0; v < g->n; v++)
        unit_dev[p.fused.nodes[p.fused_of[v]].group] = dev[v];
    double us = place_estimate(&p, &s, unit_dev);
    place_prep_free(&p);
    return us;
}

/* a (1 us, device 0) -> b, c, d (1 us each, device 1), 1000 bytes: 10 + 10 us. */
static void one_tensor_three_consumers(void)
{
    opgraph g;
    opg_init(&g);
    for (int v = 0; v < 4; v++)
        node(&g, 1, 1000);
    for (int w = 1; w < 4; w++)
        edge_out(&g, 0, w, 0, 1000);
    CHECK(opg_finish(&g, NULL) == 0);
    CHECK_EQ_INT(g.ntensors, 1);
    int dev[4] = {0, 1, 1, 1};
    placesim_result r = simulate(&g, dev, 2, PLACE_CH_PAIR);
    CHECK_EQ_INT(r.transfers, 1);
    CHECK_REL(r.transfer_bytes, 1000, 1e-12);
    CHECK_REL(r.step_us, 1 + 20 + 3, 1e-9); /* a, one transfer, then b, c, d */
    CHECK_REL(estimate(&g, dev, 2, PLACE_CH_PAIR), 24, 1e-9);
    CHECK_EQ_INT((int)r.peak_bytes[1], 1000 + 3000); /* received once, plus b, c, d's outputs */
    opg_free(&g);

    opg_init(&g); /* the same edges without output indices: three tensors */
    for (int v = 0; v < 4; v++)
        node(&g, 1, 1000);
    for (int w = 1; w < 4; w++)
        opg_add_edge(&g, 0, w, 1000, 1);
    CHECK(opg_finish(&g, NULL) == 0);
    CHECK_EQ_INT(g.ntensors, 3);
    r = simulate(&g, dev, 2, PLACE_CH_PAIR);
    CHECK_EQ_INT(r.transfers, 3);
    CHECK_REL(r.step_us, 1 + 3 * 20 + 1, 1e-9); /* one after another on the pair's channel */
    opg_free(&g);
}

/* a's outputs 0 and 1 (500 bytes each: 15 us) to b and c on device 1. */
static void two_outputs_two_transfers(void)
{
    opgraph g;
    opg_init(&g);
    for (int v = 0; v < 3; v++)
        node(&g, 1, 1000);
    edge_out(&g, 0, 1, 0, 500);
    edge_out(&g, 0, 2, 1, 500);
    CHECK(opg_finish(&g, NULL) == 0);
    CHECK_EQ_INT(g.ntensors, 2);
    int dev[3] = {0, 1, 1};
    placesim_result r = simulate(&g, dev, 2, PLACE_CH_PAIR);
    CHECK_EQ_INT(r.transfers, 2);
    CHECK_REL(r.step_us, 1 + 15 + 15 + 1, 1e-9); /* b runs 16-17 while c's tensor is sent */
    CHECK_REL(estimate(&g, dev, 2, PLACE_CH_PAIR), 32, 1e-9);
    opg_free(&g);
}

/* Hand-worked channels (tensors of 0 bytes: 10 us each; operators 1 us).
 * fan-out: a (device 0) sends one tensor to b (device 1) and one to c
 * (device 2).  pair: both channels free, both arrive at 11, step 12.
 * device: device 0's channel sends one after the other, 1-11 then 11-21:
 * c runs 21-22.
 * fan-in: a (0) and b (1) each send a tensor to c and d (device 2).  pair:
 * both arrive at 11, c 11-12, d 12-13.  device: device 2's channel
 * receives one after the other, 1-11 and 11-21: d runs 21-22. */
static void channel_models(void)
{
    opgraph g;
    opg_init(&g);
    for (int v = 0; v < 3; v++)
        node(&g, 1, 0);
    edge_out(&g, 0, 1, 0, 0);
    edge_out(&g, 0, 2, 1, 0);
    CHECK(opg_finish(&g, NULL) == 0);
    int fan_out[3] = {0, 1, 2};
    CHECK_REL(simulate(&g, fan_out, 3, PLACE_CH_PAIR).step_us, 12, 1e-9);
    CHECK_REL(simulate(&g, fan_out, 3, PLACE_CH_DEVICE).step_us, 22, 1e-9);
    CHECK_REL(estimate(&g, fan_out, 3, PLACE_CH_PAIR), 12, 1e-9);
    CHECK_REL(estimate(&g, fan_out, 3, PLACE_CH_DEVICE), 22, 1e-9);
    opg_free(&g);

    opg_init(&g);
    for (int v = 0; v < 4; v++)
        node(&g, 1, 0);
    edge_out(&g, 0, 2, 0, 0);
    edge_out(&g, 1, 3, 0, 0);
    CHECK(opg_finish(&g, NULL) == 0);
    int fan_in[4] = {0, 1, 2, 2};
    CHECK_REL(simulate(&g, fan_in, 3, PLACE_CH_PAIR).step_us, 13, 1e-9);
    CHECK_REL(simulate(&g, fan_in, 3, PLACE_CH_DEVICE).step_us, 22, 1e-9);
    CHECK_REL(estimate(&g, fan_in, 3, PLACE_CH_PAIR), 13, 1e-9);
    CHECK_REL(estimate(&g, fan_in, 3, PLACE_CH_DEVICE), 22, 1e-9);
    opg_free(&g);
}

static void write_file(const char *dir, const char *name, const char *text)
{
    char p[1100];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
}

static void remove_dir(const char *dir)
{
    char p[1100];
    snprintf(p, sizeof p, "%s/nodes.csv", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/edges.csv", dir);
    unlink(p);
    rmdir(dir);
}

#define NODES "id,name,compute_us,perm_mem_bytes,temp_mem_bytes,output_mem_bytes,colocation_group\n" \
              "0,a,1,0,0,64,\n1,b,1,0,0,8,\n2,c,1,0,0,8,\n"

/* Reads edges (after NODES); returns 0 on success, err filled otherwise. */
static int read_edges(const char *edges, opgraph *g, cs_err *err)
{
    char dir[] = "/tmp/cs_tensors_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    write_file(dir, "nodes.csv", NODES);
    write_file(dir, "edges.csv", edges);
    int rc = opgraph_read_dir(dir, g, err);
    remove_dir(dir);
    return rc;
}

static void csv_outputs(void)
{
    opgraph g;
    cs_err err;
    CHECK(read_edges("src,dst,bytes,num_tensors\n0,1,32,1\n0,2,32,1\n", &g, &err) == 0);
    CHECK_EQ_INT(g.shared_tensors, 0); /* the old file: every edge its own tensor */
    CHECK_EQ_INT(g.ntensors, 2);
    opg_free(&g);
    CHECK(read_edges("src,dst,bytes,num_tensors,src_outputs\n0,1,32,1,0\n0,2,64,2,1;0\n", &g,
                     &err) == 0);
    CHECK_EQ_INT(g.shared_tensors, 1);
    CHECK_EQ_INT(g.ntensors, 2); /* output 0 shared by both edges, and output 1 */
    CHECK_EQ_INT((int)g.tensors[0].bytes, 32);
    CHECK_EQ_INT((int)g.edges[1].bytes, 64);
    opg_free(&g);
    CHECK(read_edges("src,dst,bytes,src_outputs\n0,1,32,\n0,2,32,\n", &g, &err) == 0);
    CHECK_EQ_INT(g.ntensors, 1); /* control edges: one per producer (TensorFlow's slot -1) */
    opg_free(&g);
    CHECK(read_edges("src,dst,bytes,src_outputs\n0,1,32,x\n", &g, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "edges.csv: line 2: column 'src_outputs' is 'x'");
    opg_free(&g);
    CHECK(read_edges("src,dst,bytes,src_outputs\n0,1,32,1;1\n", &g, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "output 1 appears twice");
    opg_free(&g);
    CHECK(read_edges("src,dst,bytes,num_tensors,src_outputs\n0,1,32,3,0;1\n", &g, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "line 2: 'num_tensors' is 3 but 'src_outputs' names 2 outputs");
    opg_free(&g);
}

int main(void)
{
    static const tap_case cases[] = {
        {"one tensor to three consumers on another device: one transfer", one_tensor_three_consumers},
        {"two outputs to one device: two transfers", two_outputs_two_transfers},
        {"pair and device channels: hand-worked steps, simulated and priced", channel_models},
        {"CSV: src_outputs read; an old file loads; bad values named", csv_outputs},
    };
    return tap_run(cases, (int)(sizeof cases / sizeof cases[0]));
}
