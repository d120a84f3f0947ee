/* hf_config: a HuggingFace transformers config.json read into a model
 * description.
 *
 * Owns the mapping from each family's keys to model_desc (json-c parses the
 * JSON; nothing here reads JSON by hand).  Families, by "model_type":
 *   llama, mistral, qwen2, qwen3   SwiGLU, RMSNorm, rotary; qwen2 adds Q/K/V
 *                                  biases, qwen3 per-head q/k RMSNorms
 *   mixtral                        every layer an MoE of num_local_experts
 *                                  experts of intermediate_size
 *   qwen2_moe, qwen3_moe           num_experts of moe_intermediate_size;
 *                                  qwen2_moe's shared expert
 *   deepseek_v3, deepseek_v2       MLA, n_routed_experts + n_shared_experts of
 *                                  moe_intermediate_size, the first
 *                                  first_k_dense_replace layers dense
 *   gpt2                           GELU, LayerNorm, learned positions, biases,
 *                                  tied embeddings (n_embd, n_layer, n_head)
 *   gpt_neox                       GELU, LayerNorm, rotary, biases
 * Defaults are those of each family's Config class in transformers (e.g.
 * num_key_value_heads = num_attention_heads, tie_word_embeddings false but
 * for gpt2).  seq_len is max_position_embeddings (n_positions for gpt2: the
 * learned table's length); pass --seq to train at another length.  dtype is
 * torch_dtype (bfloat16, float16; anything else bf16).  Unknown keys are
 * ignored; a missing required key, a key of the wrong type or out of range,
 * an unsupported model_type or layer pattern fails with the key named;
 * malformed JSON fails with the line (and column) where parsing stopped.
 * The model's name is the folder holding the file ("tests/data/mixtral-8x7b/
 * config.json": mixtral-8x7b); it has no published count. */
#ifndef CS_HF_CONFIG_H
#define CS_HF_CONFIG_H

#include <stddef.h>

#include "cs_error.h"
#include "model.h"

/* The largest config.json read (published ones are a few kilobytes). */
#define HF_CONFIG_MAX_BYTES (1 << 20)

/* Reads and validates (model_validate) the file at path. */
int hf_config_load(const char *path, model_desc *out, cs_err *err);

/* The same from text of len bytes; where names the file in messages. */
int hf_config_parse(const char *text, size_t len, const char *where, model_desc *out,
                    cs_err *err);

#endif
