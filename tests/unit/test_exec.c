/* Unit tests: the task-graph executor (streams, dependencies, transfers,
 * collectives, delays, recorded times, errors). */
#include <stdio.h>
#include <string.h>

#include "collsim.h"
#include "exec.h"
#include "tap.h"

#define US 1000000ULL

static topo *h100(int nodes)
{
    sys_system s;
    topo *t = NULL;
    cs_err err;
    if (sys_from_catalog("dgx-h100", nodes, &s, &err) || topo_build(&s, &t, &err))
        printf("# %s\n", err.msg);
    return t;
}

/* A stream runs in program order: b is ready at once but waits for a. */
static void stream_program_order(void)
{
    topo *t = h100(1);
    exec_graph *g = exec_new();
    int s = exec_stream(g, 0, "compute");
    int a = exec_compute(g, s, 10 * US, "a");
    int b = exec_compute(g, s, 5 * US, "b");
    exec_result r;
    cs_err err;
    CHECK(exec_run(g, t, &r, &err) == 0);
    CHECK_EQ_INT(exec_task_start_ps(g, a), 0);
    CHECK_EQ_INT(exec_task_start_ps(g, b), 10 * US);
    CHECK_EQ_INT(exec_task_end_ps(g, b), 15 * US);
    CHECK_EQ_INT(r.makespan_ps, 15 * US);
    exec_free(g);
    topo_free(t);
}

/* Two streams run in parallel; a dependency across them waits. */
static void streams_and_dependencies(void)
{
    topo *t = h100(1);
    exec_graph *g = exec_new();
    int s0 = exec_stream(g, 0, "compute"), s1 = exec_stream(g, 1, "compute");
    int a = exec_compute(g, s0, 10 * US, "a");
    int b = exec_compute(g, s1, 3 * US, "b");
    int c = exec_compute(g, s1, 4 * US, "c");
    int d = exec_delay(g, 2 * US, "d");
    exec_dep(g, a, c);
    exec_dep(g, c, d);
    exec_result r;
    cs_err err;
    CHECK(exec_run(g, t, &r, &err) == 0);
    CHECK_EQ_INT(exec_task_end_ps(g, b), 3 * US);
    CHECK_EQ_INT(exec_task_start_ps(g, c), 10 * US);
    CHECK_EQ_INT(exec_task_start_ps(g, d), 14 * US);
    CHECK_EQ_INT(r.makespan_ps, 16 * US);
    CHECK(strcmp(exec_task_name(g, c), "c") == 0);
    CHECK_EQ_INT(exec_stream_gpu(g, s1), 1);
    exec_free(g);
    topo_free(t);
}

/* 370 MB between two GPUs of one node: 1 ms at the 370 GB/s NCCL reaches on
 * dgx-h100's NVLink (nvlink_eff) plus two NVLink hops. */
static void transfer_time(void)
{
    topo *t = h100(1);
    exec_graph *g = exec_new();
    int x = exec_transfer(g, -1, 0, 1, 370e6, "x");
    exec_result r;
    cs_err err;
    CHECK(exec_run(g, t, &r, &err) == 0);
    CHECK_REL((double)exec_task_end_ps(g, x), 1e9 + 2 * 250000.0, 1e-9);
    exec_free(g);
    topo_free(t);
}

/* Two transfers out of GPU 0 share its NVLink port: each takes twice as long. */
static void transfers_contend(void)
{
    topo *t = h100(1);
    exec_graph *g = exec_new();
    int x = exec_transfer(g, -1, 0, 1, 370e6, "x");
    int y = exec_transfer(g, -1, 0, 2, 370e6, "y");
    exec_result r;
    cs_err err;
    CHECK(exec_run(g, t, &r, &err) == 0);
    CHECK_REL((double)exec_task_end_ps(g, x), 2e9 + 2 * 250000.0, 1e-9);
    CHECK_REL((double)exec_task_end_ps(g, y), 2e9 + 2 * 250000.0, 1e-9);
    exec_free(g);
    topo_free(t);
}

