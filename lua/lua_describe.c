/* lua_describe: system{}, model{} and layout{} (see lua_describe.h). */
#include "lua_describe.h"
#include "lua_model_moe.h"

#include <lauxlib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lua_check.h"
#include "lua_offload.h"
#include "lua_sharding.h"
#include "tiers_spec.h"
#include "lua_limits.h"

#define GBIT_BYTES (1e9 / 8) /* bytes per second in one Gb/s */

static void fail(lua_State *L, const char *what, const cs_err *err)
{
    luaL_error(L, "%s: %s", what, err->msg);
}

/* A derived field given back must match what the others imply. */
static void check_derived(lua_State *L, int idx, const char *what, const char *key, double value,
                          const char *rule)
{
    lua_getfield(L, idx, key);
    if (!lua_isnil(L, -1)) {
        double given = lua_tonumber(L, -1);
        if (lua_type(L, -1) != LUA_TNUMBER || fabs(given - value) > 1e-9 * fabs(value)) {
            char implied[32];
            snprintf(implied, sizeof implied, "%.15g", value);
            luaL_error(L, "%s: '%s' is %s = %s, not %s; remove it or fix the other fields",
                       what, key, rule, implied, luaL_tolstring(L, -1, NULL));
        }
    }
    lua_pop(L, 1);
}

static void set_string(lua_State *L, const char *key, const char *value)
{
    lua_pushstring(L, value);
    lua_setfield(L, -2, key);
}

static void set_number(lua_State *L, const char *key, double value)
{
    if (value == floor(value) && fabs(value) < 9e15)
        lua_pushinteger(L, (lua_Integer)value);
    else
        lua_pushnumber(L, value);
    lua_setfield(L, -2, key);
}

static void set_bool(lua_State *L, const char *key, int value)
{
    lua_pushboolean(L, value);
    lua_setfield(L, -2, key);
}

/* ---- systems ---------------------------------------------------------------- */

static const char *const system_keys[] = {
    "base", "name", "nodes", "gpu", "gpus_per_node", "nvlink_gbs", "nics", "nic_gbps",
    "network", "nics_per_leaf", "oversubscription", "gpus", "routing", NULL};

/* A system from scratch needs every field that has no sensible default. */
static void system_from_fields(lua_State *L, int idx, sys_system *out)
{
    static const char *const needed[] = {"gpu", "gpus_per_node", "nvlink_gbs", "nics",
                                         "nic_gbps", "network", NULL};
    for (int i = 0; needed[i]; i++) {
        lua_getfield(L, idx, needed[i]);
        if (lua_isnil(L, -1))
            luaL_error(L, "system: '%s' is required without 'base' (or start from a built-in: "
                          "base = \"dgx-h100\"; see 'clustersim system')", needed[i]);
        lua_pop(L, 1);
    }
    cs_err err;
    const dev_type *gpu = dev_find(lua_check_opt_string(L, idx, "system", "gpu", NULL), &err);
    if (!gpu)
        fail(L, "system", &err);
    memset(out, 0, sizeof *out);
    out->ngroups = 1;
    sys_node_init(&out->groups[0].node, "custom", gpu, 8, 0, 8, 0);
    sys_network_init(&out->net, SYS_NET_FAT_TREE2, 32);
}

