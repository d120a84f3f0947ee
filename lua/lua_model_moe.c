/* lua_model_moe: MoE and MLA keys of model{} (see lua_model_moe.h). */
#include "lua_model_moe.h"

#include <lauxlib.h>
#include <string.h>

#include "layout_ep.h"
#include "lua_check.h"

const char *const lua_model_moe_keys[] = {
    "head_dim", "qkv_bias",      "qk_norm",        "experts",       "topk",
    "moe_ffn",  "shared_ffn",    "shared_experts", "dense_layers",  "capacity_factor",
    "q_lora",   "kv_lora",       "rope_head_dim",  "nope_head_dim", "v_head_dim",
    NULL};

typedef struct int_key {
    const char *key;
    int *field;
    long max;
} int_key;

#define NINT_KEYS 12

/* The integer keys and their fields in m (0 means "not used" in each). */
static int int_keys(model_desc *m, int_key k[NINT_KEYS])
{
    int_key all[NINT_KEYS] = {{"head_dim", &m->head_dim_override, 1 << 20},
                     {"experts", &m->moe_experts, 1 << 16},
                     {"topk", &m->moe_topk, 1 << 16},
                     {"moe_ffn", &m->moe_ffn_hidden, MODEL_MAX_FFN},
                     {"shared_ffn", &m->moe_shared_ffn_hidden, MODEL_MAX_FFN},
                     {"shared_experts", &m->moe_shared_experts, 1 << 16},
                     {"dense_layers", &m->moe_dense_layers, 100000},
                     {"q_lora", &m->mla_q_lora_rank, 1 << 20},
                     {"kv_lora", &m->mla_kv_lora_rank, 1 << 20},
                     {"rope_head_dim", &m->mla_rope_head_dim, 1 << 20},
                     {"nope_head_dim", &m->mla_nope_head_dim, 1 << 20},
                     {"v_head_dim", &m->mla_v_head_dim, 1 << 20}};
    for (int i = 0; i < NINT_KEYS; i++)
        k[i] = all[i];
    return NINT_KEYS;
}

int lua_model_moe_read(lua_State *L, int idx, model_desc *m)
{
    int_key k[NINT_KEYS] = {{0}};
    int n = int_keys(m, k), changed = 0;
    for (int i = 0; i < n; i++) {
        int v = (int)lua_check_opt_int(L, idx, "model", k[i].key, *k[i].field, 0, k[i].max);
        changed |= v != *k[i].field;
        *k[i].field = v;
    }
    model_desc was = *m;
    m->qkv_bias = lua_check_opt_bool(L, idx, "model", "qkv_bias", m->qkv_bias);
    m->qk_norm = lua_check_opt_bool(L, idx, "model", "qk_norm", m->qk_norm);
    m->moe_capacity_factor =
        lua_check_opt_number(L, idx, "model", "capacity_factor", m->moe_capacity_factor, 0, 1e6);
    return changed || was.qkv_bias != m->qkv_bias || was.qk_norm != m->qk_norm ||
           was.moe_capacity_factor != m->moe_capacity_factor;
}

void lua_model_moe_push(lua_State *L, const model_desc *m)
{
    int_key k[NINT_KEYS] = {{0}};
    model_desc copy = *m;
    int n = int_keys(&copy, k);
    for (int i = 0; i < n; i++)
        if (*k[i].field) {
            lua_pushinteger(L, *k[i].field);
            lua_setfield(L, -2, k[i].key);
        }
    if (m->qkv_bias) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "qkv_bias");
    }
    if (m->qk_norm) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "qk_norm");
    }
    if (m->moe_capacity_factor > 0) {
        lua_pushnumber(L, m->moe_capacity_factor);
        lua_setfield(L, -2, "capacity_factor");
    }
}

void lua_model_moe_read_layout(lua_State *L, int idx, const char *what, layout_desc *l)
{
    l->ep = (int)lua_check_opt_int(L, idx, what, "ep", 1, 1, 1 << 16);
    l->etp = (int)lua_check_opt_int(L, idx, what, "etp", l->tp, 1, 1 << 16);
    const char *a2a = lua_check_opt_string(L, idx, what, "ep_a2a", "flat");
    if (strcmp(a2a, "flat") != 0 && strcmp(a2a, "hier") != 0)
        luaL_error(L, "%s: 'ep_a2a' is '%s'; it must be flat or hier", what, a2a);
    l->ep_a2a_hier = strcmp(a2a, "hier") == 0;
    l->ep_overlap = lua_check_opt_bool(L, idx, what, "ep_overlap", 0);
    const char *routing = lua_check_opt_string(L, idx, what, "routing", "uniform");
    layout_routing r;
    cs_err err;
    if (layout_routing_parse(routing, "routing", &r, &err) != 0 || r == LAYOUT_ROUTING_HISTOGRAM)
        luaL_error(L, "%s: 'routing' is '%s'; it must be uniform or zipf (a histogram is "
                      "--routing hist:FILE on the command line)", what, routing);
    l->moe_routing = (int)r;
    l->moe_zipf_s = lua_check_opt_number(L, idx, what, "zipf_s", r == LAYOUT_ROUTING_ZIPF ? 1 : 0,
                                         0, 100);
}

void lua_model_moe_push_layout(lua_State *L, const layout_desc *l)
{
    if (layout_ep_of(l) < 2 && layout_etp_of(l) == l->tp)
        return;
    lua_pushinteger(L, layout_ep_of(l));
    lua_setfield(L, -2, "ep");
    lua_pushinteger(L, layout_etp_of(l));
    lua_setfield(L, -2, "etp");
    lua_pushstring(L, l->ep_a2a_hier ? "hier" : "flat");
    lua_setfield(L, -2, "ep_a2a");
    lua_pushboolean(L, l->ep_overlap);
    lua_setfield(L, -2, "ep_overlap");
    lua_pushstring(L, layout_routing_name((layout_routing)l->moe_routing));
    lua_setfield(L, -2, "routing");
    lua_pushnumber(L, l->moe_zipf_s);
    lua_setfield(L, -2, "zipf_s");
}
