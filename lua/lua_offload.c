/* lua_offload: the offload fields of layout tables and search{} (see
 * lua_offload.h). */
#include "lua_offload.h"

#include <lauxlib.h>
#include <string.h>

#include "lua_check.h"
#include "offload.h"

typedef int (*parse_fn)(const char *, const char *, int *, cs_err *);

static int read_name(lua_State *L, int idx, const char *what, const char *key, const char *dflt,
                     parse_fn parse)
{
    const char *text = lua_check_opt_string(L, idx, what, key, dflt);
    int v;
    cs_err err;
    if (parse(text, key, &v, &err) != 0)
        luaL_error(L, "%s: %s", what, err.msg);
    return v;
}

void lua_offload_read(lua_State *L, int idx, const char *what, layout_desc *l)
{
    l->offload = read_name(L, idx, what, "offload", "none", offload_what_parse);
    l->offload_to = read_name(L, idx, what, "offload_to", "cpu", offload_to_parse);
    l->offload_engine = read_name(L, idx, what, "offload_engine", "deepspeed",
                                  offload_engine_parse);
    l->offload_dpu = lua_check_opt_bool(L, idx, what, "offload_dpu", 0);
    l->offload_ckpt_cpu = lua_check_opt_bool(L, idx, what, "offload_checkpoints", 0);
    /* without an offload, layout{} would drop these (lua_offload_push writes
     * them back only with one): refuse them here, as estimate does, rather
     * than lose them silently; with node NULL only this rule applies */
    cs_err err;
    if (l->offload == OFFLOAD_NONE && offload_validate(l, NULL, &err) != 0)
        luaL_error(L, "%s: %s", what, err.msg);
}

void lua_offload_push(lua_State *L, const layout_desc *l)
{
    if (l->offload == OFFLOAD_NONE)
        return;
    lua_pushstring(L, offload_what_name(l->offload));
    lua_setfield(L, -2, "offload");
    lua_pushstring(L, offload_to_name(l->offload_to));
    lua_setfield(L, -2, "offload_to");
    lua_pushstring(L, offload_engine_name(l->offload_engine));
    lua_setfield(L, -2, "offload_engine");
    lua_pushboolean(L, l->offload_dpu);
    lua_setfield(L, -2, "offload_dpu");
    lua_pushboolean(L, l->offload_ckpt_cpu);
    lua_setfield(L, -2, "offload_checkpoints");
}

void lua_offload_read_space(lua_State *L, int idx, const char *what, search_space *sp)
{
    const char *text = lua_check_opt_string(L, idx, what, "offload", "none");
    cs_err err;
    if (strcmp(text, "auto") == 0)
        sp->offload = -1;
    else if (offload_what_parse(text, "offload", &sp->offload, &err) != 0)
        luaL_error(L, "%s: %s (or auto)", what, err.msg);
    lua_getfield(L, idx, "offload_to");
    int given = !lua_isnil(L, -1);
    lua_pop(L, 1);
    sp->offload_to = -1;
    if (given && sp->offload == 0)
        luaL_error(L, "%s: offload_to needs offload = auto, optimizer, params or all", what);
    if (given)
        sp->offload_to = read_name(L, idx, what, "offload_to", "cpu", offload_to_parse);
}

#define GIB (1024.0 * 1024 * 1024)

static void set_num(lua_State *L, const char *key, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, key);
}

static void set_bool(lua_State *L, const char *key, int v)
{
    lua_pushboolean(L, v);
    lua_setfield(L, -2, key);
}

/* r.offload.phases: the utilisation over time (issue 17), one table a
 * phase: name, start_s, dur_s, utilisation {gpu = ..., ...}. */
static void push_phases(lua_State *L, const offload_report *r)
{
    lua_createtable(L, r->nphases, 0);
    for (int p = 0; p < r->nphases; p++) {
        const offload_phase *ph = &r->phases[p];
        lua_createtable(L, 0, 4);
        lua_pushstring(L, ph->name);
        lua_setfield(L, -2, "name");
        set_num(L, "start_s", ph->start_s);
        set_num(L, "dur_s", ph->dur_s);
        lua_createtable(L, 0, OFFLOAD_NRES);
        for (int k = 0; k < OFFLOAD_NRES; k++)
            set_num(L, offload_res_name(k), ph->util[k]);
        lua_setfield(L, -2, "utilisation");
        lua_rawseti(L, -2, p + 1);
    }
    lua_setfield(L, -2, "phases");
}

/* r.offload.fuyou: the placement, layers per choice (offload_fuyou.c). */
static void push_fuyou(lua_State *L, const offload_report *r)
{
    lua_createtable(L, 0, 4);
    set_num(L, "act_hbm_layers", r->fuyou_act_gpu_layers);
    set_num(L, "act_swap_layers", r->fuyou_act_swap_layers);
    set_num(L, "act_recompute_layers", r->fuyou_act_recompute_layers);
    set_num(L, "param_hbm_layers", r->fuyou_param_gpu_layers);
    lua_setfield(L, -2, "fuyou");
}

void lua_offload_push_report(lua_State *L, const offload_report *r)
{
    if (!r->active)
        return;
    lua_createtable(L, 0, 20);
    set_num(L, "gpu_gib", r->gpu_bytes / GIB);
    set_num(L, "gpu_capacity_gib", r->gpu_capacity_bytes / GIB);
    set_num(L, "dram_gib", r->dram_bytes / GIB);
    set_num(L, "dram_capacity_gib", r->dram_capacity_bytes / GIB);
    set_num(L, "nvme_gib", r->nvme_bytes / GIB);
    set_num(L, "nvme_capacity_gib", r->nvme_capacity_bytes / GIB);
    set_bool(L, "fits_hbm", r->fits_hbm);
    set_bool(L, "fits_dram", r->fits_dram);
    set_bool(L, "fits_nvme", r->fits_nvme);
    set_num(L, "h2d_gb", r->h2d_bytes / 1e9);
    set_num(L, "d2h_gb", r->d2h_bytes / 1e9);
    set_num(L, "nvme_read_gb", r->nvme_read_bytes / 1e9);
    set_num(L, "nvme_write_gb", r->nvme_write_bytes / 1e9);
    set_num(L, "cpu_step_s", r->cpu_step_s);
    set_num(L, "exposed_s", r->exposed_s);
    lua_createtable(L, 0, OFFLOAD_NRES);
    for (int k = 0; k < OFFLOAD_NRES; k++)
        set_num(L, offload_res_name(k), r->util[k]);
    lua_setfield(L, -2, "utilisation");
    lua_pushstring(L, offload_res_name(r->bottleneck));
    lua_setfield(L, -2, "bottleneck");
    push_phases(L, r);
    if (r->fuyou_act_gpu_layers + r->fuyou_act_swap_layers + r->fuyou_act_recompute_layers > 0)
        push_fuyou(L, r);
    lua_setfield(L, -2, "offload");
}
