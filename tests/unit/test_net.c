/* Unit tests: flows on the engine with max-min sharing, hand-computed. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "evq.h"
#include "net.h"
#include "tap.h"

typedef struct done_log {
    uint64_t at_ps[8];
    int n;
} done_log;

static void on_done(evq *q, void *ctx, uint64_t arg)
{
    done_log *log = ctx;
    log->at_ps[arg] = evq_now(q);
    log->n++;
}

typedef struct later_flow {
    net *n;
    int32_t link;
    double bytes;
    done_log *log;
    uint64_t arg;
} later_flow;

static void start_later(evq *q, void *ctx, uint64_t arg)
{
    (void)q;
    (void)arg;
    later_flow *lf = ctx;
    net_flow_start(lf->n, &lf->link, NULL, 1, lf->bytes, 0, on_done, lf->log, lf->arg);
}

static void halve_link(evq *q, void *ctx, uint64_t arg)
{
    (void)q;
    net_set_capacity(ctx, (int)arg, 5e9);
}

#define S_PS 1000000000000ULL

static void one_flow_with_latency(void)
{
    evq *q = evq_new();
    double cap[] = {10e9};
    net *n = net_new(q, 1, cap);
    done_log log = {0};
    int32_t l = 0;
    net_flow_start(n, &l, NULL, 1, 10e9, 1000000, on_done, &log, 0);
    evq_run(q);
    CHECK_EQ_INT(log.n, 1);
    CHECK_EQ_INT(log.at_ps[0], S_PS + 1000000);
    CHECK_REL(net_link_bytes(n, 0), 10e9, 1e-9);
    net_free(n);
    evq_free(q);
}

static void two_flows_share(void)
{
    evq *q = evq_new();
    double cap[] = {10e9};
    net *n = net_new(q, 1, cap);
    done_log log = {0};
    int32_t l = 0;
    net_flow_start(n, &l, NULL, 1, 5e9, 0, on_done, &log, 0);
    net_flow_start(n, &l, NULL, 1, 5e9, 0, on_done, &log, 1);
    evq_run(q);
    CHECK_EQ_INT(log.at_ps[0], S_PS);
    CHECK_EQ_INT(log.at_ps[1], S_PS);
    net_free(n);
    evq_free(q);
}

/* A (10 GB) alone for 0.5 s moves 5 GB; B (2.5 GB) joins: 5 GB/s each, B
 * ends at 1.0 s; A has 2.5 GB left at full rate: ends at 1.25 s. */
static void late_flow_resolves(void)
{
    evq *q = evq_new();
    double cap[] = {10e9};
    net *n = net_new(q, 1, cap);
    done_log log = {0};
    int32_t l = 0;
    net_flow_start(n, &l, NULL, 1, 10e9, 0, on_done, &log, 0);
    later_flow lf = {n, 0, 2.5e9, &log, 1};
    evq_schedule(q, S_PS / 2, start_later, &lf, 0);
    evq_run(q);
    CHECK_REL((double)log.at_ps[1], 1.0 * S_PS, 1e-9);
    CHECK_REL((double)log.at_ps[0], 1.25 * S_PS, 1e-9);
    net_free(n);
    evq_free(q);
}

/* A flow over links of 10 and 4 GB/s runs at 4; a second flow on the 10
 * link alone gets the remaining 6. */
static void bottleneck_on_route(void)
{
    evq *q = evq_new();
    double cap[] = {10e9, 4e9};
    net *n = net_new(q, 2, cap);
    done_log log = {0};
    int32_t both[] = {0, 1}, first = 0;
    int32_t a = net_flow_start(n, both, NULL, 2, 4e9, 0, on_done, &log, 0);
    int32_t b = net_flow_start(n, &first, NULL, 1, 6e9, 0, on_done, &log, 1);
    evq_step(q); /* the batched solve */
    CHECK_REL(net_flow_rate(n, a), 4e9, 1e-12);
    CHECK_REL(net_flow_rate(n, b), 6e9, 1e-12);
    evq_run(q);
    CHECK_EQ_INT(log.at_ps[0], S_PS);
    CHECK_EQ_INT(log.at_ps[1], S_PS);
    net_free(n);
    evq_free(q);
}

