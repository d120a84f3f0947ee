/* cli_validate_zb: the zb study of `clustersim validate`: Qi et al.'s zero
 * bubble pipeline schedules (ICLR 2024, Table 4) on A100s against 1F1B;
 * the columns, assumptions and row-to-layout mapping. */
#include <stdio.h>

#include "cli_validate_private.h"

static const char *const zb_columns[] = {
    "label", "system", "layers", "hidden", "heads", "vocab", "seq", "pp", "mbs",
    "microbatches", "schedule", "post_validation", "published", "first_layers",
    "last_layers"};

/* Qi et al. 2024 Table 3's GPT-3-like shape, pipeline parallelism only;
 * predicted = samples per GPU per second, as their Table 4 counts. */
static int zb_row(val_run *run, int line, char **f, cs_err *err)
{
    enum { LAYERS, HIDDEN, HEADS, VOCAB, SEQ, PP, MBS, MICRO, PV, PUBLISHED, FIRST, LAST, N };
    static const int column[N] = {2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 13, 14};
    double v[N];
    if (val_counts_at(f, column, PV, line, v, err) != 0 || /* layers .. microbatches */
        val_fields_at(f, column + PV, 2, line, v + PV, err) != 0 ||
        val_int_at(f, column[FIRST], line, 0, VAL_MAX_COUNT, &v[FIRST], err) != 0 ||
        val_int_at(f, column[LAST], line, 0, VAL_MAX_COUNT, &v[LAST], err) != 0)
        return -1;
    if (v[MBS] * v[MICRO] > VAL_MAX_COUNT)
        return cs_fail(err, "line %d: micro-batch %g x %g microbatches is a batch above %d", line,
                       v[MBS], v[MICRO], VAL_MAX_COUNT);
    model_desc m;
    model_custom(&m, (int)v[LAYERS], (int)v[HIDDEN], (int)v[HEADS]);
    m.vocab = (int)v[VOCAB];
    m.seq_len = (int)v[SEQ];
    snprintf(m.name, sizeof m.name, "gpt-%s", f[0]);
    layout_desc l;
    layout_init(&l, &m);
    l.pp = (int)v[PP];
    l.mbs = (int)v[MBS];
    l.gbs = (int)(v[MBS] * v[MICRO]);
    l.post_validation = v[PV] != 0;
    l.pp_first_layers = (int)v[FIRST]; /* their uneven split (Table 3's layer counts) */
    l.pp_last_layers = (int)v[LAST];
    l.flash_attention = 0; /* their memory row: see the study's assumptions */
    if (model_validate(&m, err) != 0 ||
        layout_schedule_parse(f[10], "schedule", &l.schedule, err) != 0)
        return cs_fail_prefix(err, "line %d: ", line);
    const val_job job = {line, f[0], f[1], (l.pp + 7) / 8, &m, &l,
                         {.gpus = l.pp, .tp = 1, .pp = l.pp, .dp = 1, .published = v[PUBLISHED]}};
    estimate_result res;
    val_row *r = val_run_job(run, &job, &res, err);
    if (!r)
        return -1;
    r->microbatches = (int)v[MICRO]; /* as the row states it */
    r->predicted = l.gbs / res.iteration_s / l.pp;
    snprintf(r->label, sizeof r->label, "%s %s%s", f[0], f[10], l.post_validation ? " pv" : "");
    estimate_result_free(&res);
    return 0;
}

const val_study val_zb = {
    "zb", "zb_published.csv", "samples per GPU per second", "samples/s", zb_columns,
    sizeof zb_columns / sizeof zb_columns[0],
    "Qi et al., Zero Bubble Pipeline Parallelism (ICLR 2024, arXiv 2401.10241) Table 4,\n"
    "the settings of their Table 3 (A100 SXM 80G, 8 per node, pipeline parallelism only,\n"
    "sequence 1024), on dgx-a100-80g (HDR IB for their RoCE).  Their 1F1B as 1f1b, ZB-1p\n"
    "(automatic, 1x memory) as zb-auto, ZB-2p (automatic, 2x) as zb-h2 (our 2x order; we\n"
    "have no automatic 2x search), both with the post-validation they introduce.  Assumed\n"
    "where they are silent: vocabulary 50304 (GPT-2's 50257 padded to 128 by Megatron-LM),\n"
    "tied embeddings, fp16, no recomputation, Megatron-Core's profile, and unfused\n"
    "attention (Megatron-LM's default then): their 1F1B memory, 30 GB at 1.5B, holds the\n"
    "5 a s^2 b attention scores per layer of Korthikanti et al. (flash would give ~16).\n"
    "Their 22/30/46/62 layers, one fewer on the first and last stage (Megatron's\n"
    "--decoder-first/last-pipeline-num-layers): validate/schedules.md.",
    zb_row};
