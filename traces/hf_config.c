/* hf_config: HuggingFace config.json into model_desc (see hf_config.h). */
#include "hf_config.h"

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_moe.h"

/* Limits of the integer keys: the model's own (model.h, MODEL_MAX_*), which
 * model_validate checks for every face; widths (head and latent) as hidden. */
#define MAX_LAYERS ((long)MODEL_MAX_LAYERS)
#define MAX_WIDTH ((long)MODEL_MAX_HIDDEN)
#define MAX_HEADS ((long)MODEL_MAX_HEADS)
#define MAX_VOCAB ((long)MODEL_MAX_VOCAB)
#define MAX_SEQ ((long)MODEL_MAX_SEQ)

typedef struct reader {
    struct json_object *root;
    const char *where;
    const char *type; /* model_type */
    cs_err *err;
} reader;

/* The key's value, NULL when absent or JSON null (both mean "use the default"). */
static struct json_object *value_of(const reader *r, const char *key)
{
    struct json_object *v = NULL;
    if (!json_object_object_get_ex(r->root, key, &v))
        return NULL;
    return v;
}

static int missing(const reader *r, const char *key)
{
    return cs_fail(r->err, "%s: missing required key '%s' (model_type %s)", r->where, key,
                   r->type);
}

/* An integer key in [lo, max]; dflt when absent and not required. */
static int get_int(const reader *r, const char *key, int required, long dflt, long lo, long max,
                   int *out)
{
    struct json_object *v = value_of(r, key);
    if (!v) {
        if (required)
            return missing(r, key);
        *out = (int)dflt;
        return 0;
    }
    if (!json_object_is_type(v, json_type_int))
        return cs_fail(r->err, "%s: key '%s' must be a whole number, not %s", r->where, key,
                       json_type_to_name(json_object_get_type(v)));
    errno = 0;
    int64_t x = json_object_get_int64(v);
    if (errno != 0 || x < lo || x > max)
        return cs_fail(r->err, "%s: key '%s' is %s; it must lie in %ld .. %ld", r->where, key,
                       json_object_to_json_string(v), lo, max);
    *out = (int)x;
    return 0;
}

static int get_bool(const reader *r, const char *key, int dflt, int *out)
{
    struct json_object *v = value_of(r, key);
    if (!v) {
        *out = dflt;
        return 0;
    }
    if (!json_object_is_type(v, json_type_boolean))
        return cs_fail(r->err, "%s: key '%s' must be true or false, not %s", r->where, key,
                       json_type_to_name(json_object_get_type(v)));
    *out = json_object_get_boolean(v);
    return 0;
}

/* A string key; NULL when absent (fails when present and not a string). */
static int get_string(const reader *r, const char *key, const char **out)
{
    struct json_object *v = value_of(r, key);
    *out = NULL;
    if (!v)
        return 0;
    if (!json_object_is_type(v, json_type_string))
        return cs_fail(r->err, "%s: key '%s' must be a string, not %s", r->where, key,
                       json_type_to_name(json_object_get_type(v)));
    *out = json_object_get_string(v);
    return 0;
}

/* ---- the families ---- */

/* The five sizes every family has, under its own key names: layers, width,
 * heads, vocabulary, positions. */
static const char *const llama_sizes[5] = {"num_hidden_layers", "hidden_size",
                                           "num_attention_heads", "vocab_size",
                                           "max_position_embeddings"};
static const char *const gpt2_sizes[5] = {"n_layer", "n_embd", "n_head", "vocab_size",
                                          "n_positions"};

static int read_sizes(const reader *r, const char *const keys[5], model_desc *m)
{
    return get_int(r, keys[0], 1, 0, 1, MAX_LAYERS, &m->layers) ||
           get_int(r, keys[1], 1, 0, 1, MAX_WIDTH, &m->hidden) ||
           get_int(r, keys[2], 1, 0, 1, MAX_HEADS, &m->heads) ||
           get_int(r, keys[3], 1, 0, 1, MAX_VOCAB, &m->vocab) ||
           get_int(r, keys[4], 1, 0, 1, MAX_SEQ, &m->seq_len)
               ? -1
               : 0;
}

