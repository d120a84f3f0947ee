/* model: the decoder-only transformer being trained, and the built-in catalog.
 *
 * Owns model_desc (the shape: layers, widths, heads, vocabulary, sequence
 * length and the architectural choices that change the parameter count),
 * its validation, the exact parameter count derived from the shape, and the
 * catalog of published models.  Every catalog entry carries its published
 * parameter count and where that figure comes from; a unit test holds the
 * count computed from the shape to the published one.
 *
 * Counting conventions (what one layer holds):
 *   attention   Q and output projections hidden x hidden; K and V projections
 *               hidden x (kv_heads * head_dim) each (grouped-query attention:
 *               kv_heads < heads; kv_heads == heads is multi-head attention)
 *   MLP         GELU: hidden -> ffn_hidden -> hidden (2 matrices);
 *               SwiGLU: gate and up hidden -> ffn_hidden, down ffn_hidden ->
 *               hidden (3 matrices)
 *   biases      one per output feature of every linear layer, when linear_bias
 *   norms       two per layer (before attention, before the MLP) and one
 *               after the last layer; LayerNorm has weight and bias, RMSNorm
 *               weight only
 *   embeddings  vocab x hidden input table; an untied output head adds another
 *               vocab x hidden (no bias); learned absolute positions add
 *               seq_len x hidden, rotary positions add nothing */
#ifndef CS_MODEL_H
#define CS_MODEL_H

#include "cs_error.h"

typedef enum model_mlp { MODEL_MLP_GELU, MODEL_MLP_SWIGLU } model_mlp;
typedef enum model_norm { MODEL_NORM_LAYERNORM, MODEL_NORM_RMSNORM } model_norm;
typedef enum model_pos { MODEL_POS_LEARNED, MODEL_POS_ROTARY } model_pos;
typedef enum model_dtype { MODEL_FP16, MODEL_BF16, MODEL_FP8 } model_dtype;

typedef struct model_desc {
    char name[48];
    int layers;
    int hidden;     /* model width */
    int heads;      /* attention (query) heads; head_dim = hidden / heads */
    int kv_heads;   /* key/value heads: divides heads */
    int ffn_hidden; /* MLP inner width */
    int vocab;      /* vocabulary entries (as padded in the embedding table) */
    int seq_len;    /* tokens per sequence */
    model_mlp mlp;
    model_norm norm;
    model_pos pos;
    int tied_embeddings; /* output head shares the input embedding table */
    int linear_bias;     /* linear layers carry biases (GPT, Megatron; not Llama) */
    model_dtype dtype;   /* training data type of weights and activations */
    /* The published parameter count, 0 when none, and the resolution it was
     * published at (1e8 for "1.7B", 1e7 for "6.74B"): a figure printed to
     * one decimal stands for anything within half a step of it. */
    double published_params;
    double published_step_params;
    const char *params_source; /* where the published figure comes from; NULL for none */
    /* Shapes beyond the GPT/Llama core (issue 18: HuggingFace configs, mixture
     * of experts, multi-head latent attention; model_moe.h counts them).  Zero
     * means "not used" in every field, so older initialisers stay valid. */
    int head_dim_override; /* head dimension when not hidden / heads (Qwen3: 128); 0: derived */
    int qkv_bias;          /* Q, K and V carry biases without linear_bias (Qwen2) */
    int qk_norm;           /* RMSNorm over each head's queries and keys (Qwen3) */
    int moe_experts;       /* routed experts of an MoE layer; 0: every layer dense */
    int moe_topk;          /* experts each token is routed to */
    int moe_ffn_hidden;    /* inner width of one routed expert (SwiGLU or GELU as mlp) */
    int moe_shared_ffn_hidden; /* inner width of the shared experts together; 0: none */
    int moe_shared_experts;    /* how many shared experts that width is made of */
    int moe_dense_layers;  /* the first layers keep a dense MLP of ffn_hidden (DeepSeek-V3: 3) */
    double moe_capacity_factor; /* expert capacity / (tokens topk / experts); 0: no dropping */
    int mla_kv_lora_rank;  /* multi-head latent attention's compressed KV width; 0: no MLA */
    int mla_q_lora_rank;   /* compressed query width; 0: queries projected directly */
    int mla_rope_head_dim; /* decoupled rotary part of each query/key head */
    int mla_nope_head_dim; /* non-rotary part of each query/key head */
    int mla_v_head_dim;    /* each value head */
} model_desc;

/* The largest MLP width a custom model gets by default (4 x hidden, capped). */
#define MODEL_MAX_FFN (1 << 22)

/* The largest sizes a model may have, for every face (command line, Lua,
 * HuggingFace configs, the validation tables): far beyond any trained model,
 * and small enough that the cost model's products stay in range. */
#define MODEL_MAX_LAYERS 100000
#define MODEL_MAX_HIDDEN (1 << 20)
#define MODEL_MAX_HEADS (1 << 16)
#define MODEL_MAX_VOCAB (1 << 24)
#define MODEL_MAX_SEQ (1 << 24)

/* A GPT-style model as Megatron-LM trains it, of the given sizes: MHA,
 * MLP width 4 x hidden, vocabulary 51200, sequence 2048, GELU, LayerNorm,
 * learned positions, tied embeddings, biases, fp16; named "custom". */
