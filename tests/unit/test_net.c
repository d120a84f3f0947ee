/* Unit tests: flows on the engine with max-min sharing, hand-computed. */
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

TAP_MAIN({"one flow: bytes over bandwidth plus latency", one_flow_with_latency},
         {"two flows share a link", two_flows_share},
         {"a flow joining later re-shares the link", late_flow_resolves},
         {"the narrowest link of a route sets the rate", bottleneck_on_route},
         {"a link slowed mid-flow", capacity_change},
         {"a coflow crossing a link twice", weighted_coflow},
         {"disjoint flows", disjoint_flows_solve_separately},
         {"a flow with no links costs only latency", empty_route_costs_latency_only})
