/* Unit tests: fp8 activations.  Under fp8 the Linear layers keep the FP8
 * copy of their inputs for the weight gradient (1 byte; Transformer
 * Engine, DeepSeek-V3 report sec. 3.3.3); every other stored tensor stays
 * 16-bit.  The difference to bf16 is derived by hand per layer. */
#include "memory.h"
#include "tap.h"

static void base(const char *name, model_desc *m, layout_desc *l)
{
    CHECK(model_find(name, m, NULL) == 0);
    layout_init(l, m);
    l->recompute = LAYOUT_RECOMPUTE_SELECTIVE;
}

/* llama2-7b, SwiGLU, tp 1: the Linear inputs per token are the QKV and
 * MLP-up inputs (h each), the attention output (h) and the down-projection
 * input (f): 3h + f elements, one byte less each under fp8. */
static void dense_linear_inputs(void)
{
    model_desc m;
    layout_desc l;
    base("llama2-7b", &m, &l);
    double bf16 = memory_activation_bytes_per_layer(&m, &l);
    l.dtype = MODEL_FP8;
    double fp8 = memory_activation_bytes_per_layer(&m, &l);
    double tokens = (double)m.seq_len * l.mbs;
    CHECK_REL(bf16 - fp8, tokens * (3.0 * m.hidden + m.ffn_hidden), 1e-12);
    /* tp 2 with sp: every term split by 2 */
    l.tp = 2, l.sp = 1;
    double fp8_tp = memory_activation_bytes_per_layer(&m, &l);
    l.dtype = MODEL_BF16;
    CHECK_REL(memory_activation_bytes_per_layer(&m, &l) - fp8_tp,
              tokens * (3.0 * m.hidden + m.ffn_hidden) / 2, 1e-12);
}

/* DeepSeek-V3's MoE layer (balanced routing): per token the dispatched
 * inputs of its top-8 experts (8 h) and their down-projection inputs
 * (8 f_e), the shared expert's down input (f_s), and the dense part's QKV,
 * MLP and out-projection inputs (3 h): one byte less each. */
static void moe_linear_inputs(void)
{
    model_desc m;
    layout_desc l;
    base("deepseek-v3", &m, &l);
    m.moe_dense_layers = 0;
    double bf16 = memory_activation_bytes_per_layer(&m, &l);
    l.dtype = MODEL_FP8;
    double fp8 = memory_activation_bytes_per_layer(&m, &l);
    double per_token = 3.0 * m.hidden + m.moe_topk * ((double)m.hidden + m.moe_ffn_hidden) +
                       m.moe_shared_ffn_hidden;
    CHECK_REL(bf16 - fp8, (double)m.seq_len * per_token, 1e-12);
}

TAP_MAIN({"dense: the Linear inputs one byte under fp8", dense_linear_inputs},
         {"MoE: the experts' Linear inputs one byte under fp8", moe_linear_inputs})