void model_custom(model_desc *m, int layers, int hidden, int heads);

/* Number of built-in models and the i-th one (NULL out of range). */
int model_catalog_count(void);
const model_desc *model_catalog_at(int i);

/* Copies the catalog entry `name` (case-insensitive) into out.  On failure
 * err lists every name in the catalog. */
int model_find(const char *name, model_desc *out, cs_err *err);

/* The catalog entry whose name starts with prefix and whose shape has these
 * layers, hidden size and heads; NULL when none. */
const model_desc *model_catalog_find_shape(const char *prefix, int layers, int hidden, int heads);

/* Checks the shape: every size positive, heads dividing hidden, kv_heads
 * dividing heads (with the nearest valid values in the message), an even
 * head dimension under rotary positions.  The first rule broken is reported. */
int model_validate(const model_desc *m, cs_err *err);

/* Exact parameter counts from the shape (doubles hold them exactly below 2^53).
 * params = layers * per_layer + embeddings + final_norm. */
double model_params(const model_desc *m);

/* The same counts exactly, for printing whole numbers of any size. */
__extension__ typedef unsigned __int128 model_count;
model_count model_params_count(const model_desc *m);
/* One layer: for an MoE model the MoE layer (model_moe.h), whose first
 * moe_dense_layers layers are dense ones instead (the second function). */
model_count model_params_per_layer_count(const model_desc *m);
model_count model_dense_layer_params_count(const model_desc *m);
model_count model_embedding_params_count(const model_desc *m);
double model_params_per_layer(const model_desc *m);
double model_embedding_params(const model_desc *m); /* input, untied output head, positions */
double model_final_norm_params(const model_desc *m);
int model_head_dim(const model_desc *m); /* head_dim_override, else hidden / heads */

/* ---- mixture of experts and multi-head latent attention ----
 *
 * Counting conventions (HuggingFace transformers' modules, which the
 * published counts are counts of), beside those at the top of this file:
 *   MoE layer   routed experts, each an MLP of moe_ffn_hidden (gate, up,
 *               down under SwiGLU), a router hidden x experts without bias
 *               (MixtralSparseMoeBlock.gate, Qwen3MoeSparseMoeBlock.gate,
 *               DeepseekV3TopkRouter.weight), and shared experts as one MLP
 *               of moe_shared_ffn_hidden (DeepseekV3MoE.shared_experts:
 *               intermediate_size = moe_intermediate_size * n_shared_experts).
 *               Not counted: DeepSeek-V3's 256-entry score-correction bias
 *               of the router and Qwen2-MoE's 1-wide shared-expert gate
 *               (thousands of parameters of billions: below 1e-6).
 *   dense layers the first moe_dense_layers layers keep the dense MLP of
 *               ffn_hidden (DeepSeek-V3 first_k_dense_replace).
 *   MLA         (DeepSeek-V2 paper, arXiv 2405.04434 sec. 2.1; DeepseekV3Attention):
 *               q_a hidden x q_lora, its RMSNorm q_lora, q_b q_lora x heads
 *               (nope + rope); kv_a hidden x (kv_lora + rope), its RMSNorm
 *               kv_lora, kv_b kv_lora x heads (nope + v); o heads v x hidden.
 */
int model_is_moe(const model_desc *m);
int model_is_mla(const model_desc *m);

/* Layers with an MoE block (layers - moe_dense_layers; 0 for dense models). */
int model_moe_layers(const model_desc *m);

/* Weights of one layer's attention multiplies; with biases and q/k norms. */
model_count model_attention_weights_count(const model_desc *m);
model_count model_attention_params_count(const model_desc *m);

/* Parameters of one MoE block: routed experts, shared experts, router. */
model_count model_moe_block_params_count(const model_desc *m);

/* Of those, the routed experts alone (what expert parallelism splits). */
double model_moe_routed_params(const model_desc *m);

/* Checks the MoE and MLA fields (topk <= experts, sizes positive, dense
 * layers fewer than layers); 0 or the first rule broken.  model_validate
 * calls it. */
int model_moe_validate(const model_desc *m, cs_err *err);

/* Signed difference of the computed count from the published one in percent;
 * 0 when nothing is published. */
double model_published_diff_percent(const model_desc *m);

/* True when the computed count lies within 1% of the published figure, or
 * rounds to it at the resolution it was published at. */
int model_matches_published(const model_desc *m);

/* Names as users type them ("gelu", "swiglu", "layernorm", "rmsnorm",
 * "learned", "rotary", "fp16", "bf16", "fp8") and their parsers; a parse
 * error names `what` (the option) and lists the valid names. */
const char *model_mlp_name(model_mlp mlp);
int model_mlp_parse(const char *text, const char *what, model_mlp *out, cs_err *err);
const char *model_norm_name(model_norm norm);
int model_norm_parse(const char *text, const char *what, model_norm *out, cs_err *err);
const char *model_pos_name(model_pos pos);
int model_pos_parse(const char *text, const char *what, model_pos *out, cs_err *err);
const char *model_dtype_name(model_dtype dtype);
int model_dtype_parse(const char *text, const char *what, model_dtype *out, cs_err *err);
int model_dtype_bytes(model_dtype dtype);

#endif
