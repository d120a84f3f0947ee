/* cli_validate_llama3: the llama3 study of `clustersim validate`: Llama 3
 * 405B's scaling configurations (Dubey et al. 2024, Table 4) on H100s;
 * the columns, assumptions and row-to-layout mapping. */
#include <stdio.h>

#include "cli_validate_private.h"
#include "layout_stages.h"

static const char *const llama3_columns[] = {
    "gpus", "tp", "cp", "pp", "dp", "seq_len", "batch_per_dp", "tokens_per_batch",
    "tflops_per_gpu", "bf16_mfu_percent"};

static int llama3_row(val_run *run, int line, char **f, cs_err *err)
{
    double v[9], c[6];
    static const int counts[] = {0, 1, 2, 3, 5, 6}; /* gpus, tp, cp, pp, seq, batch per dp */
    if (val_fields_num(f, 9, line, v, err) != 0 || val_counts_at(f, counts, 6, line, c, err) != 0)
        return -1;
    int gpus = (int)v[0], tp = (int)v[1], cp = (int)v[2], pp = (int)v[3], seq = (int)v[5];
    model_desc m;
    if (model_find(seq == 131072 ? "llama3-405b-128k" : "llama3-405b", &m, err) != 0)
        return -1;
    if (seq != m.seq_len)
        return cs_fail(err, "line %d: seq_len %d is neither 8192 nor 131072", line, seq);
    if ((double)tp * cp * pp > gpus || gpus % (tp * cp * pp) != 0)
        return cs_fail(err, "line %d: %d GPUs is not a multiple of tp %d x cp %d x pp %d", line,
                       gpus, tp, cp, pp);
    /* dp from the GPUs (the printed DP of the 128K row, 4, gives 8192 GPUs
     * and 8M tokens, not its 16384 and 16M) */
    int dp = gpus / (tp * cp * pp), stages = pp;
    if ((double)dp * v[6] > VAL_MAX_COUNT)
        return cs_fail(err, "line %d: dp %d x batch_per_dp %g is a global batch above %d", line,
                       dp, v[6], VAL_MAX_COUNT);
    layout_desc l;
    layout_init(&l, &m);
    l.tp = tp, l.cp = cp, l.pp = stages, l.dp = dp, l.mbs = 1, l.gbs = dp * (int)v[6];
    /* one layer less on the first and the last of 16 stages, as Llama 3
     * trained (Dubey et al. 2024, sec. 3.3.2): 7 + 14 x 8 + 7 */
    if (layout_stage_auto_split(m.layers, pp, 1, &l.pp_first_layers, &l.pp_last_layers) != 0)
        l.pp_first_layers = l.pp_last_layers = 0;
    l.sp = 1, l.zero = 1;
    int used = (int)layout_gpus(&l);
    const val_job job = {line, m.name, "dgx-h100", used / 8, &m, &l,
                         {.gpus = used, .tp = tp, .pp = stages, .dp = dp, .published = v[8]}};
    estimate_result res;
    val_row *r = val_run_job(run, &job, &res, err);
    if (!r)
        return -1;
    r->predicted = res.model_tflops_per_gpu;
    snprintf(r->label, sizeof r->label, "405b s%dK cp%d", seq / 1024, cp);
    estimate_result_free(&res);
    return 0;
}

const val_study val_llama3 = {
    "llama3", "llama3_405b_table4.csv", "model TFLOP/s per GPU", "TF/s", llama3_columns,
    sizeof llama3_columns / sizeof llama3_columns[0],
    "Dubey et al. 2024 (arXiv 2407.21783) Table 4: Llama 3 405B on H100s (BF16), on\n"
    "dgx-h100 (8 H100 SXM, NVSwitch, 8x 400 Gb/s per node; Meta's Grand Teton on RoCE\n"
    "400 Gb/s is alike).  What the table leaves open, the same for every row: microbatch\n"
    "1, 1F1B (their interleaved schedule with its own rules is not modeled), sp, zero 1\n"
    "(for their FSDP-style sharding), no recomputation, fused attention, --framework\n"
    "megatron-core, ring attention (cp_comm p2p).  126 layers on their 16 stages, one\n"
    "layer less on the first and the last (7 + 14 x 8 + 7, Megatron's uneven split,\n"
    "--decoder-first/last-pipeline-num-layers 7).  dp = GPUs / (tp cp 16): the 128K row prints DP\n"
    "4, which gives neither its 16384 GPUs nor its 16M tokens; 8 gives both.  Predicted =\n"
    "model TFLOP/s per GPU counting the full s x s attention (4 b s^2 h per layer, as\n"
    "Narayanan et al.); the paper does not say how it counts attention at 128K.",
    llama3_row};
