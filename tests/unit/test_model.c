/* Unit tests: transformer shapes, exact parameter counts, the catalog against
 * its published counts (and against ../shared/reference for Megatron's
 * table), validation and the name parsers. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "model.h"
#include "reference.h"
#include "tap.h"

/* Every entry is a valid shape whose computed count matches its published
 * figure: within 1%, or rounding to it at the precision it was printed at. */
static void catalog_matches_published(void)
{
    CHECK(model_catalog_count() >= 18);
    for (int i = 0; i < model_catalog_count(); i++) {
        const model_desc *m = model_catalog_at(i);
        cs_err err = {""};
        CHECK(model_validate(m, &err) == 0);
        CHECK(m->published_params > 0 && m->published_step_params > 0);
        CHECK(m->params_source != NULL && strlen(m->params_source) > 10);
        printf("# %-16s computed %16.0f  published %8.2fB  diff %+7.3f%%\n", m->name,
               model_params(m), m->published_params / 1e9, model_published_diff_percent(m));
        CHECK(model_matches_published(m));
        for (int j = 0; j < i; j++)
            CHECK(strcmp(model_catalog_at(j)->name, m->name) != 0);
    }
    CHECK(model_catalog_at(-1) == NULL);
    CHECK(model_catalog_at(model_catalog_count()) == NULL);
}

/* Table 1 prints 1.7B and 3.6B for models of 1.652B and 3.562B: more than 1%
 * off, but exactly those figures rounded to 0.1B.  The match must come from
 * the rounding, and a figure one step away must not match. */
static void published_rounding(void)
{
    model_desc m;
    CHECK(model_find("megatron-1.7b", &m, NULL) == 0);
    CHECK(model_published_diff_percent(&m) < -1.0);
    CHECK(model_matches_published(&m));
    CHECK_REL(round(model_params(&m) / 1e8) * 1e8, 1.7e9, 1e-12);
    m.published_params = 1.8e9;
    CHECK(!model_matches_published(&m));
    m.published_params = 0;
    CHECK(!model_matches_published(&m));
    CHECK(model_published_diff_percent(&m) == 0);
    CHECK(model_find("gpt3-175b", &m, NULL) == 0);
    m.published_params = 177e9; /* 1.3% off, step 0.1B: no match */
    CHECK(!model_matches_published(&m));
}

/* The ten Megatron entries are the reference file's rows, and Megatron's own
 * formula is our count less the final LayerNorm (2h). */
static void megatron_reference_rows(void)
{
    megatron_row rows[MEGATRON_MAX_ROWS];
    const model_desc *models[MEGATRON_MAX_ROWS];
    int n = megatron_rows_load(rows, models);
    for (int i = 0; i < n; i++) {
        megatron_row r = rows[i];
        const model_desc *m = models[i];
        CHECK_REL(m->published_params, r.params_billion * 1e9, 1e-12);
        double l = r.layers, h = r.hidden, v = m->vocab, s = m->seq_len;
        double paper = 12 * l * h * h * (1 + 13 / (12 * h) + (v + s) / (12 * l * h));
        CHECK_REL(model_params(m) - 2 * h, paper, 1e-12);
        CHECK_EQ_INT(m->vocab, 51200);
        CHECK_EQ_INT(m->seq_len, 2048);
    }
    CHECK_EQ_INT(n, 10);
}