/* A collective after compute: starts when the slowest member's compute ends. */
static void collective_waits_for_members(void)
{
    topo *t = h100(1);
    int32_t grp[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    coll_params p;
    coll_plan plan;
    cs_err err;
    coll_params_default(&p);
    CHECK(coll_plan_build(t, COLL_ALLREDUCE, COLL_ALGO_RING, grp, 8, &p, &plan, &err) == 0);
    exec_graph *g = exec_new();
    int coll = -1, comp[8];
    for (int i = 0; i < 8; i++)
        comp[i] = exec_compute(g, exec_stream(g, i, "compute"), (uint64_t)(i + 1) * US, "c");
    coll = exec_collective(g, -1, &plan, 64 << 20, "ar");
    for (int i = 0; i < 8; i++)
        exec_dep(g, comp[i], coll);
    exec_result r;
    CHECK(exec_run(g, t, &r, &err) == 0);
    CHECK_EQ_INT(exec_task_start_ps(g, coll), 8 * US);
    uint64_t alone_ps;
    exec_result r2;
    const coll_plan *pp = &plan;
    uint64_t size = 64 << 20;
    CHECK(collsim_run(t, &pp, &size, 1, &alone_ps, &r2, &err) == 0);
    CHECK_EQ_INT(exec_task_end_ps(g, coll) - exec_task_start_ps(g, coll), alone_ps);
    exec_free(g);
    coll_plan_free(&plan);
    topo_free(t);
}

static void cycle_is_an_error(void)
{
    topo *t = h100(1);
    exec_graph *g = exec_new();
    int a = exec_delay(g, US, "first");
    int b = exec_delay(g, US, "second");
    exec_dep(g, a, b);
    exec_dep(g, b, a);
    exec_result r;
    cs_err err;
    CHECK(exec_run(g, t, &r, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "cycle");
    CHECK_STR_CONTAINS(err.msg, "'first'");
    exec_free(g);
    topo_free(t);
}

static void bad_tasks_are_errors(void)
{
    topo *t = h100(1);
    exec_graph *g = exec_new();
    exec_transfer(g, -1, 0, 12, 1e6, "to nowhere");
    exec_result r;
    cs_err err;
    CHECK(exec_run(g, t, &r, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "transfer 'to nowhere'");
    exec_free(g);
    g = exec_new();
    exec_stream(g, 9, "compute");
    CHECK(exec_run(g, t, &r, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "GPU 9");
    exec_free(g);
    topo_free(t);
}

/* The same graph run twice gives the same times, task by task. */
static void runs_are_deterministic(void)
{
    topo *t = h100(2);
    exec_graph *g = exec_new();
    for (int i = 0; i < 40; i++) {
        int x = exec_transfer(g, -1, i % 16, (i * 7 + 3) % 16, 1e6 * (1 + i % 5), "x");
        if (i > 3)
            exec_dep(g, x - 3, x);
    }
    exec_result r;
    cs_err err;
    uint64_t first[40];
    CHECK(exec_run(g, t, &r, &err) == 0);
    for (int i = 0; i < 40; i++)
        first[i] = exec_task_end_ps(g, i);
    CHECK(exec_run(g, t, &r, &err) == 0);
    for (int i = 0; i < 40; i++)
        CHECK_EQ_INT(exec_task_end_ps(g, i), first[i]);
    exec_free(g);
    topo_free(t);
}

/* What each task was built from reads back after a run (the kinds share
 * storage in exec.c): the other kinds' fields read 0 or NULL; names are
 * stored once per distinct name, also from a reused buffer. */
static void tasks_read_back(void)
{
    topo *t = h100(1);
    coll_plan plan;
    coll_params params;
    coll_params_default(&params);
    int32_t gpus[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    CHECK(coll_plan_build(t, COLL_ALLREDUCE, COLL_ALGO_RING, gpus, 8, &params, &plan, NULL) == 0);
    exec_graph *g = exec_new();
    char buf[16];
    snprintf(buf, sizeof buf, "first");
    int c = exec_compute(g, exec_stream(g, 0, "compute"), 3 * US, buf);
    snprintf(buf, sizeof buf, "second");
    int x = exec_transfer(g, -1, 1, 2, 4096, buf);
    int k = exec_collective(g, -1, &plan, 1u << 20, "tp");
    int d = exec_delay(g, 2 * US, "first");
    exec_dep(g, c, x);
    exec_dep(g, x, k);
    exec_result r;
    cs_err err;
    CHECK(exec_run(g, t, &r, &err) == 0);
    int src, dst;
    double bytes;
    CHECK(exec_task_duration_ps(g, c) == 3 * US && exec_task_duration_ps(g, d) == 2 * US);
    CHECK(exec_task_duration_ps(g, x) == 0 && exec_task_duration_ps(g, k) == 0);
    CHECK(exec_task_plan(g, k) == &plan && exec_task_size_bytes(g, k) == 1u << 20);
    CHECK(exec_task_plan(g, c) == NULL && exec_task_plan(g, x) == NULL);
    CHECK(exec_task_size_bytes(g, x) == 0);
    exec_task_transfer(g, x, &src, &dst, &bytes);
    CHECK(src == 1 && dst == 2 && bytes == 4096);
    exec_task_transfer(g, k, &src, &dst, &bytes);
    CHECK(src == 0 && dst == 0 && bytes == 0);
    CHECK(!strcmp(exec_task_name(g, c), "first") && !strcmp(exec_task_name(g, x), "second"));
    CHECK(exec_task_name(g, d) == exec_task_name(g, c)); /* one copy */
    CHECK(exec_task_kind(g, k) == EXEC_COLLECTIVE && exec_task_kind(g, d) == EXEC_DELAY);
    CHECK(exec_task_end_ps(g, k) > exec_task_end_ps(g, x));
    exec_free(g);
    coll_plan_free(&plan);
    topo_free(t);
}

TAP_MAIN({"a stream runs its tasks in program order", stream_program_order},
         {"what a task was built from reads back", tasks_read_back},
         {"streams in parallel, dependencies across them", streams_and_dependencies},
         {"a transfer takes bytes over bandwidth plus route latency", transfer_time},
         {"transfers from one GPU share its port", transfers_contend},
         {"a collective starts after its slowest member", collective_waits_for_members},
         {"a dependency cycle is reported", cycle_is_an_error},
         {"transfers and streams outside the system are reported", bad_tasks_are_errors},
         {"the same graph gives the same times", runs_are_deterministic})