/* The fields a table sets on top of its base. */
static void system_overrides(lua_State *L, int idx, sys_system *s)
{
    const char *W = "system";
    cs_err err;
    sys_node_type *n = &s->groups[0].node;
    const char *gpu = lua_check_opt_string(L, idx, W, "gpu", NULL);
    if (gpu && !(n->gpu = dev_find(gpu, &err)))
        fail(L, W, &err);
    n->gpus = (int)lua_check_opt_int(L, idx, W, "gpus_per_node", n->gpus, 1, SYS_MAX_GPUS_PER_NODE);
    n->nics = (int)lua_check_opt_int(L, idx, W, "nics", n->nics, 0, SYS_MAX_NICS_PER_NODE);
    sys_node_spread_nics(n);
    n->nvlink_bw_bytes_per_s =
        1e9 * lua_check_opt_number(L, idx, W, "nvlink_gbs", n->nvlink_bw_bytes_per_s / 1e9, 1e-3, 1e6);
    n->nic_bw_bytes_per_s =
        GBIT_BYTES * lua_check_opt_number(L, idx, W, "nic_gbps", n->nic_bw_bytes_per_s / GBIT_BYTES,
                                        1e-3, 1e7);
    sys_network before = s->net;
    const char *net = lua_check_opt_string(L, idx, W, "network", NULL);
    if (net && sys_net_kind_parse(net, "network", &s->net.kind, &err) != 0)
        fail(L, W, &err);
    s->net.nics_per_leaf =
        (int)lua_check_opt_int(L, idx, W, "nics_per_leaf", s->net.nics_per_leaf, 1, 1 << 16);
    s->net.oversubscription =
        lua_check_opt_number(L, idx, W, "oversubscription", s->net.oversubscription, 1, 1024);
    if (s->net.kind != before.kind || s->net.nics_per_leaf != before.nics_per_leaf ||
        s->net.oversubscription != before.oversubscription) /* no longer the base's shape */
        s->net.topology_source = "given by the scenario (system{network = ...})";
    if (s->net.kind != before.kind && (s->net.kind == SYS_NET_TORUS2D ||
                                       s->net.kind == SYS_NET_TORUS3D)) {
        /* the base's switch routing does not carry over to a torus */
        s->net.routing = SYS_ROUTE_ECMP;
        s->net.routing_source = "a torus: each flow hashed over its minimal paths";
    }
    const char *routing = lua_check_opt_string(L, idx, W, "routing", NULL);
    if (routing) {
        if (sys_routing_parse(routing, "routing", &s->net.routing, &err) != 0)
            fail(L, W, &err);
        s->net.routing_source = "given by the scenario (system{routing = ...})";
    }
}

void lua_describe_system(lua_State *L, int idx, const char *what, sys_system *out)
{
    idx = lua_absindex(L, idx);
    if (!lua_istable(L, idx))
        luaL_error(L, "%s: 'system' must be a name or a table as system{} returns, not %s", what,
                   luaL_typename(L, idx));
    lua_check_keys(L, idx, "system", system_keys);
    cs_err err;
    int nodes = (int)lua_check_opt_int(L, idx, "system", "nodes", 0, 0, 1 << 20);
    if (nodes < 1)
        luaL_error(L, "system: 'nodes' is required (a whole number from 1)");
    const char *base = lua_check_opt_string(L, idx, "system", "base", NULL);
    if (base && sys_from_spec(base, nodes, out, &err) != 0) /* NAME or NAME:nvme=N */
        fail(L, "system", &err);
    if (!base)
        system_from_fields(L, idx, out);
    out->groups[0].count = nodes;
    system_overrides(L, idx, out);
    const char *name = lua_check_opt_string(L, idx, "system", "name", base ? base : "custom");
    snprintf(out->name, sizeof out->name, "%s", name);
    snprintf(out->groups[0].node.name, sizeof out->groups[0].node.name, "%s", name);
    if (sys_validate(out, &err) != 0)
        fail(L, "system", &err);
    check_derived(L, idx, "system", "gpus", sys_total_gpus(out), "nodes x gpus_per_node");
}

static int system_tostring(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "name");
    lua_getfield(L, 1, "nodes");
    lua_getfield(L, 1, "gpus_per_node");
    lua_getfield(L, 1, "gpu");
    lua_getfield(L, 1, "nvlink_gbs");
    lua_getfield(L, 1, "nics");
    lua_getfield(L, 1, "nic_gbps");
    lua_getfield(L, 1, "network");
    lua_pushfstring(L, "%s: %s nodes x %s %s, NVLink %s GB/s, %s x %s Gb/s NICs, %s",
                    lua_tostring(L, 2), lua_tostring(L, 3), lua_tostring(L, 4), lua_tostring(L, 5),
                    lua_tostring(L, 6), lua_tostring(L, 7), lua_tostring(L, 8), lua_tostring(L, 9));
    return 1;
}

