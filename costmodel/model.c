/* model: decoder-only transformer shapes, their validation, exact parameter
 * counts, and the catalog of published models. */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "units.h"

#define B 1e9

#define MEGATRON_SRC                                                                 \
    "Narayanan et al. 2021 (arXiv 2104.04473) Table 1, printed to 0.1B "             \
    "(shared/reference/megatron2021_weak_scaling.csv); their formula "               \
    "P = 12lh^2(1 + 13/(12h) + (V+s)/(12lh)) is this count less the final LayerNorm"

/* GPT as Megatron-LM trains it: GELU MLP of 4h, LayerNorm, learned absolute
 * positions, biases, tied input/output embeddings, fp16. */
#define GPT(name, layers, hidden, heads, vocab, pub, step, src)                             \
    {name, layers, hidden, heads, heads, 4 * (hidden), vocab, 2048, MODEL_MLP_GELU,         \
     MODEL_NORM_LAYERNORM, MODEL_POS_LEARNED, 1, 1, MODEL_FP16, pub, step, src, .head_dim_override = 0}

/* Llama: SwiGLU, RMSNorm, rotary positions, no biases, untied output head, bf16. */
#define LLAMA(name, layers, hidden, heads, kv, ffn, vocab, seq, pub, src)                    \
    {name, layers, hidden, heads, kv, ffn, vocab, seq, MODEL_MLP_SWIGLU, MODEL_NORM_RMSNORM, \
     MODEL_POS_ROTARY, 0, 0, MODEL_BF16, pub, 0.01 * B, src, .head_dim_override = 0}

