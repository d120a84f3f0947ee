/* maxmin: max-min fair rates of flows over capacitated links (progressive filling).
 *
 * Owns the one bandwidth-sharing solver of the project.  The closed-form
 * collective model calls it on a collective's own flows; the flow simulation
 * (sim/net) calls it on the component of flows a start or end touched.  Both
 * therefore share bandwidth the same way.
 *
 * A flow crosses each of its links with a weight (how many of its streams use
 * that link: a ring coflow crossing a switch port twice has weight 2 there).
 * A flow of rate r puts weight*r bytes/s on the link.  The solution is the
 * weighted max-min fair allocation: raise all unfrozen rates together, freeze
 * the flows of the first link to fill, repeat (SimGrid's LMM idea). */
#ifndef CS_MAXMIN_H
#define CS_MAXMIN_H

#include <stdint.h>

typedef struct maxmin_problem {
    int nflows;
    const int32_t *flow_start;   /* CSR offsets, nflows + 1 entries */
    const int32_t *link;         /* local link index 0..nlinks-1 per entry */
    const double *weight;        /* per entry, > 0 */
    int nlinks;
    const double *capacity;      /* bytes/s per local link, >= 0 */
    const double *flow_bound;    /* per flow, the most it may get (a link of its own
                                    folded in: capacity over weight); NULL: none */
} maxmin_problem;

/* Reusable scratch space so repeated solves do not allocate. */
typedef struct maxmin_work {
    double *cap_left, *weight_left;
    int32_t *link_flow_start, *link_flow;
    double *link_flow_weight;
    uint8_t *frozen;
    struct maxmin_heap_item *heap;        /* shared links by share */
    struct maxmin_heap_item *flow_heap;   /* flows by their own links' bound */
    double *bound;
    int links_cap, entries_cap, flows_cap;
} maxmin_work;

void maxmin_work_init(maxmin_work *w);
void maxmin_work_free(maxmin_work *w);

/* Fills rates[0..nflows-1] in bytes/s.  A flow with no links gets rate
 * INFINITY; a flow through a zero-capacity link gets 0. */
void maxmin_solve(const maxmin_problem *p, double *rates, maxmin_work *w);

#endif
