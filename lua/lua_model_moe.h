/* lua_model_moe: the mixture-of-experts and latent-attention keys of
 * model{} tables (lua_hf_config.h reads a config.json into one), and the
 * expert-parallel keys of layout{} tables: ep, etp (default tp), ep_a2a
 * ("flat", "hier"), ep_overlap (boolean), routing ("uniform", "zipf") and
 * zipf_s (layout_ep.h); a measured histogram is the command line's
 * (--routing hist:FILE).
 *
 * Owns the keys head_dim, qkv_bias, qk_norm, experts, topk, moe_ffn,
 * shared_ffn, shared_experts, dense_layers, capacity_factor, q_lora,
 * kv_lora, rope_head_dim, nope_head_dim, v_head_dim (model_moe.h says what
 * each is), written by model{} only when they are used and read back by it,
 * so a table hf_config returns round-trips through estimate{} and the rest. */
#ifndef CS_LUA_MODEL_MOE_H
#define CS_LUA_MODEL_MOE_H

#include <lua.h>

#include "layout.h"
#include "model.h"

/* The keys above (NULL-terminated), for model{}'s key check. */
extern const char *const lua_model_moe_keys[];

/* Reads the keys of the table at idx into m; returns whether one changed. */
int lua_model_moe_read(lua_State *L, int idx, model_desc *m);

/* Sets the used keys of m on the table at the top of the stack. */
void lua_model_moe_push(lua_State *L, const model_desc *m);

/* Reads the expert-parallel keys of the layout table at idx into l. */
void lua_model_moe_read_layout(lua_State *L, int idx, const char *what, layout_desc *l);

/* Sets them on the table at the top of the stack when ep > 1 or etp != tp. */
void lua_model_moe_push_layout(lua_State *L, const layout_desc *l);

#endif
