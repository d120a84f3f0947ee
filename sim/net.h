/* net: flows over links, with bandwidth shared by max-min fairness.
 *
 * Owns link capacities and active flows.  A flow is a byte count over a set
 * of links, each crossed with a weight (1 for a plain point-to-point
 * transfer; a collective's coflow crosses some links several times), plus a
 * latency added after its last byte.  Whenever flows start or end, or a link
 * changes capacity, the rates of the flows the change can move are re-solved
 * with costmodel/maxmin: the flows that started (or cross a link whose
 * capacity changed), against what the others leave; then, where the new
 * rates would take a flow outside its bottleneck or leave a re-solved flow
 * without one, the flows of that link join and the solve repeats.  Flows
 * elsewhere keep their rates (each keeps a bottleneck), so the result is the
 * max-min allocation of a full solve.  Re-solves triggered at one instant
 * are batched into one. */
#ifndef CS_NET_H
#define CS_NET_H

#include <stdint.h>

#include "evq.h"

typedef struct net net;

/* Called once the flow's bytes have arrived (after its latency). */
typedef void (*net_done_fn)(evq *q, void *ctx, uint64_t arg);

typedef struct net_stats {
    uint64_t flows_started;
    uint64_t solves;              /* batched re-solves run */
    uint64_t solved_flows;        /* flows re-rated over all solves */
    int peak_active_flows;
    int largest_component;        /* flows in the largest re-solve */
    uint64_t rounds;              /* max-min solves, counting a re-solve's extra rounds */
} net_stats;

net *net_new(evq *q, int nlinks, const double *bw_bytes_per_s);
void net_free(net *n);

/* Starts a flow now.  weights may be NULL (all 1).  The links of a flow must
 * be distinct (merge repeats into a weight).  Returns the flow id, valid until
 * done fires. */
int32_t net_flow_start(net *n, const int32_t *links, const uint32_t *weights, int nlinks,
                       double bytes, uint64_t latency_ps, net_done_fn done, void *ctx,
                       uint64_t arg);

/* Current rate (bytes/s) of an active flow; 0 before its first solve. */
double net_flow_rate(const net *n, int32_t flow);

/* Changes a link's capacity now (a slow or failed link); flows on it are re-solved. */
void net_set_capacity(net *n, int link, double bw_bytes_per_s);

/* on: every re-solve takes the whole connected component of flows that share
 * links with the change, as before incremental re-solves (the reference the
 * tests hold the incremental rates to).  Off by default. */
void net_set_full_resolve(net *n, int on);

/* Bytes a link has carried so far (integrated up to the last re-solve that touched it). */
double net_link_bytes(const net *n, int link);

int net_active_flows(const net *n);
/* Active flows crossing a link now (sim/exec_iso: a collective runs timed
 * only where none of its links carries a flow). */
int net_link_flow_count(const net *n, int link);
net_stats net_get_stats(const net *n);

#endif
