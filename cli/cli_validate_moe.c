/* cli_validate_moe: the moe study of `clustersim validate`: published
 * mixture-of-experts training throughput (validate/moe_published.csv
 * names the sources), each row with its own system, layout and metric;
 * the columns, assumptions and row-to-layout mapping. */
#include <stdio.h>
#include <string.h>

#include "cli_validate_private.h"
#include "layout_stages.h"

static const char *const moe_columns[] = {
    "label", "system", "gpus", "model", "layers", "tp", "pp", "vpp", "schedule", "ep", "mbs",
    "gbs", "seq", "dtype", "overlap", "metric", "published"};

/* The row's model: the catalog entry, with the layer count the row states. */
static int moe_model(char **f, int line, model_desc *m, cs_err *err)
{
    static const int column[] = {4, 12}; /* layers, seq */
    double v[2];
    if (model_find(f[3], m, err) != 0)
        return cs_fail_prefix(err, "line %d: ", line);
    if (val_counts_at(f, column, 2, line, v, err) != 0)
        return -1; /* it names the line */
    if ((int)v[0] != m->layers) { /* a pipeline-layout proxy (validate/moe.md) */
        snprintf(m->name, sizeof m->name, "%.30s (%d layers)", f[3], (int)v[0]);
        m->layers = (int)v[0];
    }
    m->seq_len = (int)v[1];
    return model_validate(m, err) != 0 ? cs_fail_prefix(err, "line %d: ", line) : 0;
}

static int moe_layout(char **f, int line, const model_desc *m, layout_desc *l, cs_err *err)
{
    enum { TP, PP, VPP, EP, GPUS, MBS, GBS, OVERLAP, N };
    static const int column[N] = {5, 6, 7, 9, 2, 10, 11, 14};
    double v[N];
    if (val_counts_at(f, column, OVERLAP, line, v, err) != 0 ||
        val_int_at(f, column[OVERLAP], line, 0, 1, &v[OVERLAP], err) != 0)
        return -1;
    if (val_gpus_split(line, v[GPUS], v[TP], v[PP], err) != 0)
        return -1;
    layout_init(l, m);
    l->tp = (int)v[TP];
    l->pp = (int)v[PP];
    l->vpp = (int)v[VPP];
    /* layers pp x vpp does not divide: Megatron's uneven first and last
     * stages (layout_stages.h; none fits 61 layers on pp 8 x vpp 4, so
     * that row keeps its layer slots) */
    if (layout_stage_auto_split(m->layers, l->pp, l->vpp, &l->pp_first_layers,
                                &l->pp_last_layers) != 0)
        l->pp_first_layers = l->pp_last_layers = 0;
    l->ep = (int)v[EP];
    l->dp = (int)v[GPUS] / (l->tp * l->pp);
    l->mbs = (int)v[MBS];
    l->gbs = (int)v[GBS];
    l->ep_overlap = (int)v[OVERLAP];
    l->zero = 1;                               /* distributed optimizer, all rows */
    l->sp = l->tp > 1;                         /* Megatron-Core requires it with MoE and tp */
    l->recompute = LAYOUT_RECOMPUTE_SELECTIVE; /* assumption: see validate/moe.md */
    if (layout_schedule_parse(f[8], "schedule", &l->schedule, err) != 0 ||
        model_dtype_parse(f[13], "dtype", &l->dtype, err) != 0)
        return cs_fail_prefix(err, "line %d: ", line);
    return 0;
}

static int moe_row(val_run *run, int line, char **f, cs_err *err)
{
    model_desc m;
    layout_desc l;
    double published;
    int tflops = strcmp(f[15], "tflops") == 0;
    if (!tflops && strcmp(f[15], "tokens") != 0)
        return cs_fail(err, "line %d: metric '%s' is not one of tflops, tokens", line, f[15]);
    if (moe_model(f, line, &m, err) != 0 || moe_layout(f, line, &m, &l, err) != 0 ||
        val_field_num(f, 16, line, &published, err) != 0)
        return -1; /* each names the line */
    int gpus = (int)layout_gpus(&l);
    const val_job job = {line, f[0], f[1], (gpus + 7) / 8, &m, &l,
                         {.gpus = gpus, .tp = l.tp, .pp = l.pp, .dp = l.dp,
                          .published = published}};
    estimate_result res;
    val_row *r = val_run_job(run, &job, &res, err);
    if (!r)
        return -1;
    r->predicted = tflops ? res.model_tflops_per_gpu : res.tokens_per_s / gpus;
    estimate_result_free(&res);
    return 0;
}

const val_study val_moe = {
    "moe", "moe_published.csv", "TFLOP/s or tokens/s per GPU", "per row", moe_columns,
    sizeof moe_columns / sizeof moe_columns[0],
    "Mixture-of-experts rows (validate/moe_published.csv has the sources): the layout,\n"
    "batch, sequence and data type as published; assumed where the source is silent:\n"
    "the distributed optimizer (zero 1), selective recomputation, sp with tp > 1,\n"
    "flash attention, balanced routing without dropping (Megatron-Bridge force-balances),\n"
    "flat all-to-all, Megatron-Core's framework profile; where pp x vpp does not divide\n"
    "the layers, the uneven split of layout_stages.h (dsv3-report: 61 layers, 3 + 14 x 4\n"
    "+ 2); dsv3-bridge as 64 layers (61 and the embedding, MTP and loss slots of its\n"
    "pipeline layout: no uneven split puts 61 on 8 x 4 chunks); dsv3-report overlaps\n"
    "dispatch and combine (DualPipe).  Predicted = model\n"
    "TFLOP/s per GPU (tflops rows) or tokens/s per GPU (tokens rows).",
    moe_row};