static void push_system(lua_State *L, const sys_system *s, const char *base)
{
    const sys_node_type *n = &s->groups[0].node;
    lua_createtable(L, 0, 12);
    if (base)
        set_string(L, "base", base);
    set_string(L, "name", s->name);
    set_number(L, "nodes", s->groups[0].count);
    set_string(L, "gpu", n->gpu->name);
    set_number(L, "gpus_per_node", n->gpus);
    set_number(L, "nvlink_gbs", n->nvlink_bw_bytes_per_s / 1e9);
    set_number(L, "nics", n->nics);
    set_number(L, "nic_gbps", n->nic_bw_bytes_per_s / GBIT_BYTES);
    set_string(L, "network", sys_net_kind_name(s->net.kind));
    set_number(L, "nics_per_leaf", s->net.nics_per_leaf);
    set_number(L, "oversubscription", s->net.oversubscription);
    set_string(L, "routing", sys_routing_name(s->net.routing));
    set_number(L, "gpus", sys_total_gpus(s));
    luaL_setmetatable(L, "clustersim.system");
}

static int api_system(lua_State *L)
{
    lua_limits_check_cpu(L, "system{}");
    sys_system s;
    lua_describe_system(L, 1, "system", &s);
    push_system(L, &s, lua_check_opt_string(L, 1, "system", "base", NULL));
    return 1;
}

/* ---- models ----------------------------------------------------------------- */

static const char *const model_core_keys[] = {
    "base", "name", "layers", "hidden", "heads", "kv_heads", "ffn", "vocab", "seq", "mlp", "norm",
    "pos", "embeddings", "bias", "dtype", "params", NULL};

/* model{}'s keys: the core ones and lua_model_moe's. */
static void check_model_keys(lua_State *L, int idx)
{
    static const char *all[64];
    if (!all[0]) {
        int n = 0;
        for (int i = 0; model_core_keys[i]; i++)
            all[n++] = model_core_keys[i];
        for (int i = 0; lua_model_moe_keys[i]; i++)
            all[n++] = lua_model_moe_keys[i];
        all[n] = NULL;
    }
    lua_check_keys(L, idx, "model", all);
}

typedef struct int_field {
    const char *key;
    int *field;
    long max;
} int_field;

/* Sets the enum fields given by name; returns whether one changed. */
static int model_choices(lua_State *L, int idx, model_desc *m)
{
    const char *W = "model";
    cs_err err;
    model_desc was = *m;
    const char *mlp = lua_check_opt_string(L, idx, W, "mlp", NULL);
    const char *norm = lua_check_opt_string(L, idx, W, "norm", NULL);
    const char *pos = lua_check_opt_string(L, idx, W, "pos", NULL);
    const char *emb = lua_check_opt_string(L, idx, W, "embeddings", NULL);
    const char *dtype = lua_check_opt_string(L, idx, W, "dtype", NULL);
    if ((mlp && model_mlp_parse(mlp, "mlp", &m->mlp, &err) != 0) ||
        (norm && model_norm_parse(norm, "norm", &m->norm, &err) != 0) ||
        (pos && model_pos_parse(pos, "pos", &m->pos, &err) != 0) ||
        (dtype && model_dtype_parse(dtype, "dtype", &m->dtype, &err) != 0))
        fail(L, W, &err);
    if (emb && strcmp(emb, "tied") != 0 && strcmp(emb, "untied") != 0)
        luaL_error(L, "model: 'embeddings' is '%s'; it must be tied or untied", emb);
    if (emb)
        m->tied_embeddings = strcmp(emb, "tied") == 0;
    m->linear_bias = lua_check_opt_bool(L, idx, W, "bias", m->linear_bias);
    return m->mlp != was.mlp || m->norm != was.norm || m->pos != was.pos ||
           m->tied_embeddings != was.tied_embeddings || m->linear_bias != was.linear_bias;
}