/* 2 layers, hidden 8, 2 heads, ffn 32, vocab 10, seq 4, GPT style. */
static void tiny_gpt_exact(void)
{
    model_desc m = {"tiny-gpt", 2, 8, 2, 2, 32, 10, 4, MODEL_MLP_GELU, MODEL_NORM_LAYERNORM,
                    MODEL_POS_LEARNED, 1, 1, MODEL_FP16, 0, 0, NULL, .head_dim_override = 0};
    CHECK(model_validate(&m, NULL) == 0);
    CHECK_EQ_INT(model_head_dim(&m), 4);
    double attention = (8 * 24 + 24) + (8 * 8 + 8); /* QKV with bias, output with bias */
    double mlp = (8 * 32 + 32) + (32 * 8 + 8);      /* up with bias, down with bias */
    double norms = 2 * (8 + 8);                     /* two LayerNorms: weight + bias */
    CHECK_EQ_INT(attention + mlp + norms, 872);
    CHECK_EQ_INT(model_params_per_layer(&m), 872);
    CHECK_EQ_INT(model_embedding_params(&m), 10 * 8 + 4 * 8); /* tied table + positions */
    CHECK_EQ_INT(model_final_norm_params(&m), 8 + 8);
    CHECK_EQ_INT(model_params(&m), 2 * 872 + 112 + 16);
    CHECK_EQ_INT(model_params(&m), 1872);
}

/* Same sizes, Llama style with grouped-query attention: 1 key/value head. */
static void tiny_llama_exact(void)
{
    model_desc m = {"tiny-llama", 2, 8, 2, 1, 32, 10, 4, MODEL_MLP_SWIGLU, MODEL_NORM_RMSNORM,
                    MODEL_POS_ROTARY, 0, 0, MODEL_BF16, 0, 0, NULL, .head_dim_override = 0};
    CHECK(model_validate(&m, NULL) == 0);
    double attention = 8 * 8 + 2 * (8 * 1 * 4) + 8 * 8; /* Q; K, V of 1 head x 4; output */
    double mlp = 3 * (8 * 32);                          /* gate, up, down; no biases */
    double norms = 2 * 8;                               /* two RMSNorms: weight only */
    CHECK_EQ_INT(attention + mlp + norms, 976);
    CHECK_EQ_INT(model_params_per_layer(&m), 976);
    CHECK_EQ_INT(model_embedding_params(&m), 2 * 10 * 8); /* input + output head */
    CHECK_EQ_INT(model_final_norm_params(&m), 8);
    CHECK_EQ_INT(model_params(&m), 2 * 976 + 160 + 8);
    CHECK_EQ_INT(model_params(&m), 2120);
}

/* Each architectural switch moves the count by exactly its own parameters. */
static void switches_move_count(void)
{
    model_desc a = {"gpt", 2, 8, 2, 2, 32, 10, 4, MODEL_MLP_GELU, MODEL_NORM_LAYERNORM,
                    MODEL_POS_LEARNED, 1, 1, MODEL_FP16, 0, 0, NULL, .head_dim_override = 0};
    model_desc b = a;
    b.tied_embeddings = 0;
    CHECK_EQ_INT(model_params(&b) - model_params(&a), 10 * 8);
    b = a;
    b.pos = MODEL_POS_ROTARY;
    CHECK_EQ_INT(model_params(&a) - model_params(&b), 4 * 8);
    b = a;
    b.norm = MODEL_NORM_RMSNORM;
    CHECK_EQ_INT(model_params(&a) - model_params(&b), (2 * 2 + 1) * 8);
    b = a;
    b.linear_bias = 0;
    CHECK_EQ_INT(model_params(&a) - model_params(&b), 2 * (24 + 8 + 32 + 8));
    b = a;
    b.kv_heads = 1; /* K and V lose one head of 4 each, weights and biases */
    CHECK_EQ_INT(model_params(&a) - model_params(&b), 2 * (2 * 8 * 4 + 2 * 4));
    b = a;
    b.mlp = MODEL_MLP_SWIGLU; /* one more 8 x 32 matrix and its 32 biases */
    CHECK_EQ_INT(model_params(&b) - model_params(&a), 2 * (8 * 32 + 32));
    b = a;
    b.dtype = MODEL_FP8;
    CHECK_EQ_INT(model_params(&b), model_params(&a));
}