static const model_desc catalog[] = {
    GPT("megatron-1.7b", 24, 2304, 24, 51200, 1.7 * B, 0.1 * B, MEGATRON_SRC),
    GPT("megatron-3.6b", 30, 3072, 32, 51200, 3.6 * B, 0.1 * B, MEGATRON_SRC),
    GPT("megatron-7.5b", 36, 4096, 32, 51200, 7.5 * B, 0.1 * B, MEGATRON_SRC),
    GPT("megatron-18.4b", 40, 6144, 48, 51200, 18.4 * B, 0.1 * B, MEGATRON_SRC),
    GPT("megatron-39.1b", 48, 8192, 64, 51200, 39.1 * B, 0.1 * B, MEGATRON_SRC),
    GPT("megatron-76.1b", 60, 10240, 80, 51200, 76.1 * B, 0.1 * B, MEGATRON_SRC),
    GPT("megatron-145.6b", 80, 12288, 96, 51200, 145.6 * B, 0.1 * B, MEGATRON_SRC),
    GPT("megatron-310.1b", 96, 16384, 128, 51200, 310.1 * B, 0.1 * B, MEGATRON_SRC),
    GPT("megatron-529.6b", 105, 20480, 128, 51200, 529.6 * B, 0.1 * B, MEGATRON_SRC),
    GPT("megatron-1t", 128, 25600, 160, 51200, 1008.0 * B, 0.1 * B, MEGATRON_SRC),
    GPT("gpt3-175b", 96, 12288, 96, 50257, 175.0 * B, 0.1 * B,
        "Brown et al. 2020 (arXiv 2005.14165) Table 2.1: 175.0B"),
    GPT("megatron-22b", 48, 6144, 64, 51200, 22 * B, 1 * B,
        "Korthikanti et al. 2022 (arXiv 2205.05198) Table 3: 22B"),
    GPT("turing-530b", 105, 20480, 128, 51200, 530 * B, 1 * B,
        "Smith et al. 2022, Megatron-Turing NLG (arXiv 2201.11990): 530B"),
    LLAMA("llama2-7b", 32, 4096, 32, 32, 11008, 32000, 4096, 6.74 * B,
          "Touvron et al. 2023 (arXiv 2307.09288); count of the released weights: 6.74B"),
    LLAMA("llama2-70b", 80, 8192, 64, 8, 28672, 32000, 4096, 68.98 * B,
          "Touvron et al. 2023 (arXiv 2307.09288); count of the released weights: 68.98B"),
    LLAMA("llama3-8b", 32, 4096, 32, 8, 14336, 128256, 8192, 8.03 * B,
          "Meta Llama 3 model card; count of the released weights: 8.03B"),
    LLAMA("llama3-70b", 80, 8192, 64, 8, 28672, 128256, 8192, 70.55 * B,
          "Meta Llama 3 model card; count of the released weights: 70.55B"),
    LLAMA("llama3-405b", 126, 16384, 128, 8, 53248, 128256, 8192, 405.85 * B,
          "Dubey et al. 2024 (arXiv 2407.21783), Llama 3.1 405B; count of the released "
          "weights: 405.85B"),
    /* The same weights at the 128K context of Llama 3's long-context
     * pre-training stage (Dubey et al. 2024, sec. 3.4.2: the context grown
     * to 128K tokens; sec. 3.3.2 and Table 4: trained with context
     * parallelism, cp 16); the shape and count are 405B's. */
    LLAMA("llama3-405b-128k", 126, 16384, 128, 8, 53248, 128256, 131072, 405.85 * B,
          "Dubey et al. 2024 (arXiv 2407.21783), Llama 3.1 405B; count of the released "
          "weights: 405.85B (sequence 131072: the 128K long-context stage)"),
    /* Mixture of experts (model_moe.h); seq 4096, the length Megatron-Core's
     * and Megatron-Bridge's published runs of these models train at. */
    {"mixtral-8x7b", 32, 4096, 32, 8, 14336, 32000, 4096, MODEL_MLP_SWIGLU, MODEL_NORM_RMSNORM,
     MODEL_POS_ROTARY, 0, 0, MODEL_BF16, 46.7 * B, 0.1 * B,
     "Mistral AI model card mistralai/Mixtral-8x7B-v0.1 and Jiang et al. 2024 (arXiv "
     "2401.04088): 46.7B parameters, 12.9B active per token",
     .moe_experts = 8, .moe_topk = 2, .moe_ffn_hidden = 14336},
    {"qwen3-30b-a3b", 48, 2048, 32, 4, 6144, 151936, 4096, MODEL_MLP_SWIGLU, MODEL_NORM_RMSNORM,
     MODEL_POS_ROTARY, 0, 0, MODEL_BF16, 30.5 * B, 0.1 * B,
     "Qwen model card Qwen/Qwen3-30B-A3B: 30.5B in total, 3.3B activated",
     .head_dim_override = 128, .qk_norm = 1, .moe_experts = 128, .moe_topk = 8,
     .moe_ffn_hidden = 768},
    {"deepseek-v3", 61, 7168, 128, 128, 18432, 129280, 4096, MODEL_MLP_SWIGLU,
     MODEL_NORM_RMSNORM, MODEL_POS_ROTARY, 0, 0, MODEL_BF16, 671 * B, 1 * B,
     "DeepSeek-AI 2024, DeepSeek-V3 Technical Report (arXiv 2412.19437) sec. 1: 671B total, "
     "37B activated per token (the main model; the 14B multi-token-prediction module apart)",
     .moe_experts = 256, .moe_topk = 8, .moe_ffn_hidden = 2048, .moe_shared_ffn_hidden = 2048,
     .moe_shared_experts = 1, .moe_dense_layers = 3, .mla_kv_lora_rank = 512,
     .mla_q_lora_rank = 1536, .mla_rope_head_dim = 64, .mla_nope_head_dim = 128,
     .mla_v_head_dim = 128},
};

#define NCATALOG ((int)(sizeof catalog / sizeof catalog[0]))

int model_catalog_count(void) { return NCATALOG; }

const model_desc *model_catalog_at(int i)
{
    return (i >= 0 && i < NCATALOG) ? &catalog[i] : NULL;
}

const model_desc *model_catalog_find_shape(const char *prefix, int layers, int hidden, int heads)
{
    for (int i = 0; i < model_catalog_count(); i++) {
        const model_desc *c = model_catalog_at(i);
        if (strncmp(c->name, prefix, strlen(prefix)) == 0 && c->layers == layers &&
            c->hidden == hidden && c->heads == heads)
            return c;
    }
    return NULL;
}

int model_find(const char *name, model_desc *out, cs_err *err)
{
    for (int i = 0; i < NCATALOG; i++)
        if (strcasecmp(catalog[i].name, name) == 0) {
            *out = catalog[i];
            return 0;
        }
    char list[768] = "";
    for (int i = 0; i < NCATALOG; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, catalog[i].name, sizeof list - strlen(list) - 1);
    }
    return cs_fail(err, "unknown model '%s'; built-in models: %s", name, list);
}

/* ---- validation ---- */

/* The divisors of n nearest to x from below and above (0 when none), keeping
 * only those whose quotient n / d is even when even_quotient is set. */
