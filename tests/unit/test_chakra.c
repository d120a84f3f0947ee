/* Chakra traces: written and read back, every node type replayed to its
 * hand-computed time, the exported iteration replayed to the simulated
 * one, and bad traces reported with file, node id and problem. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chakra.h"
#include "chakra_export.h"
#include "collsim.h"
#include "fixture.h"
#include "replay.h"
#include "tap.h"
#include "trainsim.h"
#include "units.h"

/* ---- a scratch folder and a small generator of traces ------------------------- */

static char *scratch(void)
{
    static char dir[64];
    snprintf(dir, sizeof dir, "/tmp/cs_chakra_XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    return dir;
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char path[512];
    while (d && (e = readdir(d)) != NULL)
        if (e->d_name[0] != '.' || (e->d_name[1] && strcmp(e->d_name, "..") != 0)) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    if (d)
        closedir(d);
    rmdir(dir);
}

static void write_rank(const char *dir, int rank, const chakra_trace *t)
{
    char path[512];
    snprintf(path, sizeof path, "%s/t.%d.et", dir, rank);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    cs_err err;
    CHECK(chakra_write(f, t, &err) == 0);
    fclose(f);
}

static chakra_node *comp(chakra_trace *t, uint64_t id, uint64_t micros, int gpu)
{
    chakra_node *n = chakra_add(t, id, "op", CHAKRA_COMP);
    n->duration_micros = micros;
    n->is_cpu_op = !gpu;
    n->has |= CHAKRA_HAS_IS_CPU_OP;
    return n;
}

static chakra_node *coll(chakra_trace *t, uint64_t id, int type, uint64_t bytes, const char *pg)
{
    chakra_node *n = chakra_add(t, id, "coll", CHAKRA_COLL);
    n->comm_type = type;
    n->comm_size = bytes;
    n->has |= CHAKRA_HAS_COMM_TYPE | CHAKRA_HAS_COMM_SIZE;
    n->is_cpu_op = 0;
    if (pg)
        chakra_set_pg(n, pg);
    return n;
}

static chakra_node *p2p(chakra_trace *t, uint64_t id, int type, int src, int dst, int tag,
                        uint64_t bytes)
{
    chakra_node *n = chakra_add(t, id, type == CHAKRA_SEND ? "send" : "recv", type);
    n->comm_src = src, n->comm_dst = dst, n->comm_tag = tag, n->comm_size = bytes;
    n->has |= CHAKRA_HAS_COMM_SRC | CHAKRA_HAS_COMM_DST | CHAKRA_HAS_COMM_TAG | CHAKRA_HAS_COMM_SIZE;
    n->is_cpu_op = 0;
    return n;
}

static topo *h100(int nodes)
{
    sys_system s;
    topo *t = NULL;
    cs_err err;
    CHECK(sys_from_catalog("dgx-h100", nodes, &s, &err) == 0 && topo_build(&s, &t, &err) == 0);
    return t;
}

/* Replays dir on `nodes` DGX H100 nodes with `gpus` GPUs. */
static int replay_priced(const char *dir, int nodes, int gpus, int price, replay_result *r,
                         cs_err *err)
{
    topo *t = h100(nodes);
    opcost_eff eff;
    opcost_eff_default(&eff);
    replay_input in = {t, gpus, estimate_device(t), &eff, price};
    replay_traces tr;
    memset(r, 0, sizeof *r);
    int rc = replay_load(dir, &tr, err);
    if (rc == 0)
        rc = replay_run(&tr, &in, r, NULL, err);
    replay_traces_free(&tr);
    topo_free(t);
    return rc;
}

static int replay_dir(const char *dir, int nodes, int gpus, replay_result *r, cs_err *err)
{
    return replay_priced(dir, nodes, gpus, 0, r, err);
}

/* The time of one collective alone on GPUs 0 .. n-1 (+ first), as replay prices it. */
static uint64_t alone_ps(int nodes, coll_op op, int first, int n, uint64_t bytes)
{
    topo *t = h100(nodes);
    int32_t gpus[16];
    for (int i = 0; i < n; i++)
        gpus[i] = first + i;
    coll_params params;
    coll_params_default(&params);
    coll_plan plan;
    cs_err err;
    uint64_t end_ps = 0;
    exec_result res;
    CHECK(coll_plan_best(t, op, gpus, n, &params, bytes, &plan, &err) == 0);
    const coll_plan *p = &plan;
    CHECK(collsim_run(t, &p, &bytes, 1, &end_ps, &res, &err) == 0);
    coll_plan_free(&plan);
    topo_free(t);
    return end_ps;
}

/* ---- cases ------------------------------------------------------------------- */

static void fields_round_trip(void)
{
    char *dir = scratch();
    chakra_trace t;
    chakra_init(&t, CHAKRA_VERSION, CHAKRA_SCHEMA);
    chakra_add(&t, 0, "meta", CHAKRA_METADATA);
    chakra_node *c = comp(&t, 1, 12, 1);
    c->num_ops = 3e12, c->tensor_size = 1u << 20, c->stream = 3;
    c->has |= CHAKRA_HAS_NUM_OPS | CHAKRA_HAS_TENSOR_SIZE | CHAKRA_HAS_STREAM;
    chakra_add_dep(c, 0);
    chakra_node *k = coll(&t, 2, CHAKRA_ALL_GATHER, 4096, "dp");
    chakra_set_algo(k, "ring");
    k->involved_dim = calloc(2, 1), k->ninvolved = 2, k->involved_dim[0] = 1;
    chakra_add_dep(k, 1);
    p2p(&t, 3, CHAKRA_SEND, 0, 1, 9, 77);
    write_rank(dir, 0, &t);
    chakra_free(&t);
    char path[512];
    snprintf(path, sizeof path, "%s/t.0.et", dir);
    chakra_trace r;
    cs_err err;
    CHECK(chakra_read(path, &r, &err) == 0);
    CHECK_EQ_INT(r.nnodes, 4);
    CHECK(strcmp(r.version, CHAKRA_VERSION) == 0 && strcmp(r.schema, CHAKRA_SCHEMA) == 0);
    if (r.nnodes == 4) {
        const chakra_node *n = r.nodes;
        CHECK_EQ_INT(n[0].type, CHAKRA_METADATA);
        CHECK_EQ_INT(n[1].duration_micros, 12);
        CHECK_EQ_INT(n[1].is_cpu_op, 0);
        CHECK_EQ_INT(n[1].stream, 3);
        CHECK_REL(n[1].num_ops, 3e12, 0);
        CHECK_EQ_INT(n[1].tensor_size, 1u << 20);
        CHECK(n[1].ndata == 1 && n[1].data_deps[0] == 0);
        CHECK_EQ_INT(n[2].comm_type, CHAKRA_ALL_GATHER);
        CHECK_EQ_INT(n[2].comm_size, 4096);
        CHECK(n[2].pg_name && strcmp(n[2].pg_name, "dp") == 0);
        CHECK(n[2].coll_algo && strcmp(n[2].coll_algo, "ring") == 0);
        CHECK(n[2].ninvolved == 2 && n[2].involved_dim[0] == 1 && n[2].involved_dim[1] == 0);
        CHECK(n[3].comm_src == 0 && n[3].comm_dst == 1 && n[3].comm_tag == 9);
        CHECK_EQ_INT(n[3].comm_size, 77);
        CHECK(n[3].has & CHAKRA_HAS_COMM_TAG);
    }
    chakra_free(&r);
    remove_dir(dir);
}

/* Two ranks, every node type.  Rank 0: metadata, 100 us on the GPU, send
 * 370 MB to rank 1, a memory load, the all-reduce, an invalid node.  Rank 1:
 * 30 us on the CPU, the receive, an operator priced from num_ops, a memory
 * store, the all-reduce. */
static void every_node_type(void)
{
    char *dir = scratch();
    const uint64_t load = 3u << 30, store = 1u << 30, ar = 64u << 20;
    chakra_trace t;
    chakra_init(&t, CHAKRA_VERSION, CHAKRA_SCHEMA);
    chakra_add(&t, 0, "meta", CHAKRA_METADATA);
    chakra_node *n = comp(&t, 1, 100, 1);
    n->ctrl_deps = malloc(sizeof *n->ctrl_deps), n->ctrl_deps[0] = 0, n->nctrl = 1;
    chakra_add_dep(p2p(&t, 2, CHAKRA_SEND, 0, 1, 7, 370000000), 1);
    n = chakra_add(&t, 3, "load", CHAKRA_MEM_LOAD);
    n->tensor_size = load, n->has |= CHAKRA_HAS_TENSOR_SIZE;
    chakra_add_dep(n, 2);
    chakra_add_dep(coll(&t, 4, CHAKRA_ALL_REDUCE, ar, "world"), 3);
    chakra_add_dep(chakra_add(&t, 5, "invalid", CHAKRA_INVALID), 4);
    write_rank(dir, 0, &t);
    chakra_free(&t);

    chakra_init(&t, "", "1.0.2-chakra.1.0.0");
    comp(&t, 10, 30, 0);
    chakra_add_dep(p2p(&t, 11, CHAKRA_RECV, 0, 1, 7, 370000000), 10);
    n = chakra_add(&t, 12, "priced", CHAKRA_COMP);
    n->is_cpu_op = 0, n->num_ops = 1e12, n->tensor_size = 1000000;
    n->has |= CHAKRA_HAS_NUM_OPS | CHAKRA_HAS_TENSOR_SIZE;
    chakra_add_dep(n, 11);
    n = chakra_add(&t, 13, "store", CHAKRA_MEM_STORE);
    n->tensor_size = store, n->has |= CHAKRA_HAS_TENSOR_SIZE;
    chakra_add_dep(n, 12);
    chakra_add_dep(coll(&t, 14, CHAKRA_ALL_REDUCE, ar, "world"), 13);
    write_rank(dir, 1, &t);
    chakra_free(&t);

    topo *tp = h100(1);
    const dev_type *dev = estimate_device(tp);
    opcost_eff eff;
    opcost_eff_default(&eff);
    uint64_t send_end = 100000000 + 1000000000 + 2 * 250000; /* exec's own test: 370 MB at the 370 GB/s NVLink, 1 ms + 2 hops */
    uint64_t l0 = units_s_to_ps_ceil(opcost_membound_s(dev, &eff, (double)load));
    uint64_t p1 = units_s_to_ps_ceil(opcost_roofline_s(dev, &eff, MODEL_BF16, 1e12, 1e6));
    uint64_t s1 = units_s_to_ps_ceil(opcost_membound_s(dev, &eff, (double)store));
    uint64_t start = send_end + (l0 > p1 + s1 ? l0 : p1 + s1);
    uint64_t expect = start + alone_ps(1, COLL_ALLREDUCE, 0, 2, ar);
    topo_free(tp);

    replay_result r;
    cs_err err;
    CHECK(replay_dir(dir, 1, 2, &r, &err) == 0);
    CHECK_REL(r.iteration_s, units_ps_to_s(expect), 1e-9);
    CHECK_EQ_INT(r.nodes, 11);
    CHECK_EQ_INT(r.collectives, 1);
    CHECK_EQ_INT(r.transfers, 1);
    CHECK_EQ_INT(r.priced, 1);
    if (r.rank) {
        CHECK_REL(r.rank[1].cpu_s, 30e-6, 1e-12);
        CHECK_REL(r.rank[0].compute_s, 100e-6, 1e-12);
        CHECK_REL(r.rank[1].memory_s, units_ps_to_s(s1), 1e-12);
    }
    replay_result_free(&r);
    remove_dir(dir);
}

/* 16 ranks on two nodes, involved_dim [true, false]: one all-reduce per node. */
static void involved_dim_is_the_node(void)
{
    char *dir = scratch();
    for (int r = 0; r < 16; r++) {
        chakra_trace t;
        chakra_init(&t, CHAKRA_VERSION, CHAKRA_SCHEMA);
        chakra_node *n = coll(&t, 0, CHAKRA_ALL_REDUCE, 1u << 26, NULL);
        n->involved_dim = calloc(2, 1), n->ninvolved = 2, n->involved_dim[0] = 1;
        write_rank(dir, r, &t);
        chakra_free(&t);
    }
    replay_result r;
    cs_err err;
    CHECK(replay_dir(dir, 2, 16, &r, &err) == 0);
    CHECK_EQ_INT(r.collectives, 2);
    CHECK_REL(r.iteration_s, units_ps_to_s(alone_ps(2, COLL_ALLREDUCE, 0, 8, 1u << 26)), 1e-9);
    replay_result_free(&r);
    remove_dir(dir);
}

/* A recorded 100 us kernel with num_ops: as recorded, or priced on this GPU. */
static void price_compute(void)
{
    char *dir = scratch();
    chakra_trace t;
    chakra_init(&t, CHAKRA_VERSION, CHAKRA_SCHEMA);
    chakra_node *n = comp(&t, 0, 100, 1);
    n->num_ops = 2e12, n->tensor_size = 1 << 20;
    n->has |= CHAKRA_HAS_NUM_OPS | CHAKRA_HAS_TENSOR_SIZE;
    write_rank(dir, 0, &t);
    chakra_free(&t);
    topo *tp = h100(1);
    opcost_eff eff;
    opcost_eff_default(&eff);
    double priced_s = opcost_roofline_s(estimate_device(tp), &eff, MODEL_BF16, 2e12, 1 << 20);
    topo_free(tp);
    replay_result r;
    cs_err err;
    CHECK(replay_priced(dir, 1, 1, 0, &r, &err) == 0);
    CHECK_REL(r.iteration_s, 100e-6, 1e-12);
    CHECK_EQ_INT(r.priced, 0);
    replay_result_free(&r);
    CHECK(replay_priced(dir, 1, 1, 1, &r, &err) == 0);
    CHECK_REL(r.iteration_s, priced_s, 1e-9);
    CHECK(priced_s > 1e-3); /* 2 TFLOP at 0.821 x 989 TFLOP/s: about 2.5 ms, not the 100 us */
    CHECK_EQ_INT(r.priced, 1);
    replay_result_free(&r);
    remove_dir(dir);
}

static int export_to(const estimate_input *in, const char *dir, cs_err *err)
{
    report_set *files = report_new(dir);
    int rc = chakra_export_iteration(in, files, err);
    if (rc == 0)
        rc = report_commit(files, err);
    report_free(files);
    return rc;
}

/* estimate's every-rank lowering, written and replayed: the same time. */
static void exported_iteration_replays(void)
{
    fixture f;
    fixture_setup(&f, "dgx-h100", 2, "megatron-1.7b", 2, 2, 4, 32);
    f.l.zero = 1;
    estimate_result sim;
    cs_err err;
    CHECK(trainsim_run(&f.in, TRAINSIM_ALL_RANKS, &sim, NULL, &err) == 0);
    char *dir = scratch();
    CHECK(export_to(&f.in, dir, &err) == 0);
    replay_result r;
    CHECK(replay_dir(dir, 2, 16, &r, &err) == 0);
    CHECK_REL(r.iteration_s, sim.iteration_s, 1e-9);
    CHECK_EQ_INT(r.ranks, 16);
    CHECK(r.collectives > 0 && r.transfers > 0);
    replay_result_free(&r);
    estimate_result_free(&sim);
    remove_dir(dir);
    topo_free(f.t);
}

/* ---- bad traces ---------------------------------------------------------------- */

/* Replays dir and checks the error names the file and says what. */
static void expect_error(const char *dir, const char *file, const char *what)
{
    replay_result r;
    cs_err err;
    err.msg[0] = 0;
    CHECK(replay_dir(dir, 1, 8, &r, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, file);
    CHECK_STR_CONTAINS(err.msg, what);
    replay_result_free(&r);
}

/* Rank 0: compute 0, then node 1 with what `bad` does to it; rank 1 fine. */
static void bad_case(void (*bad)(chakra_trace *t), const char *file, const char *what)
{
    char *dir = scratch();
    chakra_trace t;
    chakra_init(&t, CHAKRA_VERSION, CHAKRA_SCHEMA);
    comp(&t, 0, 5, 1);
    chakra_add_dep(comp(&t, 1, 5, 1), 0);
    bad(&t);
    write_rank(dir, 0, &t);
    chakra_free(&t);
    chakra_init(&t, CHAKRA_VERSION, CHAKRA_SCHEMA);
    comp(&t, 0, 5, 1);
    write_rank(dir, 1, &t);
    chakra_free(&t);
    expect_error(dir, file, what);
    remove_dir(dir);
}

static void missing_dep(chakra_trace *t) { chakra_add_dep(&t->nodes[1], 99); }
static void unknown_type(chakra_trace *t) { t->nodes[1].type = 42; }
static void cycle(chakra_trace *t) { chakra_add_dep(&t->nodes[0], 1); }
static void duplicate(chakra_trace *t) { t->nodes[0].id = 1; }
static void lone_send(chakra_trace *t) { p2p(t, 2, CHAKRA_SEND, 0, 1, 0, 10); }
static void lone_coll(chakra_trace *t) { coll(t, 2, CHAKRA_ALL_REDUCE, 10, NULL); }
static void gather(chakra_trace *t) { coll(t, 2, CHAKRA_GATHER, 10, "solo"); }
static void no_comm_dst(chakra_trace *t)
{
    chakra_node *n = p2p(t, 2, CHAKRA_SEND, 0, 1, 0, 10);
    n->has &= ~(unsigned)CHAKRA_HAS_COMM_DST;
}
static void old_version(chakra_trace *t)
{
    free(t->version);
    t->version = strdup("0.0.1");
}

static void bad_nodes(void)
{
    bad_case(missing_dep, "t.0.et: node 1", "dependency on node 99, which is not in the file");
    bad_case(unknown_type, "t.0.et: node 1", "unknown node type 42");
    bad_case(cycle, "t.0.et: node", "dependency cycle");
    bad_case(duplicate, "t.0.et: node 1", "duplicate node id");
    bad_case(lone_send, "t.0.et: node 2", "no matching COMM_RECV_NODE");
    bad_case(lone_coll, "t.0.et: node 2", "no partner in");
    bad_case(old_version, "t.0.et", "version '0.0.1'");
    bad_case(gather, "t.0.et: node 2", "collective GATHER (comm_type 3) is not modelled");
    bad_case(no_comm_dst, "t.0.et: node 2", "COMM_SEND_NODE without comm_dst");
}

static void truncated_and_missing_files(void)
{
    char *dir = scratch(), path[512];
    chakra_trace t;
    chakra_init(&t, CHAKRA_VERSION, CHAKRA_SCHEMA);
    comp(&t, 0, 5, 1);
    chakra_add_dep(comp(&t, 1, 5, 1), 0);
    write_rank(dir, 0, &t);
    write_rank(dir, 2, &t);
    chakra_free(&t);
    expect_error(dir, "t.1.et", "rank 1 has no file");
    snprintf(path, sizeof path, "%s/t.0.et", dir);
    FILE *f = fopen(path, "rb");
    char buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    f = fopen(path, "wb");
    fwrite(buf, 1, n - 3, f);
    fclose(f);
    chakra_trace r;
    cs_err err;
    CHECK(chakra_read(path, &r, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "t.0.et: truncated node after node 0");
    f = fopen(path, "wb");
    fputs("not a trace\n", f);
    fclose(f);
    CHECK(chakra_read(path, &r, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "t.0.et");
    remove_dir(dir);
}

TAP_MAIN({"a written trace reads back with every field", fields_round_trip},
         {"every node type replays to its hand-computed time", every_node_type},
         {"involved_dim [true, false] is the GPUs of a node", involved_dim_is_the_node},
         {"--price-compute prices num_ops instead of the recorded time", price_compute},
         {"the exported iteration replays to the simulated time", exported_iteration_replays},
         {"bad nodes name file, node id and problem", bad_nodes},
         {"truncated, foreign and missing files are reported", truncated_and_missing_files})