/* GPT-2 and GPT-NeoX: MHA, GELU, LayerNorm, biases. */
static void gpt_style(model_desc *m, model_pos pos)
{
    m->kv_heads = m->heads;
    m->mlp = MODEL_MLP_GELU;
    m->norm = MODEL_NORM_LAYERNORM;
    m->pos = pos;
}

/* The keys most families share (Llama's names). */
static int read_llama_core(const reader *r, model_desc *m)
{
    int tied = 0;
    if (read_sizes(r, llama_sizes, m) ||
        get_int(r, "num_key_value_heads", 0, m->heads, 1, MAX_HEADS, &m->kv_heads) ||
        get_int(r, "intermediate_size", 1, 0, 1, MODEL_MAX_FFN, &m->ffn_hidden) ||
        get_int(r, "head_dim", 0, 0, 0, MAX_WIDTH, &m->head_dim_override) ||
        get_bool(r, "tie_word_embeddings", 0, &tied) ||
        get_bool(r, "attention_bias", 0, &m->qkv_bias))
        return -1;
    m->tied_embeddings = tied;
    m->mlp = MODEL_MLP_SWIGLU;
    m->norm = MODEL_NORM_RMSNORM;
    m->pos = MODEL_POS_ROTARY;
    m->linear_bias = 0;
    /* Llama's attention_bias puts a bias on the output projection too; the
     * families here that set it (none of the shipped files) are counted as
     * Q/K/V biases only, Qwen2's layout. */
    if (m->head_dim_override && m->head_dim_override * m->heads == m->hidden)
        m->head_dim_override = 0; /* the derived one */
    return 0;
}

/* Every layer dense or every layer MoE: the patterns other than these
 * (Qwen-MoE's decoder_sparse_step > 1, mlp_only_layers) are refused. */
static int require_all_moe(const reader *r)
{
    int step = 1;
    if (get_int(r, "decoder_sparse_step", 0, 1, 1, MAX_LAYERS, &step))
        return -1;
    struct json_object *only = value_of(r, "mlp_only_layers");
    int listed = only && json_object_is_type(only, json_type_array) &&
                 json_object_array_length(only) > 0;
    if (step != 1 || listed)
        return cs_fail(r->err, "%s: every layer must be an MoE layer (decoder_sparse_step 1, "
                               "mlp_only_layers []); this file has %s",
                       r->where, step != 1 ? "decoder_sparse_step > 1" : "mlp_only_layers");
    return 0;
}

static int read_qwen_moe(const reader *r, model_desc *m)
{
    if (read_llama_core(r, m) || require_all_moe(r) ||
        get_int(r, "num_experts", 1, 0, 1, MAX_HEADS, &m->moe_experts) ||
        get_int(r, "num_experts_per_tok", 1, 0, 1, MAX_HEADS, &m->moe_topk) ||
        get_int(r, "moe_intermediate_size", 1, 0, 1, MODEL_MAX_FFN, &m->moe_ffn_hidden) ||
        get_int(r, "shared_expert_intermediate_size", 0, 0, 0, MODEL_MAX_FFN,
                &m->moe_shared_ffn_hidden))
        return -1;
    m->moe_shared_experts = m->moe_shared_ffn_hidden > 0;
    return 0;
}