/* The released Llama checkpoints hold exactly these many parameters. */
static void llama_released_counts(void)
{
    static const struct { const char *name; double params; } released[] = {
        {"llama2-7b", 6738415616.0},    {"llama2-70b", 68976648192.0},
        {"llama3-8b", 8030261248.0},    {"llama3-70b", 70553706496.0},
        {"llama3-405b", 405853388800.0},
    };
    for (size_t i = 0; i < sizeof released / sizeof released[0]; i++) {
        model_desc m;
        CHECK(model_find(released[i].name, &m, NULL) == 0);
        CHECK_EQ_INT(model_params(&m), released[i].params);
    }
}

static void expect_invalid(const model_desc *m, const char *a, const char *b)
{
    cs_err err = {""};
    CHECK(model_validate(m, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, a);
    CHECK_STR_CONTAINS(err.msg, b);
}

/* Every size is a whole number from 1 to its limit (model.h's MODEL_MAX_*),
 * whichever face set it: below 1 and above the limit are refused alike. */
static void validation_sizes_positive(void)
{
    model_desc base;
    CHECK(model_find("llama2-7b", &base, NULL) == 0);
    static const struct { size_t off; int bad, max; const char *text; } cases[] = {
        {offsetof(model_desc, layers), 0, MODEL_MAX_LAYERS, "layers 0"},
        {offsetof(model_desc, hidden), -4096, MODEL_MAX_HIDDEN, "hidden -4096"},
        {offsetof(model_desc, heads), 0, MODEL_MAX_HEADS, "heads 0"},
        {offsetof(model_desc, kv_heads), 0, MODEL_MAX_HEADS, "kv_heads 0"},
        {offsetof(model_desc, ffn_hidden), 0, MODEL_MAX_FFN, "ffn_hidden 0"},
        {offsetof(model_desc, vocab), 0, MODEL_MAX_VOCAB, "vocab 0"},
        {offsetof(model_desc, seq_len), -1, MODEL_MAX_SEQ, "seq_len -1"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        model_desc m = base;
        int *field = (int *)((char *)&m + cases[i].off);
        *field = cases[i].bad;
        expect_invalid(&m, cases[i].text, "whole number from 1");
        *field = cases[i].max + 1; /* one above the limit: refused with the limit named */
        char limit[32];
        snprintf(limit, sizeof limit, "to %d", cases[i].max);
        expect_invalid(&m, "must be a whole number from 1", limit);
    }
    model_desc m = base;
    m.hidden = 1000000000; /* the validate tables' case: once overflowed the cost model */
    expect_invalid(&m, "hidden 1000000000", "to 1048576");
}

static void validation_divisibility(void)
{
    model_desc base;
    CHECK(model_find("llama2-70b", &base, NULL) == 0);
    model_desc m = base;
    m.hidden = 4096;
    m.heads = 48;
    m.kv_heads = 8;
    expect_invalid(&m, "heads 48 does not divide hidden 4096", "divisors of 4096 near 48: 32, 64");
    m.heads = 31;
    expect_invalid(&m, "heads 31 does not divide hidden 4096", "near 31: 16, 32");
    m = base;
    m.kv_heads = 6;
    expect_invalid(&m, "kv_heads 6 does not divide heads 64", "near 6: 4, 8");
    m = base;
    m.kv_heads = 128; /* more key/value heads than heads: only smaller ones work */
    expect_invalid(&m, "kv_heads 128 does not divide heads 64", "near 128: 64");
    m = base;
    m.kv_heads = 64; /* multi-head attention is the kv_heads == heads case */
    CHECK(model_validate(&m, NULL) == 0);
    m = base;
    m.hidden = 30;
    m.heads = 10; /* head dim 3; 6 divides 30 but gives 5, so the nearest are 5 and 15 */
    m.kv_heads = 10;
    expect_invalid(&m, "head dimension 3", "even head dimension: 5, 15");
    m.pos = MODEL_POS_LEARNED; /* an odd head dimension is fine without rotary */
    CHECK(model_validate(&m, NULL) == 0);
}

static void find_by_name(void)
{
    model_desc m;
    cs_err err = {""};
    CHECK(model_find("LLAMA3-8B", &m, &err) == 0);
    CHECK_STR_CONTAINS(m.name, "llama3-8b");
    CHECK_EQ_INT(m.kv_heads, 8);
    CHECK(model_find("gpt-5", &m, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "unknown model 'gpt-5'");
    for (int i = 0; i < model_catalog_count(); i++)
        CHECK_STR_CONTAINS(err.msg, model_catalog_at(i)->name);
}

static void parse_names(void)
{
    cs_err err = {""};
    model_mlp mlp = MODEL_MLP_GELU;
    CHECK(model_mlp_parse("SwiGLU", "--mlp", &mlp, &err) == 0 && mlp == MODEL_MLP_SWIGLU);
    CHECK(model_mlp_parse("gelu", "--mlp", &mlp, &err) == 0 && mlp == MODEL_MLP_GELU);
    CHECK(model_mlp_parse("relu", "--mlp", &mlp, &err) == -1 && mlp == MODEL_MLP_GELU);
    CHECK_STR_CONTAINS(err.msg, "--mlp: 'relu' is not one of gelu, swiglu");
    model_dtype dt = MODEL_FP16;
    CHECK(model_dtype_parse("bf16", "--dtype", &dt, &err) == 0 && dt == MODEL_BF16);
    CHECK(model_dtype_parse("FP8", "--dtype", &dt, &err) == 0 && dt == MODEL_FP8);
    CHECK(model_dtype_parse("fp32", "--dtype", &dt, &err) == -1 && dt == MODEL_FP8);
    CHECK_STR_CONTAINS(err.msg, "fp16, bf16, fp8");
    CHECK_EQ_INT(model_dtype_bytes(MODEL_FP16), 2);
    CHECK_EQ_INT(model_dtype_bytes(MODEL_BF16), 2);
    CHECK_EQ_INT(model_dtype_bytes(MODEL_FP8), 1);
    model_norm nm;
    CHECK(model_norm_parse("rmsnorm", "--norm", &nm, &err) == 0 && nm == MODEL_NORM_RMSNORM);
    CHECK(model_norm_parse("batchnorm", "--norm", &nm, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "layernorm, rmsnorm");
    model_pos pos;
    CHECK(model_pos_parse("rotary", "--pos", &pos, &err) == 0 && pos == MODEL_POS_ROTARY);
    CHECK(model_pos_parse("alibi", "--pos", &pos, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "learned, rotary");
    /* names round-trip through the parsers */
    CHECK(model_mlp_parse(model_mlp_name(MODEL_MLP_SWIGLU), "x", &mlp, NULL) == 0 &&
          mlp == MODEL_MLP_SWIGLU);
    CHECK(model_dtype_parse(model_dtype_name(MODEL_BF16), "x", &dt, NULL) == 0 &&
          dt == MODEL_BF16);
    CHECK(model_norm_parse(model_norm_name(MODEL_NORM_LAYERNORM), "x", &nm, NULL) == 0 &&
          nm == MODEL_NORM_LAYERNORM);
    CHECK(model_pos_parse(model_pos_name(MODEL_POS_LEARNED), "x", &pos, NULL) == 0 &&
          pos == MODEL_POS_LEARNED);
}

TAP_MAIN({"catalog matches published counts", catalog_matches_published},
         {"published figures stand for their rounding", published_rounding},
         {"megatron entries are the reference file's rows", megatron_reference_rows},
         {"tiny GPT (GELU, LayerNorm, bias, learned, tied) exact", tiny_gpt_exact},
         {"tiny Llama (SwiGLU, RMSNorm, GQA, rotary, untied) exact", tiny_llama_exact},
         {"each switch moves the count by its own parameters", switches_move_count},
         {"llama counts equal the released checkpoints", llama_released_counts},
         {"validation: sizes positive", validation_sizes_positive},
         {"validation: divisibility with nearest valid values", validation_divisibility},
         {"find by name; unknown lists the catalog", find_by_name},
         {"parse and name mlp, norm, positions, dtype", parse_names})