static void nearest_divisors(int n, int x, int even_quotient, int *below, int *above)
{
    *below = *above = 0;
    for (int d = x - 1; d >= 1 && !*below; d--)
        if (n % d == 0 && (!even_quotient || (n / d) % 2 == 0))
            *below = d;
    for (int d = x + 1; d <= n && !*above; d++)
        if (n % d == 0 && (!even_quotient || (n / d) % 2 == 0))
            *above = d;
}

/* "32, 64" / "32" / "none" into buf: the values a user could type instead. */
static const char *format_near(int below, int above, char *buf, size_t len)
{
    if (below && above)
        snprintf(buf, len, "%d, %d", below, above);
    else if (below || above)
        snprintf(buf, len, "%d", below ? below : above);
    else
        snprintf(buf, len, "none");
    return buf;
}

static int check_positive(const model_desc *m, cs_err *err)
{
    const struct { const char *what; int value, max; } sizes[] = {
        {"layers", m->layers, MODEL_MAX_LAYERS},     {"hidden", m->hidden, MODEL_MAX_HIDDEN},
        {"heads", m->heads, MODEL_MAX_HEADS},        {"kv_heads", m->kv_heads, MODEL_MAX_HEADS},
        {"ffn_hidden", m->ffn_hidden, MODEL_MAX_FFN}, {"vocab", m->vocab, MODEL_MAX_VOCAB},
        {"seq_len", m->seq_len, MODEL_MAX_SEQ},
    };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        if (sizes[i].value < 1 || sizes[i].value > sizes[i].max)
            return cs_fail(err, "model '%s': %s %d must be a whole number from 1 to %d", m->name,
                           sizes[i].what, sizes[i].value, sizes[i].max);
    return 0;
}

int model_validate(const model_desc *m, cs_err *err)
{
    if (check_positive(m, err) != 0 || model_moe_validate(m, err) != 0)
        return -1;
    int below, above;
    char near[64];
    /* an explicit head dimension (Qwen3) or MLA's own widths free the heads from hidden */
    int derived_head = !m->head_dim_override && !model_is_mla(m);
    if (derived_head && m->hidden % m->heads != 0) {
        nearest_divisors(m->hidden, m->heads, 0, &below, &above);
        return cs_fail(err,
                       "model '%s': heads %d does not divide hidden %d (each head takes "
                       "hidden / heads features); divisors of %d near %d: %s",
                       m->name, m->heads, m->hidden, m->hidden, m->heads,
                       format_near(below, above, near, sizeof near));
    }
    if (m->heads % m->kv_heads != 0) {
        nearest_divisors(m->heads, m->kv_heads, 0, &below, &above);
        return cs_fail(err,
                       "model '%s': kv_heads %d does not divide heads %d (each key/value head "
                       "serves a whole group of query heads); divisors of %d near %d: %s",
                       m->name, m->kv_heads, m->heads, m->heads, m->kv_heads,
                       format_near(below, above, near, sizeof near));
    }
    if (m->pos == MODEL_POS_ROTARY && derived_head && model_head_dim(m) % 2 != 0) {
        /* rotary embeddings rotate the head's features in pairs */
        nearest_divisors(m->hidden, m->heads, 1, &below, &above);
        return cs_fail(err,
                       "model '%s': head dimension %d (hidden %d / heads %d) is odd, but rotary "
                       "positions rotate features in pairs; heads near %d giving an even head "
                       "dimension: %s",
                       m->name, model_head_dim(m), m->hidden, m->heads, m->heads,
                       format_near(below, above, near, sizeof near));
    }
    return 0;
}

/* ---- parameter counts ---- */

/* ---- mixture of experts and latent attention (model.h's conventions) ---- */

int model_is_moe(const model_desc *m) { return m->moe_experts > 0; }
int model_is_mla(const model_desc *m) { return m->mla_kv_lora_rank > 0; }

int model_moe_layers(const model_desc *m)
{
    return model_is_moe(m) ? m->layers - m->moe_dense_layers : 0;
}

/* Weights of the attention multiplies (no biases, no norms). */
model_count model_attention_weights_count(const model_desc *m)
{
    model_count h = (model_count)m->hidden, a = (model_count)m->heads;
    if (model_is_mla(m)) {
        model_count qk = (model_count)(m->mla_nope_head_dim + m->mla_rope_head_dim), rope = (model_count)m->mla_rope_head_dim;
        model_count kv_lora = (model_count)m->mla_kv_lora_rank, q_lora = (model_count)m->mla_q_lora_rank;
        model_count q = q_lora ? h * q_lora + q_lora * a * qk : h * a * qk;
        model_count kv = h * (kv_lora + rope) +
                         kv_lora * a * ((model_count)m->mla_nope_head_dim + (model_count)m->mla_v_head_dim);
        return q + kv + a * (model_count)m->mla_v_head_dim * h;
    }
    model_count d = (model_count)model_head_dim(m), kv = (model_count)m->kv_heads * d;
    return 2 * h * a * d + 2 * h * kv; /* Q, output; K, V */
}