/* The link halves at 0.5 s: 5 GB moved, 5 GB left at 5 GB/s: ends at 1.5 s. */
static void capacity_change(void)
{
    evq *q = evq_new();
    double cap[] = {10e9};
    net *n = net_new(q, 1, cap);
    done_log log = {0};
    int32_t l = 0;
    net_flow_start(n, &l, NULL, 1, 10e9, 0, on_done, &log, 0);
    evq_schedule(q, S_PS / 2, halve_link, n, 0);
    evq_run(q);
    CHECK_REL((double)log.at_ps[0], 1.5 * S_PS, 1e-9);
    net_free(n);
    evq_free(q);
}

/* Weight 2 on a 12 GB/s link: 6 GB/s; 6 GB arrive in 1 s. */
static void weighted_coflow(void)
{
    evq *q = evq_new();
    double cap[] = {12e9, 100e9};
    net *n = net_new(q, 2, cap);
    done_log log = {0};
    int32_t links[] = {0, 1};
    uint32_t w[] = {2, 1};
    net_flow_start(n, links, w, 2, 6e9, 0, on_done, &log, 0);
    evq_run(q);
    CHECK_EQ_INT(log.at_ps[0], S_PS);
    CHECK_REL(net_link_bytes(n, 0), 12e9, 1e-9);
    net_free(n);
    evq_free(q);
}

static void disjoint_flows_solve_separately(void)
{
    evq *q = evq_new();
    double cap[] = {1e9, 1e9, 1e9, 1e9};
    net *n = net_new(q, 4, cap);
    done_log log = {0};
    for (int32_t l = 0; l < 4; l++)
        net_flow_start(n, &l, NULL, 1, 1e9 * (l + 1), 0, on_done, &log, (uint64_t)l);
    evq_run(q);
    net_stats st = net_get_stats(n);
    CHECK_EQ_INT(log.n, 4);
    CHECK_EQ_INT(log.at_ps[3], 4 * S_PS);
    CHECK(st.largest_component <= 4);
    CHECK_EQ_INT(st.peak_active_flows, 4);
    CHECK_EQ_INT(net_active_flows(n), 0);
    net_free(n);
    evq_free(q);
}

static void empty_route_costs_latency_only(void)
{
    evq *q = evq_new();
    net *n = net_new(q, 0, NULL);
    done_log log = {0};
    CHECK_EQ_INT(net_flow_start(n, NULL, NULL, 0, 1e9, 777, on_done, &log, 0), -1);
    evq_run(q);
    CHECK_EQ_INT(log.at_ps[0], 777);
    net_free(n);
    evq_free(q);
}

/* ------------------------------------------------ incremental re-solves */

/* Y crosses links 1 and 2, X crosses 0 and 1; link 1 has room (100 GB/s).
 * Z joining link 2 changes Y's rate and the new rates leave room on link 1,
 * so X (bottlenecked on link 0) is not re-solved: 2 flows, not 3.  The
 * reference (full re-solve) takes all three. */
static uint64_t solved_after_join(int full)
{
    evq *q = evq_new();
    double cap[] = {10e9, 100e9, 10e9};
    net *n = net_new(q, 3, cap);
    net_set_full_resolve(n, full);
    done_log log = {0};
    int32_t x[] = {0, 1}, y[] = {1, 2}, z = 2;
    int32_t fy = net_flow_start(n, y, NULL, 2, 10e9, 0, on_done, &log, 0);
    net_flow_start(n, x, NULL, 2, 10e9, 0, on_done, &log, 1);
    evq_step(q);
    uint64_t before = net_get_stats(n).solved_flows;
    net_flow_start(n, &z, NULL, 1, 10e9, 0, on_done, &log, 2);
    evq_step(q);
    CHECK_REL(net_flow_rate(n, fy), 5e9, 1e-12);
    uint64_t solved = net_get_stats(n).solved_flows - before;
    evq_run(q);
    CHECK_EQ_INT(log.n, 3);
    net_free(n);
    evq_free(q);
    return solved;
}

static void incremental_skips_links_with_room(void)
{
    CHECK_EQ_INT(solved_after_join(0), 2);
    CHECK_EQ_INT(solved_after_join(1), 3);
}

/* A chain: flow k crosses links k and k + 1 (10 GB/s each), so every inner
 * link is full with two flows at 5 GB/s and the chain is one component.
 * G joins link 0, where chain flow 0 leaves 5 GB/s of room: G gets 5, and
 * no chain flow's rate moves (each keeps its full inner link), so only G is
 * solved; when G ends, chain flow 0 keeps its bottleneck on link 1 and
 * nothing is solved.  The full re-solve takes the whole chain both times;
 * the rates are the same. */
#define CHAIN 12