static void model_from_table(lua_State *L, int idx, model_desc *m)
{
    check_model_keys(L, idx);
    cs_err err;
    const char *base = lua_check_opt_string(L, idx, "model", "base", NULL);
    if (base && model_find(base, m, &err) != 0)
        fail(L, "model", &err);
    if (!base) {
        int sizes[3];
        static const char *const needed[] = {"layers", "hidden", "heads"};
        for (int i = 0; i < 3; i++) {
            sizes[i] = (int)lua_check_opt_int(L, idx, "model", needed[i], 0, 0, 1 << 22);
            if (!sizes[i])
                luaL_error(L, "model: '%s' is required without 'base' (or start from a built-in: "
                              "base = \"llama3-70b\"; see 'clustersim model')", needed[i]);
        }
        model_custom(m, sizes[0], sizes[1], sizes[2]);
    }
    int_field f[] = {{"layers", &m->layers, MODEL_MAX_LAYERS},
                     {"hidden", &m->hidden, MODEL_MAX_HIDDEN},
                     {"heads", &m->heads, MODEL_MAX_HEADS},
                     {"kv_heads", &m->kv_heads, MODEL_MAX_HEADS},
                     {"ffn", &m->ffn_hidden, MODEL_MAX_FFN},
                     {"vocab", &m->vocab, MODEL_MAX_VOCAB},
                     {"seq", &m->seq_len, MODEL_MAX_SEQ}};
    int changed = 0;
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        int v = (int)lua_check_opt_int(L, idx, "model", f[i].key, *f[i].field, 1, f[i].max);
        changed |= v != *f[i].field && strcmp(f[i].key, "seq") != 0; /* seq: not the count */
        *f[i].field = v;
    }
    changed |= model_choices(L, idx, m);
    changed |= lua_model_moe_read(L, idx, m);
    if (changed && base) {
        snprintf(m->name, sizeof m->name, "%.36s (modified)", base);
        m->published_params = m->published_step_params = 0;
        m->params_source = NULL;
    }
    const char *name = lua_check_opt_string(L, idx, "model", "name", NULL);
    if (name)
        snprintf(m->name, sizeof m->name, "%s", name);
    if (model_validate(m, &err) != 0)
        fail(L, "model", &err);
    check_derived(L, idx, "model", "params", model_params(m), "the count the shape implies");
}

void lua_describe_model(lua_State *L, int idx, const char *what, model_desc *out)
{
    idx = lua_absindex(L, idx);
    cs_err err;
    if (lua_type(L, idx) == LUA_TSTRING) {
        if (model_find(lua_tostring(L, idx), out, &err) != 0)
            fail(L, what, &err);
        return;
    }
    if (!lua_istable(L, idx))
        luaL_error(L, "%s: 'model' must be a name or a table as model{} returns, not %s", what,
                   luaL_typename(L, idx));
    model_from_table(L, idx, out);
}

static int model_tostring(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_getfield(L, 1, "name");
    lua_getfield(L, 1, "params");
    lua_getfield(L, 1, "layers");
    lua_getfield(L, 1, "hidden");
    lua_getfield(L, 1, "seq");
    lua_pushfstring(L, "%s: %f B parameters, %s layers, hidden %s, sequence %s",
                    lua_tostring(L, 2), lua_tonumber(L, 3) / 1e9, lua_tostring(L, 4),
                    lua_tostring(L, 5), lua_tostring(L, 6));
    return 1;
}

void lua_describe_push_model(lua_State *L, const model_desc *m)
{
    lua_createtable(L, 0, 16);
    set_string(L, "name", m->name);
    int_field f[] = {{"layers", (int *)&m->layers, 0},   {"hidden", (int *)&m->hidden, 0},
                     {"heads", (int *)&m->heads, 0},     {"kv_heads", (int *)&m->kv_heads, 0},
                     {"ffn", (int *)&m->ffn_hidden, 0},  {"vocab", (int *)&m->vocab, 0},
                     {"seq", (int *)&m->seq_len, 0}};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        set_number(L, f[i].key, *f[i].field);
    set_string(L, "mlp", model_mlp_name(m->mlp));
    set_string(L, "norm", model_norm_name(m->norm));
    set_string(L, "pos", model_pos_name(m->pos));
    set_string(L, "embeddings", m->tied_embeddings ? "tied" : "untied");
    set_bool(L, "bias", m->linear_bias);
    set_string(L, "dtype", model_dtype_name(m->dtype));
    set_number(L, "params", model_params(m));
    lua_model_moe_push(L, m);
    luaL_setmetatable(L, "clustersim.model");
}

