/* Unit tests: mixture-of-experts and multi-head latent attention shapes
 * (costmodel/model_moe), counted by hand on small shapes; the published
 * active counts of the catalog's MoE models; the HuggingFace config reader
 * (traces/hf_config) on texts written here. */
#include <string.h>

#include "hf_config.h"
#include "model.h"
#include "model_moe.h"
#include "tap.h"

/* h 8, 2 layers of which 1 dense, 4 experts of width 6 top-2, one shared
 * expert of width 6, SwiGLU, RMSNorm, MHA of 2 heads, vocab 10, untied. */
static model_desc tiny_moe(void)
{
    model_desc m = {"tiny-moe", 2, 8, 2, 2, 16, 10, 4, MODEL_MLP_SWIGLU, MODEL_NORM_RMSNORM,
                    MODEL_POS_ROTARY, 0, 0, MODEL_BF16, 0, 0, NULL, .moe_experts = 4,
                    .moe_topk = 2, .moe_ffn_hidden = 6, .moe_shared_ffn_hidden = 6,
                    .moe_shared_experts = 1, .moe_dense_layers = 1};
    return m;
}

static void moe_counts_by_hand(void)
{
    model_desc m = tiny_moe();
    cs_err err = {""};
    CHECK(model_validate(&m, &err) == 0);
    /* attention 4 h^2 = 256; norms 2 h = 16 */
    double dense = 256 + 3 * 8 * 16 + 16;                  /* 656 */
    double moe = 256 + 4 * 3 * 8 * 6 + 3 * 8 * 6 + 8 * 4 + 16; /* 256 + 576 + 144 + 32 + 16 = 1024 */
    CHECK_REL((double)model_dense_layer_params_count(&m), dense, 1e-15);
    CHECK_REL((double)model_params_per_layer_count(&m), moe, 1e-15);
    CHECK_REL(model_params(&m), dense + moe + 2 * 10 * 8 + 8, 1e-15);
    CHECK_REL(model_moe_routed_params(&m), 576, 1e-15);
    /* active: the MoE layer's two idle experts of 144 apart */
    CHECK_REL(model_active_params(&m), model_params(&m) - 2 * 144, 1e-15);
    /* FLOPs per token: 2 per weight the token passes through */
    CHECK_REL(model_layer_gemm_flops_per_token(&m, 0), 2 * (256 + 384), 1e-15);
    CHECK_REL(model_layer_gemm_flops_per_token(&m, 1), 2 * (256 + 2 * 144 + 144 + 32), 1e-15);
}

/* MLA of h 16, 2 heads, q_lora 4, kv_lora 3, rope 2, nope 4, v 5. */
static void mla_counts_by_hand(void)
{
    model_desc m = {"tiny-mla", 1, 16, 2, 2, 64, 10, 4, MODEL_MLP_GELU, MODEL_NORM_LAYERNORM,
                    MODEL_POS_LEARNED, 1, 0, MODEL_FP16, 0, 0, NULL, .mla_q_lora_rank = 4,
                    .mla_kv_lora_rank = 3, .mla_rope_head_dim = 2, .mla_nope_head_dim = 4,
                    .mla_v_head_dim = 5};
    cs_err err = {""};
    CHECK(model_validate(&m, &err) == 0);
    double q = 16 * 4 + 4 * 2 * 6, kv = 16 * (3 + 2) + 3 * 2 * (4 + 5), o = 2 * 5 * 16;
    CHECK_REL((double)model_attention_params_count(&m), q + kv + o + 4 + 3, 1e-15);
    CHECK_EQ_INT(model_qk_head_dim(&m), 6);
    CHECK_EQ_INT(model_v_head_dim(&m), 5);
    /* the cache keeps the latent and the shared rotary key, 16-bit */
    CHECK_REL(model_kv_bytes_per_token(&m), 2 * (3 + 2), 1e-15);
    /* attention core: 2 s heads (d_qk + d_v) per token */
    CHECK_REL(model_attn_core_flops_per_token(&m), 2.0 * m.seq_len * 2 * (6 + 5), 1e-15);
    /* for MHA the same formula is the 4 s h of workload.h */
    model_desc g;
    model_custom(&g, 1, 64, 4);
    CHECK_REL(model_attn_core_flops_per_token(&g), 4.0 * g.seq_len * 64, 1e-15);
}

