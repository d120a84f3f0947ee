/* cli_epopt: the expert-parallel flags of a job (--ep, --expert-tensor-
 * parallel-size, --ep-a2a, --ep-overlap, --routing, --moe-expert-capacity-
 * factor), as Megatron-Core names them where it has them.
 *
 * Owns their parsing into layout_flags and applying them to the job's
 * layout and model (layout_ep.h says what each means). */
#ifndef CS_CLI_EPOPT_H
#define CS_CLI_EPOPT_H

#include "layout.h"
#include "model.h"
#include "moe_hist.h"

typedef struct ep_flags {
    long ep, etp;             /* 0: not given (ep 1, etp = tp) */
    int ep_a2a_hier, ep_overlap;
    const char *routing;      /* uniform, zipf:S or hist:FILE.csv; NULL: uniform */
    double capacity_factor;   /* --moe-expert-capacity-factor; < 0: the model's */
} ep_flags;

/* Nothing given: ep 1, etp = tp, flat, uniform, the model's capacity. */
void cli_epopt_init(ep_flags *f);

/* The help lines. */
void cli_epopt_help(void);

/* Parses one of the flags (which: 0 --ep, 1 --expert-tensor-parallel-size,
 * 2 --ep-a2a, 3 --ep-overlap, 4 --routing, 5 --moe-expert-capacity-factor). */
int cli_epopt_parse(const char *cmd, int which, const char *arg, ep_flags *f);

/* Sets the layout's expert fields and the model's capacity factor; reads
 * the histogram of --routing hist:FILE into hist (the layout points into
 * it).  CLI_OK or the exit status after printing the error. */
int cli_epopt_apply(const char *cmd, const ep_flags *f, layout_desc *l, model_desc *m,
                    moe_hist *hist);

#endif