static int api_model(lua_State *L)
{
    lua_limits_check_cpu(L, "model{}");
    model_desc m;
    if (lua_type(L, 1) == LUA_TSTRING) /* model "llama3-70b": the catalog entry */
        lua_describe_model(L, 1, "model", &m);
    else
        model_from_table(L, 1, &m);
    lua_describe_push_model(L, &m);
    return 1;
}

/* ---- layouts ---------------------------------------------------------------- */

const char *const lua_describe_layout_keys[] = {
    "tp", "pp", "dp", "vpp", "mbs", "gbs", "schedule", "sp", "recompute", "dtype",
    "attention", "framework", "gpus", "microbatches", LUA_SHARDING_KEYS, LUA_OFFLOAD_KEYS,
    "post_validation", "cp", "cp_comm", /* context parallelism */
    "ep", "etp", "ep_a2a", "ep_overlap", "routing", "zipf_s", /* lua_model_moe */
    "first_layers", "last_layers", /* uneven pipeline stages (layout_stages.h) */
    NULL};

static void layout_choices(lua_State *L, int idx, const char *W, const model_desc *m,
                           layout_desc *l)
{
    cs_err err;
    const char *sched = lua_check_opt_string(L, idx, W, "schedule", l->vpp > 1 ? "interleaved" : "1f1b");
    const char *rec = lua_check_opt_string(L, idx, W, "recompute", "none");
    const char *dtype = lua_check_opt_string(L, idx, W, "dtype", model_dtype_name(m->dtype));
    const char *attn = lua_check_opt_string(L, idx, W, "attention", "flash");
    const char *fw = lua_check_opt_string(L, idx, W, "framework", "megatron-core");
    const char *cp_comm = lua_check_opt_string(L, idx, W, "cp_comm", "p2p");
    if (layout_cp_comm_parse(cp_comm, "cp_comm", &l->cp_comm, &err) != 0)
        fail(L, W, &err);
    if (layout_schedule_parse(sched, "schedule", &l->schedule, &err) != 0 ||
        framework_parse(fw, "framework", &l->framework, &err) != 0 ||
        layout_recompute_parse(rec, "recompute", &l->recompute, &err) != 0 ||
        model_dtype_parse(dtype, "dtype", &l->dtype, &err) != 0)
        fail(L, W, &err);
    if (strcmp(attn, "flash") != 0 && strcmp(attn, "unfused") != 0)
        luaL_error(L, "%s: 'attention' is '%s'; it must be flash or unfused", W, attn);
    l->flash_attention = strcmp(attn, "flash") == 0;
    l->post_validation = lua_check_opt_bool(L, idx, W, "post_validation", 0);
}

void lua_describe_layout(lua_State *L, int idx, const char *W, const model_desc *m, long gpus,
                         layout_desc *l)
{
    idx = lua_absindex(L, idx);
    layout_init(l, m);
    l->tp = (int)lua_check_opt_int(L, idx, W, "tp", 1, 1, 1 << 16);
    l->pp = (int)lua_check_opt_int(L, idx, W, "pp", 1, 1, 1 << 16);
    l->cp = (int)lua_check_opt_int(L, idx, W, "cp", 1, 1, 1 << 16);
    long rest = gpus / ((long)l->tp * l->cp * l->pp);
    l->dp = (int)lua_check_opt_int(L, idx, W, "dp", rest > 0 ? rest : 1, 1, 1 << 24);
    l->vpp = (int)lua_check_opt_int(L, idx, W, "vpp", 1, 1, 1024);
    /* uneven pipeline stages: layout_validate applies their rules */
    l->pp_first_layers = (int)lua_check_opt_int(L, idx, W, "first_layers", 0, 0, 1 << 20);
    l->pp_last_layers = (int)lua_check_opt_int(L, idx, W, "last_layers", 0, 0, 1 << 20);
    l->mbs = (int)lua_check_opt_int(L, idx, W, "mbs", 1, 1, 1 << 20);
    l->gbs = (int)lua_check_opt_int(L, idx, W, "gbs", (lua_Integer)l->dp * l->mbs, 1, 1 << 28);
    l->sp = lua_check_opt_bool(L, idx, W, "sp", 0);
    lua_sharding_read(L, idx, W, l);
    lua_offload_read(L, idx, W, l);
    layout_choices(L, idx, W, m, l);
    lua_model_moe_read_layout(L, idx, W, l);
    check_derived(L, idx, W, "gpus", (double)layout_gpus(l), "tp x cp x pp x dp");
    if (l->gbs % ((long)l->dp * l->mbs) != 0)
        luaL_error(L, "%s: gbs %d is not a multiple of dp x mbs = %d x %d", W, l->gbs, l->dp,
                   l->mbs);
    check_derived(L, idx, W, "microbatches", layout_microbatches(l), "gbs / (dp x mbs)");
}

