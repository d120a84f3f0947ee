/* Unit tests: parmap, the map the Monte Carlo runs, the search and sweeps
 * share.  Every item's result lands at its index and commits come in index
 * order whatever the thread count; a map inside an item runs on that item's
 * thread; goodput_runs gives the same bytes on 1 and 4 threads (runs keyed
 * by seed + index, summed in index order) and across a block boundary;
 * a fake backend that runs the items backwards gives the same results,
 * as an MPI rank count would. */
#include <stddef.h>
#include <string.h>

#include "goodput.h"
#include "parmap.h"
#include "tap.h"

typedef struct sq_ctx {
    long committed;
    int in_order;
    int nested_ok;
} sq_ctx;

static void square(void *ctx, long i, void *out)
{
    (void)ctx;
    *(long *)out = i * i + 1;
}

static void commit_check(void *ctx, long i, const void *out)
{
    sq_ctx *c = ctx;
    c->in_order &= i == c->committed && *(const long *)out == i * i + 1;
    c->committed++;
}

static void results_by_index(void)
{
    for (int threads = 1; threads <= 8; threads *= 2) {
        long outs[1000];
        sq_ctx c = {0, 1, 1};
        parmap_job j = {.n = 1000, .out_size = sizeof(long), .item = square, .ctx = &c,
                        .commit = commit_check, .threads = threads};
        parmap_run(&j, outs);
        int good = 1;
        for (long i = 0; i < 1000; i++)
            good &= outs[i] == i * i + 1;
        CHECK(good);
        CHECK(c.in_order);
        CHECK_EQ_INT(c.committed, 1000);
    }
}

/* An item that maps again: the inner map runs on this thread, nested. */
static void outer(void *ctx, long i, void *out)
{
    sq_ctx *c = ctx;
    long inner[10];
    parmap_job j = {.n = 10, .out_size = sizeof(long), .item = square, .threads = 4};
    c->nested_ok &= parmap_nested();
    parmap_run(&j, inner);
    long sum = 0;
    for (int k = 0; k < 10; k++)
        sum += inner[k];
    *(long *)out = sum + i;
}

static void nested_maps(void)
{
    long outs[20];
    sq_ctx c = {0, 1, 1};
    parmap_job j = {.n = 20, .out_size = sizeof(long), .item = outer, .ctx = &c, .threads = 3};
    CHECK(!parmap_nested());
    parmap_run(&j, outs);
    CHECK(c.nested_ok);
    CHECK_EQ_INT(outs[0], 295); /* sum of k^2 + 1 for k < 10 */
    CHECK_EQ_INT(outs[19], 314);
}

static goodput_stats study(int threads, int runs)
{
    parmap_set_default_threads(threads);
    goodput_job job = goodput_job_single(30 * 86400.0, 6 * 3600.0, 60, 600, 0);
    goodput_policy p = {GOODPUT_SYNC, 1800, 60, 0, 0};
    goodput_stats st;
    cs_err err;
    CHECK(goodput_runs(&job, &p, runs, 7, &st, &err) == 0);
    parmap_set_default_threads(1);
    return st;
}

/* The figures bit for bit (not the padding after `runs`, which a compound
 * literal's assignment need not set: clang's -O3 leaves it). */
static int same_stats(const goodput_stats *a, const goodput_stats *b)
{
    size_t from = offsetof(goodput_stats, goodput_mean);
    return a->runs == b->runs &&
           memcmp((const char *)a + from, (const char *)b + from, sizeof *a - from) == 0;
}

static void goodput_same_bytes_on_threads(void)
{
    goodput_stats one = study(1, 300), four = study(4, 300);
    CHECK(same_stats(&one, &four));
    /* more runs than a block (8192): the blocks are summed in order too */
    goodput_stats a = study(1, 9000), b = study(3, 9000);
    CHECK(same_stats(&a, &b));
    CHECK(a.goodput_mean > 0.5 && a.goodput_mean < 1);
}

/* A backend as an MPI rank would see it: items in another order. */
static void backwards(const parmap_job *job, void *outs)
{
    for (long i = job->n - 1; i >= 0; i--)
        parmap_run_item(job, i, (char *)outs + (size_t)i * job->out_size);
    for (long i = 0; job->commit && i < job->n; i++)
        job->commit(job->ctx, i, (char *)outs + (size_t)i * job->out_size);
}

static void share_nothing(void *buf, size_t bytes) { (void)buf, (void)bytes; }

static void backend_same_results(void)
{
    goodput_stats threads = study(2, 500);
    static const parmap_backend b = {backwards, share_nothing, 0, 2};
    parmap_set_backend(&b);
    CHECK_EQ_INT(parmap_size(), 2);
    goodput_stats ranks = study(1, 500);
    parmap_set_backend(NULL);
    CHECK(same_stats(&threads, &ranks));
    CHECK_EQ_INT(parmap_size(), 1);
}

TAP_MAIN({"results_by_index", results_by_index}, {"nested_maps", nested_maps},
         {"goodput_same_bytes_on_threads", goodput_same_bytes_on_threads},
         {"backend_same_results", backend_same_results})