model_count model_attention_params_count(const model_desc *m)
{
    model_count weights = model_attention_weights_count(m);
    if (model_is_mla(m)) /* the RMSNorms of the compressed query and KV */
        return weights + (model_count)m->mla_q_lora_rank + (model_count)m->mla_kv_lora_rank;
    model_count h = (model_count)m->hidden, d = (model_count)model_head_dim(m);
    model_count q = (model_count)m->heads * d, kv = (model_count)m->kv_heads * d;
    model_count biases = m->linear_bias ? q + 2 * kv + h : m->qkv_bias ? q + 2 * kv : 0;
    model_count norms = m->qk_norm ? 2 * d : 0; /* q_norm, k_norm over head_dim */
    return weights + biases + norms;
}

/* One MLP of inner width f: weights and, with linear_bias, biases. */
static model_count mlp_of(const model_desc *m, model_count f)
{
    model_count h = (model_count)m->hidden;
    if (m->mlp == MODEL_MLP_SWIGLU)
        return 3 * h * f + (m->linear_bias ? 2 * f + h : 0);
    return 2 * h * f + (m->linear_bias ? f + h : 0);
}

model_count model_moe_block_params_count(const model_desc *m)
{
    model_count e = (model_count)m->moe_experts;
    return e * mlp_of(m, (model_count)m->moe_ffn_hidden) +
           (m->moe_shared_ffn_hidden ? mlp_of(m, (model_count)m->moe_shared_ffn_hidden) : 0) +
           (model_count)m->hidden * e; /* router */
}

double model_moe_routed_params(const model_desc *m)
{
    return (double)((model_count)m->moe_experts * mlp_of(m, (model_count)m->moe_ffn_hidden));
}

int model_moe_validate(const model_desc *m, cs_err *err)
{
    if (m->moe_experts < 0 || m->moe_topk < 0 || m->moe_ffn_hidden < 0 ||
        m->moe_shared_ffn_hidden < 0 || m->moe_dense_layers < 0 || m->moe_capacity_factor < 0)
        return cs_fail(err, "model '%s': experts, topk, expert and shared widths, dense layers "
                            "and capacity factor must not be negative", m->name);
    if (model_is_moe(m)) {
        if (m->moe_topk < 1 || m->moe_topk > m->moe_experts)
            return cs_fail(err, "model '%s': topk %d must lie in 1 .. experts %d", m->name,
                           m->moe_topk, m->moe_experts);
        if (m->moe_ffn_hidden < 1)
            return cs_fail(err, "model '%s': an MoE model needs the expert width (moe_ffn)",
                           m->name);
        if (m->moe_dense_layers >= m->layers)
            return cs_fail(err, "model '%s': dense layers %d must be fewer than layers %d",
                           m->name, m->moe_dense_layers, m->layers);
    }
    if (model_is_mla(m) && (m->mla_rope_head_dim < 1 || m->mla_nope_head_dim < 1 ||
                            m->mla_v_head_dim < 1 || m->mla_q_lora_rank < 0))
        return cs_fail(err, "model '%s': multi-head latent attention needs positive rope, nope "
                            "and v head dimensions", m->name);
    return 0;
}


int model_head_dim(const model_desc *m)
{
    if (m->head_dim_override > 0)
        return m->head_dim_override;
    return m->heads > 0 ? m->hidden / m->heads : 0;
}

/* Counts in 128-bit integers: the products of widths are exact, where a
 * double rounds beyond 2^53 (a 1.2e21-parameter model printed as
 * 1,200,001,353,249,999,872). */
static model_count norm_params(const model_desc *m)
{
    model_count h = (model_count)m->hidden;
    return m->norm == MODEL_NORM_LAYERNORM ? 2 * h : h; /* weight (+ bias) */
}

static model_count mlp_params(const model_desc *m)
{
    return mlp_of(m, (model_count)m->ffn_hidden);
}

/* A layer with a dense MLP. */
static model_count dense_layer_params(const model_desc *m)
{
    return model_attention_params_count(m) + mlp_params(m) + 2 * norm_params(m);
}

