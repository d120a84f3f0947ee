/* layout_stages: the even and uneven split of layers over pipeline stages
 * (see layout_stages.h). */
#include "layout_stages.h"

#include <stdio.h>

int layout_is_uneven(const layout_desc *l)
{
    return l->pp_first_layers > 0 || l->pp_last_layers > 0;
}

/* The stages between the set edges and the layers they share. */
static void middle_of(const layout_desc *l, const model_desc *m, int *stages, int *layers)
{
    *stages = l->pp - (l->pp_first_layers > 0) - (l->pp_last_layers > 0);
    *layers = m->layers - l->pp_first_layers - l->pp_last_layers;
}

int layout_stage_layers(const layout_desc *l, const model_desc *m, int stage)
{
    if (!layout_is_uneven(l))
        return m->layers / l->pp;
    if (stage == 0 && l->pp_first_layers > 0)
        return l->pp_first_layers;
    if (stage == l->pp - 1 && l->pp_last_layers > 0)
        return l->pp_last_layers;
    int stages, layers;
    middle_of(l, m, &stages, &layers);
    return stages > 0 ? layers / stages : 0;
}

int layout_stage_chunk_layers(const layout_desc *l, const model_desc *m, int stage)
{
    return layout_stage_layers(l, m, stage) / l->vpp;
}

int layout_max_stage_layers(const layout_desc *l, const model_desc *m)
{
    int most = 0;
    for (int s = 0; s < l->pp; s++)
        if (layout_stage_layers(l, m, s) > most)
            most = layout_stage_layers(l, m, s);
    return most;
}

int layout_chunk_first_layer(const layout_desc *l, const model_desc *m, int stage, int chunk)
{
    int before = chunk * (m->layers / l->vpp); /* every stage's earlier chunks */
    for (int s = 0; s < stage; s++)
        before += layout_stage_chunk_layers(l, m, s);
    return before;
}

/* ---- rules ---- */

/* First-stage counts near `first` (the last kept) that satisfy the middle
 * rule, as "a, b" ("none" when none). */
static void near_first_text(const layout_desc *l, const model_desc *m, char *buf, int n)
{
    int below = 0, above = 0;
    for (int f = 1; f <= m->layers; f++) {
        layout_desc t = *l;
        t.pp_first_layers = f;
        if (layout_stage_rules(&t, m, NULL) != 0)
            continue;
        if (f < l->pp_first_layers)
            below = f;
        else if (f > l->pp_first_layers && !above)
            above = f;
    }
    if (!below && !above)
        snprintf(buf, (size_t)n, "none");
    else if (below && above)
        snprintf(buf, (size_t)n, "%d, %d", below, above);
    else
        snprintf(buf, (size_t)n, "%d", below ? below : above);
}

void layout_stage_split_hint(const layout_desc *l, const model_desc *m, char *buf, int n)
{
    int first, last;
    if (l->pp >= 2 && layout_stage_auto_split(m->layers, l->pp, l->vpp, &first, &last) == 0)
        snprintf(buf, (size_t)n,
                 "--decoder-first-pipeline-num-layers %d --decoder-last-pipeline-num-layers %d",
                 first, last);
    else
        snprintf(buf, (size_t)n, "none at pp %d vpp %d", l->pp, l->vpp);
}

static int check_edges(const layout_desc *l, const model_desc *m, cs_err *err)
{
    int f = l->pp_first_layers, la = l->pp_last_layers;
    if (f < 0 || la < 0)
        return cs_fail(err,
                       "layout: first-stage layers %d and last-stage layers %d must be >= 0 "
                       "(0: the even split)",
                       f, la);
    if (l->pp < 2)
        return cs_fail(err,
                       "layout: first-stage layers %d / last-stage layers %d need pp >= 2 (an "
                       "uneven split moves layers between pipeline stages), but pp is %d; use "
                       "pp >= 2 or leave them 0",
                       f, la, l->pp);
    if (f + la > m->layers)
        return cs_fail(err,
                       "layout: first-stage layers %d + last-stage layers %d = %d exceed the "
                       "model's %d layers; at most %d together",
                       f, la, f + la, m->layers, m->layers);
    return 0;
}

static int check_middle(const layout_desc *l, const model_desc *m, cs_err *err)
{
    int stages, layers;
    middle_of(l, m, &stages, &layers);
    if (stages == 0 && layers != 0)
        return cs_fail(err,
                       "layout: with pp %d and both edge stages set there is no middle stage, so "
                       "first-stage layers %d + last-stage layers %d must equal the %d layers",
                       l->pp, l->pp_first_layers, l->pp_last_layers, m->layers);
    if (stages == 0 || (layers % stages == 0 && layers / stages >= 1))
        return 0;
    char near[64] = "none";
    if (err && l->pp_first_layers > 0)
        near_first_text(l, m, near, sizeof near);
    return cs_fail(err,
                   "layout: the %d layers left after the first (%d) and last (%d) stage do not "
                   "split evenly, at least one each, over the %d middle stages (Megatron: the "
                   "left over layers must be divisible by left over stages); first-stage "
                   "layers near %d that do: %s",
                   layers, l->pp_first_layers, l->pp_last_layers, stages, l->pp_first_layers,
                   near);
}

static int check_vpp(const layout_desc *l, const model_desc *m, cs_err *err)
{
    for (int s = 0; s < l->pp; s++) {
        int n = layout_stage_layers(l, m, s);
        if (n % l->vpp)
            return cs_fail(err,
                           "layout: pipeline stage %d holds %d layers, not divisible by vpp %d "
                           "(every stage's layers split evenly over its model chunks)",
                           s, n, l->vpp);
    }
    return 0;
}

int layout_stage_rules(const layout_desc *l, const model_desc *m, cs_err *err)
{
    if (l->pp_first_layers == 0 && l->pp_last_layers == 0) /* layout.c words this one */
        return m->layers % (l->pp * l->vpp)
                   ? cs_fail(err, "layout: layers %d is not divisible by pp %d x vpp %d",
                             m->layers, l->pp, l->vpp)
                   : 0;
    if (check_edges(l, m, err) != 0 || check_middle(l, m, err) != 0)
        return -1;
    return check_vpp(l, m, err);
}

/* ---- the search's split ---- */

/* F and L, multiples of vpp in [vpp, most], summing to rest, as equal as
 * they can be with F >= L; -1 when none. */
static int edges_for(int rest, int most, int vpp, int *first, int *last)
{
    for (int la = rest / 2 / vpp * vpp; la >= vpp; la -= vpp) {
        int f = rest - la;
        if (f % vpp == 0 && f <= most) {
            *first = f;
            *last = la;
            return 0;
        }
    }
    return -1;
}

int layout_stage_auto_split(int layers, int pp, int vpp, int *first, int *last)
{
    *first = *last = 0;
    if (pp < 1 || vpp < 1 || (long long)pp * vpp > layers)
        return -1; /* fewer layers than virtual stages: no split (and no int overflow) */
    if (layers % (pp * vpp) == 0)
        return 0;
    if (pp < 2)
        return -1;
    if (pp == 2)
        return edges_for(layers, layers, vpp, first, last);
    int start = (layers + pp - 1) / pp;
    for (int mid = (start + vpp - 1) / vpp * vpp; (long long)mid * (pp - 2) < layers; mid += vpp)
        if (edges_for(layers - mid * (pp - 2), mid, vpp, first, last) == 0)
            return 0;
    return -1;
}
