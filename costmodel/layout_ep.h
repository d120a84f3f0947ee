/* layout_ep: expert parallelism, its rank mapping, rules and the load of the
 * slowest expert rank.
 *
 * Rank mapping (Megatron-Core's RankGenerator, order "tp-cp-ep-dp-pp"; cp 1
 * on this branch): the dense layers see gpu = tp_rank + tp (dp_rank + dp
 * pp_rank) (commcost.h); the expert layers decompose the same tp x dp ranks
 * of a stage as etp x ep x edp, etp innermost:
 *     local = tp_rank + tp dp_rank = etp_rank + etp (ep_rank + ep edp_rank)
 * so an expert-parallel group is ep ranks etp apart, spanning etp x ep
 * consecutive GPUs: inside one node when etp x ep divides the node's GPUs.
 * Experts are placed in contiguous blocks: expert i on ep rank
 * i / (experts / ep) (Megatron's local_expert_indices).
 *
 * Rules (layout.h's layout_ep_rules, which layout_validate applies): ep and etp need an MoE model when above 1; ep
 * divides the routed experts; etp divides the expert width; etp x ep divides
 * tp x dp (the expert layers use the same ranks as the dense ones).  Each
 * message names the rule and the nearest valid values.
 *
 * Load imbalance: with p_i the share of token slots routed to expert i
 * (uniform 1/E; Zipf p_i proportional to 1/(i+1)^s; or a measured histogram
 * of tokens per expert), a capacity factor c drops what exceeds c/E of the
 * slots at each expert (Fedus et al. 2021, Switch Transformer, sec. 2.2),
 * and the slowest ep rank carries
 *     load_max = max_r sum_{i on r} min(p_i, c / E)      (no cap when c = 0)
 * against 1/ep when balanced: its expert GEMMs and its share of dispatch
 * and combine take factor = ep load_max of the balanced time, and every
 * rank waits for it at the combine (the slowest rank sets the step). */
#ifndef CS_LAYOUT_EP_H
#define CS_LAYOUT_EP_H

#include "cs_error.h"
#include "layout.h"
#include "model.h"

typedef enum layout_routing {
    LAYOUT_ROUTING_UNIFORM,
    LAYOUT_ROUTING_ZIPF,
    LAYOUT_ROUTING_HISTOGRAM
} layout_routing;

/* The position (within its pipeline stage) of the GPU of expert ranks
 * (etp_rank, ep_rank, edp_rank): etp_rank + etp (ep_rank + ep edp_rank). */
int layout_ep_local_rank(const layout_desc *l, int etp_rank, int ep_rank, int edp_rank);

/* Layers of virtual stage `vstage` (schedule_vstage's numbering; each its
 * stage's count, layout_stages.h) that are among the model's first
 * moe_dense_layers dense ones. */
int layout_dense_layers_in_vstage(const model_desc *m, const layout_desc *l, int vstage);

/* ep x load_max of the slowest expert rank (>= 1 up to rounding; 1 for
 * uniform routing without dropping). */
double layout_ep_imbalance(const model_desc *m, const layout_desc *l);

/* Of the token slots, the share kept after capacity dropping (1 without). */
double layout_ep_kept_share(const model_desc *m, const layout_desc *l);

/* "uniform", "zipf", "histogram" and the parser; a parse error names `what`. */
const char *layout_routing_name(layout_routing r);
int layout_routing_parse(const char *text, const char *what, layout_routing *out, cs_err *err);

#endif