/* A model for reading a layout on its own: only its dtype is used, as the
 * default of the layout's (a layout{} table keeps dtype only when given). */
static void any_model(model_desc *m)
{
    model_custom(m, 1, 64, 1);
}

static int layout_tostring(lua_State *L)
{
    model_desc any;
    any_model(&any);
    layout_desc l;
    char text[160];
    lua_describe_layout(L, 1, "layout", &any, 0, &l);
    lua_pushstring(L, layout_describe(&l, text, sizeof text));
    return 1;
}

void lua_describe_push_layout(lua_State *L, const layout_desc *l, int has_dtype)
{
    lua_createtable(L, 0, 16);
    const struct { const char *key; int value; } ints[] = {
        {"tp", l->tp}, {"pp", l->pp}, {"dp", l->dp}, {"vpp", l->vpp}, {"mbs", l->mbs},
        {"gbs", l->gbs}, {"microbatches", layout_microbatches(l)}, {"cp", layout_cp_of(l)},
        {"first_layers", l->pp_first_layers}, {"last_layers", l->pp_last_layers}};
    for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++)
        set_number(L, ints[i].key, ints[i].value);
    set_number(L, "gpus", (double)layout_gpus(l));
    set_bool(L, "sp", l->sp);
    set_string(L, "schedule", layout_schedule_name(l->schedule));
    set_string(L, "recompute", layout_recompute_name(l->recompute));
    set_string(L, "attention", l->flash_attention ? "flash" : "unfused");
    set_string(L, "framework", framework_name(l->framework));
    lua_sharding_push(L, l);
    lua_offload_push(L, l);
    set_bool(L, "post_validation", l->post_validation);
    set_string(L, "cp_comm", layout_cp_comm_name(l->cp_comm));
    if (has_dtype)
        set_string(L, "dtype", model_dtype_name(l->dtype));
    lua_model_moe_push_layout(L, l);
    luaL_setmetatable(L, "clustersim.layout");
}

static int api_layout(lua_State *L)
{
    lua_limits_check_cpu(L, "layout{}");
    lua_check_keys(L, 1, "layout", lua_describe_layout_keys);
    lua_getfield(L, 1, "dp");
    int has_dp = !lua_isnil(L, -1);
    lua_getfield(L, 1, "dtype");
    int has_dtype = !lua_isnil(L, -1);
    lua_pop(L, 2);
    long gpus = (long)lua_check_opt_int(L, 1, "layout", "gpus", 0, 0, 1 << 24);
    if (!has_dp && !gpus)
        luaL_error(L, "layout: give 'dp' (or 'gpus', and dp = gpus / (tp x cp x pp))");
    model_desc any;
    any_model(&any);
    layout_desc l;
    lua_describe_layout(L, 1, "layout", &any, gpus, &l);
    lua_describe_push_layout(L, &l, has_dtype);
    return 1;
}

void lua_describe_open(lua_State *L)
{
    static const struct { const char *name; lua_CFunction tostring; } metas[] = {
        {"clustersim.system", system_tostring},
        {"clustersim.model", model_tostring},
        {"clustersim.layout", layout_tostring}};
    for (size_t i = 0; i < sizeof metas / sizeof metas[0]; i++) {
        luaL_newmetatable(L, metas[i].name);
        lua_pushcfunction(L, metas[i].tostring);
        lua_setfield(L, -2, "__tostring");
        lua_pop(L, 1);
    }
    lua_register(L, "system", api_system);
    lua_register(L, "model", api_model);
    lua_register(L, "layout", api_layout);
}