/* The cards state active counts beside the totals: DeepSeek-V3 37B
 * (arXiv 2412.19437), Mixtral 12.9B (Mistral AI), Qwen3-30B-A3B 3.3B. */
static void catalog_active_counts(void)
{
    static const struct { const char *name; double active, rel; } cards[] = {
        {"deepseek-v3", 37e9, 0.02}, {"mixtral-8x7b", 12.9e9, 0.01},
        {"qwen3-30b-a3b", 3.3e9, 0.02}};
    for (size_t i = 0; i < sizeof cards / sizeof cards[0]; i++) {
        model_desc m;
        CHECK(model_find(cards[i].name, &m, NULL) == 0);
        printf("# %-14s active %.3f B, card %.1f B\n", m.name, model_active_params(&m) / 1e9,
               cards[i].active / 1e9);
        CHECK_REL(model_active_params(&m), cards[i].active, cards[i].rel);
    }
}

static void moe_validation(void)
{
    model_desc m = tiny_moe();
    cs_err err = {""};
    m.moe_topk = 5;
    CHECK(model_validate(&m, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "topk 5 must lie in 1 .. experts 4");
    m = tiny_moe();
    m.moe_dense_layers = 2;
    CHECK(model_validate(&m, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "dense layers 2 must be fewer than layers 2");
    m = tiny_moe();
    m.moe_ffn_hidden = 0;
    CHECK(model_validate(&m, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "expert width");
}

static int parse(const char *text, model_desc *m, cs_err *err)
{
    return hf_config_parse(text, strlen(text), "dir/x/config.json", m, err);
}

static void hf_config_reader(void)
{
    model_desc m;
    cs_err err = {""};
    CHECK(parse("{\"model_type\": \"mixtral\", \"num_hidden_layers\": 2, \"hidden_size\": 8,"
                " \"num_attention_heads\": 2, \"num_key_value_heads\": 1,"
                " \"intermediate_size\": 6, \"vocab_size\": 10, \"max_position_embeddings\": 4,"
                " \"num_local_experts\": 4, \"num_experts_per_tok\": 2, \"unknown\": [1, {}]}",
                &m, &err) == 0);
    CHECK(strcmp(m.name, "x") == 0);
    CHECK_EQ_INT(m.moe_experts, 4);
    CHECK_EQ_INT(m.moe_ffn_hidden, 6);
    CHECK_EQ_INT(m.kv_heads, 1);
    CHECK(m.mlp == MODEL_MLP_SWIGLU && m.norm == MODEL_NORM_RMSNORM && !m.tied_embeddings);
    /* a null is the default (GPT-2's n_inner: 4 x n_embd) */
    CHECK(parse("{\"model_type\": \"gpt2\", \"n_layer\": 1, \"n_embd\": 8, \"n_head\": 2, "
                "\"vocab_size\": 10, \"n_positions\": 4, \"n_inner\": null}", &m, &err) == 0);
    CHECK_EQ_INT(m.ffn_hidden, 32);
    CHECK(m.tied_embeddings && m.linear_bias && m.pos == MODEL_POS_LEARNED);
    /* the line of a syntax error */
    CHECK(parse("{\n\"model_type\": \"gpt2\",\n\n  \"n_layer\": 1 2}", &m, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "dir/x/config.json line 4, column");
    CHECK(parse("[1, 2]", &m, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "the top level must be an object");
    CHECK(parse("{\"n_layer\": 1}", &m, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "missing required key 'model_type'");
    CHECK(parse("{\"model_type\": \"gpt2\", \"n_layer\": 0}", &m, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "key 'n_layer' is 0; it must lie in 1 .. 100000");
    CHECK(parse("{\"model_type\": \"qwen3_moe\", \"num_hidden_layers\": 2, \"hidden_size\": 8,"
                " \"num_attention_heads\": 2, \"intermediate_size\": 6, \"vocab_size\": 10,"
                " \"max_position_embeddings\": 4, \"num_experts\": 4, \"num_experts_per_tok\": 2,"
                " \"moe_intermediate_size\": 3, \"mlp_only_layers\": [0]}", &m, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "every layer must be an MoE layer");
}

TAP_MAIN({"moe_counts_by_hand", moe_counts_by_hand}, {"mla_counts_by_hand", mla_counts_by_hand},
         {"catalog_active_counts", catalog_active_counts}, {"moe_validation", moe_validation},
         {"hf_config_reader", hf_config_reader})