static void chain_join_and_leave(int full, uint64_t *solved_join, uint64_t *solved_leave)
{
    evq *q = evq_new();
    double cap[CHAIN + 1];
    for (int l = 0; l <= CHAIN; l++)
        cap[l] = 10e9;
    net *n = net_new(q, CHAIN + 1, cap);
    net_set_full_resolve(n, full);
    done_log log = {0};
    int32_t chain[CHAIN];
    for (int32_t k = 0; k < CHAIN; k++) {
        int32_t links[] = {k, k + 1};
        chain[k] = net_flow_start(n, links, NULL, 2, 100e9, 0, on_done, &log, 0);
    }
    evq_step(q);
    uint64_t before = net_get_stats(n).solved_flows;
    int32_t first = 0;
    int32_t g = net_flow_start(n, &first, NULL, 1, 5e9, 0, on_done, &log, 1);
    evq_step(q);
    CHECK_REL(net_flow_rate(n, g), 5e9, 1e-12);
    for (int k = 0; k < CHAIN; k++)
        CHECK_REL(net_flow_rate(n, chain[k]), 5e9, 1e-12);
    *solved_join = net_get_stats(n).solved_flows - before;
    before = net_get_stats(n).solved_flows;
    evq_run_until(q, S_PS); /* G ends at 1 s, and the solve at that instant */
    CHECK_EQ_INT(log.at_ps[1], S_PS);
    for (int k = 0; k < CHAIN; k++)
        CHECK_REL(net_flow_rate(n, chain[k]), 5e9, 1e-12);
    *solved_leave = net_get_stats(n).solved_flows - before;
    net_free(n);
    evq_free(q);
}

static void unchanged_rates_stay_outside(void)
{
    uint64_t inc_join, inc_leave, full_join, full_leave;
    chain_join_and_leave(0, &inc_join, &inc_leave);
    chain_join_and_leave(1, &full_join, &full_leave);
    CHECK_EQ_INT(inc_join, 1);
    CHECK_EQ_INT(inc_leave, 0);
    CHECK_EQ_INT(full_join, CHAIN + 1);
    CHECK_EQ_INT(full_leave, CHAIN);
}

/* A random flow set: flows of 1 to 4 distinct links (weights 1 to 3) start
 * at random times, and links change capacity now and then. */
#define RAND_FLOWS 240 /* the most; rand_size says how many a set has */
#define RAND_LINKS 40
#define RAND_HOPS 8

typedef struct rand_size {
    int flows, links, hops; /* flows of 1 to hops links */
} rand_size;

static rand_size rand_sz = {60, 10, 4};
#define RAND_CAP_CHANGES 6

typedef struct rand_flow {
    int32_t links[RAND_HOPS];
    uint32_t weights[RAND_HOPS];
    int nlinks;
    double bytes;
    uint64_t start_ps;
} rand_flow;

typedef struct rand_run {
    net *n;
    const rand_flow *flows;
    uint64_t done_ps[RAND_FLOWS];
    int done;
} rand_run;

