/* cli_epopt: expert-parallel flags (see cli_epopt.h). */
#include "cli_epopt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "layout_ep.h"

void cli_epopt_help(void)
{
    printf("  --ep N              expert parallelism: an MoE model's experts over N ranks of\n"
           "                      the data-parallel ones (docs/moe.md)\n"
           "  --expert-tensor-parallel-size N  each expert's MLP over N ranks (default: --tp)\n"
           "  --ep-a2a flat|hier  token dispatch and combine: one all-to-all (default), or\n"
           "                      inside each node over NVLink, then across nodes\n"
           "  --ep-overlap        dispatch and combine run under another microbatch's compute\n"
           "  --routing R         tokens per expert: uniform (default), zipf:S (expert i gets\n"
           "                      1/(i+1)^S of them), hist:FILE.csv (columns expert, tokens)\n"
           "  --moe-expert-capacity-factor C  drop tokens over C x the even share per expert\n");
}

static int parse_routing(const char *cmd, const char *arg)
{
    if (strcmp(arg, "uniform") == 0 || strncmp(arg, "hist:", 5) == 0)
        return arg[0] == 'h' && !arg[5] ? cli_bad_input(cmd, "--routing hist: needs a FILE")
                                        : CLI_OK;
    if (strncmp(arg, "zipf:", 5) == 0) {
        double s;
        return cli_parse_nonnegative(cmd, "--routing zipf:S", arg + 5, &s);
    }
    return cli_bad_input(cmd, "--routing: '%s' is not one of uniform, zipf:S, hist:FILE.csv", arg);
}

int cli_epopt_parse(const char *cmd, int which, const char *arg, ep_flags *f)
{
    switch (which) {
    case 0: return cli_parse_int(cmd, "--ep", arg, 1, 1 << 16, &f->ep);
    case 1: return cli_parse_int(cmd, "--expert-tensor-parallel-size", arg, 1, 1 << 16, &f->etp);
    case 2:
        if (strcmp(arg, "flat") != 0 && strcmp(arg, "hier") != 0)
            return cli_bad_input(cmd, "--ep-a2a: '%s' is not one of flat, hier", arg);
        f->ep_a2a_hier = strcmp(arg, "hier") == 0;
        return CLI_OK;
    case 3: f->ep_overlap = 1; return CLI_OK;
    case 4: f->routing = arg; return parse_routing(cmd, arg);
    default:
        return cli_parse_nonnegative(cmd, "--moe-expert-capacity-factor", arg,
                                     &f->capacity_factor);
    }
}

void cli_epopt_init(ep_flags *f)
{
    *f = (ep_flags){0};
    f->capacity_factor = -1;
}

int cli_epopt_apply(const char *cmd, const ep_flags *f, layout_desc *l, model_desc *m,
                    moe_hist *hist)
{
    l->ep = (int)f->ep;
    l->etp = (int)f->etp;
    l->ep_a2a_hier = f->ep_a2a_hier;
    l->ep_overlap = f->ep_overlap;
    if (f->capacity_factor >= 0)
        m->moe_capacity_factor = f->capacity_factor;
    if (!f->routing || strcmp(f->routing, "uniform") == 0)
        return CLI_OK;
    if (strncmp(f->routing, "zipf:", 5) == 0) {
        l->moe_routing = LAYOUT_ROUTING_ZIPF;
        l->moe_zipf_s = strtod(f->routing + 5, NULL); /* checked by parse_routing */
        return CLI_OK;
    }
    cs_err err;
    if (moe_hist_read(f->routing + 5, hist, &err) != 0)
        return cli_bad_err(cmd, &err);
    l->moe_routing = LAYOUT_ROUTING_HISTOGRAM;
    l->moe_hist = hist->tokens;
    l->moe_hist_n = hist->n;
    return CLI_OK;
}
