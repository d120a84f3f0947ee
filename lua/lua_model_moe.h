/* lua_model_moe: the mixture-of-experts and latent-attention keys of
 * model{} tables (lua_hf_config.h reads a config.json into one).
 *
 * Owns the keys head_dim, qkv_bias, qk_norm, experts, topk, moe_ffn,
 * shared_ffn, shared_experts, dense_layers, capacity_factor, q_lora,
 * kv_lora, rope_head_dim, nope_head_dim, v_head_dim (model_moe.h says what
 * each is), written by model{} only when they are used and read back by it,
 * so a table hf_config returns round-trips through estimate{} and the rest. */
#ifndef CS_LUA_MODEL_MOE_H
#define CS_LUA_MODEL_MOE_H

#include <lua.h>

#include "model.h"

/* The keys above (NULL-terminated), for model{}'s key check. */
extern const char *const lua_model_moe_keys[];

/* Reads the keys of the table at idx into m; returns whether one changed. */
int lua_model_moe_read(lua_State *L, int idx, model_desc *m);

/* Sets the used keys of m on the table at the top of the stack. */
void lua_model_moe_push(lua_State *L, const model_desc *m);

#endif