static uint64_t rand_next(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void rand_done(evq *q, void *ctx, uint64_t arg)
{
    rand_run *r = ctx;
    r->done_ps[arg] = evq_now(q);
    r->done++;
}

static void rand_start(evq *q, void *ctx, uint64_t arg)
{
    (void)q;
    rand_run *r = ctx;
    const rand_flow *f = &r->flows[arg];
    net_flow_start(r->n, f->links, f->weights, f->nlinks, f->bytes, 0, rand_done, r, arg);
}

static void rand_capacity(evq *q, void *ctx, uint64_t arg)
{
    (void)q;
    rand_run *r = ctx;
    net_set_capacity(r->n, (int)(arg % (uint64_t)rand_sz.links),
                     1e9 * (double)(1 + arg / (uint64_t)rand_sz.links % 9));
}

static void rand_problem(uint64_t seed, rand_flow *flows, double *cap, uint64_t *cap_arg,
                         uint64_t *cap_at)
{
    uint64_t s = seed * 0x9e3779b97f4a7c15ull + 1;
    for (int l = 0; l < rand_sz.links; l++)
        cap[l] = 1e9 * (double)(1 + rand_next(&s) % 20);
    for (int i = 0; i < rand_sz.flows; i++) {
        rand_flow *f = &flows[i];
        f->nlinks = 1 + (int)(rand_next(&s) % (uint64_t)rand_sz.hops);
        for (int h = 0; h < f->nlinks; h++) {
            int32_t l;
            int dup;
            do { /* distinct links per flow */
                l = (int32_t)(rand_next(&s) % (uint64_t)rand_sz.links);
                dup = 0;
                for (int k = 0; k < h; k++)
                    dup |= f->links[k] == l;
            } while (dup);
            f->links[h] = l;
            f->weights[h] = 1 + (uint32_t)(rand_next(&s) % 3);
        }
        f->bytes = 1e8 * (double)(1 + rand_next(&s) % 100);
        f->start_ps = rand_next(&s) % (2 * S_PS);
    }
    for (int c = 0; c < RAND_CAP_CHANGES; c++) {
        cap_arg[c] = rand_next(&s) % (uint64_t)(rand_sz.links * 9);
        cap_at[c] = rand_next(&s) % (2 * S_PS);
    }
}

static net_stats rand_simulate(uint64_t seed, int full, rand_run *r)
{
    rand_flow flows[RAND_FLOWS];
    double cap[RAND_LINKS];
    uint64_t cap_arg[RAND_CAP_CHANGES], cap_at[RAND_CAP_CHANGES];
    rand_problem(seed, flows, cap, cap_arg, cap_at);
    evq *q = evq_new();
    memset(r, 0, sizeof *r);
    r->n = net_new(q, rand_sz.links, cap);
    r->flows = flows;
    net_set_full_resolve(r->n, full);
    for (int i = 0; i < rand_sz.flows; i++)
        evq_schedule(q, flows[i].start_ps, rand_start, r, (uint64_t)i);
    for (int c = 0; c < RAND_CAP_CHANGES; c++)
        evq_schedule(q, cap_at[c], rand_capacity, r, cap_arg[c]);
    evq_run(q);
    net_stats st = net_get_stats(r->n);
    net_free(r->n);
    evq_free(q);
    r->flows = NULL;
    return st;
}

/* Every flow ends when the full re-solve says (to a nanosecond in seconds of
 * simulated time); over all seeds the incremental solves re-rate fewer flows. */
static void random_sets_match(rand_size size, uint64_t seeds)
{
    rand_sz = size;
    uint64_t inc_flows = 0, full_flows = 0;
    int mismatches = 0;
    for (uint64_t seed = 1; seed <= seeds; seed++) {
        rand_run inc, full;
        inc_flows += rand_simulate(seed, 0, &inc).solved_flows;
        full_flows += rand_simulate(seed, 1, &full).solved_flows;
        CHECK_EQ_INT(inc.done, rand_sz.flows);
        CHECK_EQ_INT(full.done, rand_sz.flows);
        for (int i = 0; i < rand_sz.flows; i++) {
            double a = (double)inc.done_ps[i], b = (double)full.done_ps[i];
            if (fabs(a - b) > 1e-9 * b + 1000) {
                if (mismatches++ < 3)
                    printf("# seed %llu flow %d: incremental %.0f ps, full %.0f ps\n",
                         (unsigned long long)seed, i, a, b);
            }
        }
    }
    CHECK_EQ_INT(mismatches, 0);
    CHECK(inc_flows < full_flows);
}

static void incremental_matches_full_on_random_sets(void)
{
    random_sets_match((rand_size){60, 10, 4}, 200);
}

/* Larger sets, flows of up to 8 links: long chains of full links (the
 * coupled components of a large fat-tree), where the checks decide. */
static void incremental_matches_full_on_large_random_sets(void)
{
    random_sets_match((rand_size){RAND_FLOWS, RAND_LINKS, RAND_HOPS}, 30);
}

TAP_MAIN({"one flow: bytes over bandwidth plus latency", one_flow_with_latency},
         {"two flows share a link", two_flows_share},
         {"a flow joining later re-shares the link", late_flow_resolves},
         {"the narrowest link of a route sets the rate", bottleneck_on_route},
         {"a link slowed mid-flow", capacity_change},
         {"a coflow crossing a link twice", weighted_coflow},
         {"disjoint flows", disjoint_flows_solve_separately},
         {"a flow with no links costs only latency", empty_route_costs_latency_only},
         {"incremental re-solve stops at links with room", incremental_skips_links_with_room},
         {"flows whose rates a change cannot move are not re-solved",
          unchanged_rates_stay_outside},
         {"incremental rates equal a full re-solve on random flow sets",
          incremental_matches_full_on_random_sets},
         {"incremental rates equal a full re-solve on large random flow sets",
          incremental_matches_full_on_large_random_sets})