static int read_deepseek(const reader *r, model_desc *m)
{
    int freq = 1;
    if (read_llama_core(r, m) ||
        get_int(r, "moe_layer_freq", 0, 1, 1, MAX_LAYERS, &freq) ||
        get_int(r, "n_routed_experts", 1, 0, 1, MAX_HEADS, &m->moe_experts) ||
        get_int(r, "num_experts_per_tok", 1, 0, 1, MAX_HEADS, &m->moe_topk) ||
        get_int(r, "moe_intermediate_size", 1, 0, 1, MODEL_MAX_FFN, &m->moe_ffn_hidden) ||
        get_int(r, "n_shared_experts", 0, 0, 0, MAX_HEADS, &m->moe_shared_experts) ||
        get_int(r, "first_k_dense_replace", 0, 0, 0, MAX_LAYERS, &m->moe_dense_layers) ||
        get_int(r, "q_lora_rank", 0, 0, 0, MAX_WIDTH, &m->mla_q_lora_rank) ||
        get_int(r, "kv_lora_rank", 1, 0, 1, MAX_WIDTH, &m->mla_kv_lora_rank) ||
        get_int(r, "qk_rope_head_dim", 1, 0, 1, MAX_WIDTH, &m->mla_rope_head_dim) ||
        get_int(r, "qk_nope_head_dim", 1, 0, 1, MAX_WIDTH, &m->mla_nope_head_dim) ||
        get_int(r, "v_head_dim", 1, 0, 1, MAX_WIDTH, &m->mla_v_head_dim))
        return -1;
    if (freq != 1)
        return cs_fail(r->err, "%s: moe_layer_freq %d: only every layer after the dense ones "
                               "being MoE (1) is supported", r->where, freq);
    m->moe_shared_ffn_hidden = m->moe_shared_experts * m->moe_ffn_hidden;
    m->kv_heads = m->heads; /* MLA: every head has its own keys and values */
    m->head_dim_override = 0;
    return 0;
}

static int read_gpt2(const reader *r, model_desc *m)
{
    if (read_sizes(r, gpt2_sizes, m) ||
        get_int(r, "n_inner", 0, 0, 0, MODEL_MAX_FFN, &m->ffn_hidden) ||
        get_bool(r, "tie_word_embeddings", 1, &m->tied_embeddings))
        return -1;
    if (!m->ffn_hidden) /* GPT2Config: n_inner None means 4 x n_embd */
        m->ffn_hidden = 4L * m->hidden > MODEL_MAX_FFN ? MODEL_MAX_FFN : 4 * m->hidden;
    gpt_style(m, MODEL_POS_LEARNED);
    m->linear_bias = 1;
    return 0;
}

static int read_neox(const reader *r, model_desc *m)
{
    if (read_sizes(r, llama_sizes, m) ||
        get_int(r, "intermediate_size", 1, 0, 1, MODEL_MAX_FFN, &m->ffn_hidden) ||
        get_bool(r, "tie_word_embeddings", 0, &m->tied_embeddings) ||
        get_bool(r, "attention_bias", 1, &m->linear_bias))
        return -1;
    gpt_style(m, MODEL_POS_ROTARY);
    return 0;
}

typedef struct family {
    const char *type;
    int (*read)(const reader *r, model_desc *m);
    int qkv_bias, qk_norm; /* fixed by the architecture */
} family;

static int read_mixtral(const reader *r, model_desc *m)
{
    if (read_llama_core(r, m) ||
        get_int(r, "num_local_experts", 1, 0, 1, MAX_HEADS, &m->moe_experts) ||
        get_int(r, "num_experts_per_tok", 1, 0, 1, MAX_HEADS, &m->moe_topk))
        return -1;
    m->moe_ffn_hidden = m->ffn_hidden; /* each expert is a Mistral MLP */
    return 0;
}

static const family families[] = {
    {"llama", read_llama_core, 0, 0},     {"mistral", read_llama_core, 0, 0},
    {"qwen2", read_llama_core, 1, 0},     {"qwen3", read_llama_core, 0, 1},
    {"mixtral", read_mixtral, 0, 0},      {"qwen2_moe", read_qwen_moe, 1, 0},
    {"qwen3_moe", read_qwen_moe, 0, 1},   {"deepseek_v3", read_deepseek, 0, 0},
    {"deepseek_v2", read_deepseek, 0, 0}, {"gpt2", read_gpt2, 0, 0},
    {"gpt_neox", read_neox, 0, 0},
};
#define NFAMILIES ((int)(sizeof families / sizeof families[0]))

static const family *family_of(const reader *r)
{
    for (int i = 0; i < NFAMILIES; i++)
        if (strcmp(families[i].type, r->type) == 0)
            return &families[i];
    char list[512] = "";
    for (int i = 0; i < NFAMILIES; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, families[i].type, sizeof list - strlen(list) - 1);
    }
    cs_fail(r->err, "%s: model_type '%.64s' is not supported; supported: %s", r->where, r->type,
            list);
    return NULL;
}