model_count model_params_per_layer_count(const model_desc *m)
{
    if (model_is_moe(m)) /* the MoE layer, the model's typical one */
        return model_attention_params_count(m) + model_moe_block_params_count(m) +
               2 * norm_params(m);
    return dense_layer_params(m);
}

model_count model_dense_layer_params_count(const model_desc *m) { return dense_layer_params(m); }

model_count model_embedding_params_count(const model_desc *m)
{
    model_count h = (model_count)m->hidden;
    model_count tables = (m->tied_embeddings ? 1 : 2) * (model_count)m->vocab * h;
    model_count positions = m->pos == MODEL_POS_LEARNED ? (model_count)m->seq_len * h : 0;
    return tables + positions;
}

model_count model_params_count(const model_desc *m)
{
    model_count moe_layers = (model_count)model_moe_layers(m);
    return moe_layers * model_params_per_layer_count(m) +
           ((model_count)m->layers - moe_layers) * dense_layer_params(m) +
           model_embedding_params_count(m) + norm_params(m);
}

double model_params_per_layer(const model_desc *m)
{
    return (double)model_params_per_layer_count(m);
}

double model_embedding_params(const model_desc *m) { return (double)model_embedding_params_count(m); }

double model_final_norm_params(const model_desc *m) { return (double)norm_params(m); }

double model_params(const model_desc *m) { return (double)model_params_count(m); }

double model_published_diff_percent(const model_desc *m)
{
    if (m->published_params <= 0)
        return 0;
    return (model_params(m) - m->published_params) / m->published_params * 100.0;
}

int model_matches_published(const model_desc *m)
{
    if (m->published_params <= 0)
        return 0;
    double off = fabs(model_params(m) - m->published_params);
    /* a hair over half a step so that exact halves, which round either way, pass */
    return off <= 0.01 * m->published_params || off <= 0.5 * m->published_step_params * (1 + 1e-9);
}

/* ---- names ---- */


static const char *const mlp_names[] = {"gelu", "swiglu"};
static const char *const norm_names[] = {"layernorm", "rmsnorm"};
static const char *const pos_names[] = {"learned", "rotary"};
static const char *const dtype_names[] = {"fp16", "bf16", "fp8"};

#define NAME_AT(names, i) (((unsigned)(i) < sizeof names / sizeof names[0]) ? names[i] : "?")
#define NNAMES(names) ((int)(sizeof names / sizeof names[0]))

const char *model_mlp_name(model_mlp mlp) { return NAME_AT(mlp_names, mlp); }
const char *model_norm_name(model_norm norm) { return NAME_AT(norm_names, norm); }
const char *model_pos_name(model_pos pos) { return NAME_AT(pos_names, pos); }
const char *model_dtype_name(model_dtype dtype) { return NAME_AT(dtype_names, dtype); }

int model_mlp_parse(const char *text, const char *what, model_mlp *out, cs_err *err)
{
    int i = 0;
    if (units_parse_name(text, what, mlp_names, NNAMES(mlp_names), &i, err) != 0)
        return -1;
    *out = (model_mlp)i;
    return 0;
}

int model_norm_parse(const char *text, const char *what, model_norm *out, cs_err *err)
{
    int i = 0;
    if (units_parse_name(text, what, norm_names, NNAMES(norm_names), &i, err) != 0)
        return -1;
    *out = (model_norm)i;
    return 0;
}

int model_pos_parse(const char *text, const char *what, model_pos *out, cs_err *err)
{
    int i = 0;
    if (units_parse_name(text, what, pos_names, NNAMES(pos_names), &i, err) != 0)
        return -1;
    *out = (model_pos)i;
    return 0;
}

int model_dtype_parse(const char *text, const char *what, model_dtype *out, cs_err *err)
{
    int i = 0;
    if (units_parse_name(text, what, dtype_names, NNAMES(dtype_names), &i, err) != 0)
        return -1;
    *out = (model_dtype)i;
    return 0;
}

int model_dtype_bytes(model_dtype dtype) { return dtype == MODEL_FP8 ? 1 : 2; }

void model_custom(model_desc *m, int layers, int hidden, int heads)
{
    *m = (model_desc){"custom", layers, hidden, heads, heads, 0, 51200, 2048, MODEL_MLP_GELU,
                      MODEL_NORM_LAYERNORM, MODEL_POS_LEARNED, 1, 1, MODEL_FP16, 0, 0, NULL, .head_dim_override = 0};
    long ffn = 4L * hidden;
    m->ffn_hidden = (int)(ffn > MODEL_MAX_FFN ? MODEL_MAX_FFN : ffn);
}