/* The folder holding the file, else the model type, as the model's name. */
static void name_from_path(const char *where, const char *type, char *name, size_t len)
{
    const char *end = strrchr(where, '/');
    const char *start = end;
    while (start && start > where && start[-1] != '/')
        start--;
    if (end && start && end > start)
        snprintf(name, len, "%.*s", (int)(end - start), start);
    else
        snprintf(name, len, "%s", type);
}

static int fill_model(reader *r, model_desc *m)
{
    if (get_string(r, "model_type", &r->type) != 0)
        return -1;
    if (!r->type) {
        r->type = "?";
        return missing(r, "model_type");
    }
    const family *f = family_of(r);
    if (!f)
        return -1;
    model_custom(m, 1, 64, 1); /* every field set below; the rest zero */
    name_from_path(r->where, r->type, m->name, sizeof m->name);
    if (f->read(r, m) != 0)
        return -1;
    m->qkv_bias |= f->qkv_bias;
    m->qk_norm = f->qk_norm;
    const char *dtype = NULL;
    if (get_string(r, "torch_dtype", &dtype) != 0)
        return -1;
    m->dtype = dtype && strcmp(dtype, "float16") == 0 ? MODEL_FP16 : MODEL_BF16;
    cs_err why;
    if (model_validate(m, &why) != 0)
        return cs_fail(r->err, "%s: %s", r->where, why.msg);
    return 0;
}

/* 1-based line and column of byte offset in text. */
static void line_of(const char *text, size_t offset, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (size_t i = 0; i < offset; i++) {
        if (text[i] == '\n') {
            (*line)++;
            *col = 1;
        } else {
            (*col)++;
        }
    }
}

/* Parses text into one JSON object, NULL with the place in err. */
static struct json_object *parse_json(const char *text, size_t len, const char *where,
                                      cs_err *err)
{
    if (len > (size_t)HF_CONFIG_MAX_BYTES) {
        cs_fail(err, "%s: %zu bytes; a config.json is read up to %d", where, len,
                HF_CONFIG_MAX_BYTES);
        return NULL;
    }
    struct json_tokener *tok = json_tokener_new();
    if (!tok)
        abort();
    struct json_object *root = json_tokener_parse_ex(tok, text, (int)len);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t end = json_tokener_get_parse_end(tok);
    json_tokener_free(tok);
    int line, col;
    if (!root || jerr != json_tokener_success) {
        line_of(text, end, &line, &col);
        cs_fail(err, "%s line %d, column %d: malformed JSON: %s", where, line, col,
                jerr == json_tokener_continue ? "the text ends inside a value"
                                              : json_tokener_error_desc(jerr));
        json_object_put(root);
        return NULL;
    }
    while (end < len && isspace((unsigned char)text[end]))
        end++;
    if (end < len || !json_object_is_type(root, json_type_object)) {
        line_of(text, end < len ? end : 0, &line, &col);
        cs_fail(err, "%s line %d, column %d: malformed config: %s", where, line, col,
                end < len ? "text after the JSON object" : "the top level must be an object");
        json_object_put(root);
        return NULL;
    }
    return root;
}

int hf_config_parse(const char *text, size_t len, const char *where, model_desc *out,
                    cs_err *err)
{
    struct json_object *root = parse_json(text, len, where, err);
    if (!root)
        return -1;
    reader r = {root, where, "?", err};
    model_desc m;
    int rc = fill_model(&r, &m);
    json_object_put(root);
    if (rc == 0)
        *out = m;
    return rc;
}

int hf_config_load(const char *path, model_desc *out, cs_err *err)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return cs_fail(err, "%s: cannot open: %s", path, strerror(errno));
    char *text = malloc((size_t)HF_CONFIG_MAX_BYTES + 1);
    if (!text)
        abort();
    size_t len = fread(text, 1, (size_t)HF_CONFIG_MAX_BYTES + 1, f);
    int bad = ferror(f);
    fclose(f);
    int rc = bad ? cs_fail(err, "%s: read error", path)
                 : hf_config_parse(text, len, path, out, err);
    free(text);
    return rc;
}
