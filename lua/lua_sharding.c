/* lua_sharding: the sharding fields of layout tables and search{} (see
 * lua_sharding.h). */
#include "lua_sharding.h"

#include <lauxlib.h>

#include "lua_check.h"
#include "sharding.h"

/* The fields as given; zero -1 when neither zero nor fsdp is. */
typedef struct shard_fields {
    int zero, fsdp, shard_group, has_prefetch, prefetch, no_reshard;
} shard_fields;

static shard_fields read_fields(lua_State *L, int idx, const char *what)
{
    shard_fields f;
    f.fsdp = lua_check_opt_bool(L, idx, what, "fsdp", 0);
    f.zero = (int)lua_check_opt_int(L, idx, what, "zero", -1, 0, SHARDING_MAX_STAGE);
    if (f.fsdp && f.zero >= 0 && f.zero != 3)
        luaL_error(L, "%s: fsdp = true is ZeRO-3 but zero = %d: give one of them", what, f.zero);
    if (f.fsdp)
        f.zero = 3;
    f.shard_group = (int)lua_check_opt_int(L, idx, what, "hsdp_shard", 0, 1, 1 << 24);
    lua_getfield(L, idx, "prefetch");
    f.has_prefetch = !lua_isnil(L, -1);
    lua_pop(L, 1);
    f.prefetch = (int)lua_check_opt_int(L, idx, what, "prefetch", SHARDING_FSDP_PREFETCH, 0,
                                        SHARDING_MAX_PREFETCH);
    f.no_reshard = lua_check_opt_bool(L, idx, what, "no_reshard", 0);
    return f;
}

/* The rules on the fields themselves; zero < 0 (not given) skips them
 * where the stage may vary (search). */
static void check_fields(lua_State *L, const char *what, const shard_fields *f)
{
    if (f->zero < 0)
        return;
    if (f->has_prefetch && f->zero != 3)
        luaL_error(L, "%s: prefetch needs zero = 3 or fsdp = true (only ZeRO-3 gathers "
                      "parameters ahead)", what);
    if (f->no_reshard && f->zero != 3)
        luaL_error(L, "%s: no_reshard needs zero = 3 or fsdp = true (only ZeRO-3 gathers "
                      "parameters to reshard)", what);
    if (f->shard_group && f->zero < 1)
        luaL_error(L, "%s: hsdp_shard needs zero = 1, 2 or 3 (zero 0 shards nothing)", what);
}

void lua_sharding_read(lua_State *L, int idx, const char *what, layout_desc *l)
{
    shard_fields f = read_fields(L, idx, what);
    if (f.zero < 0)
        f.zero = 0;
    check_fields(L, what, &f);
    l->zero = f.zero;
    l->shard_group = f.shard_group;
    l->prefetch = f.prefetch;
    l->no_reshard = f.no_reshard;
}

/* zero always; the others where the stage uses them, so that the table
 * reads back as the same layout (lua_sharding_read's rules). */
void lua_sharding_push(lua_State *L, const layout_desc *l)
{
    lua_pushinteger(L, l->zero);
    lua_setfield(L, -2, "zero");
    if (l->shard_group) {
        lua_pushinteger(L, l->shard_group);
        lua_setfield(L, -2, "hsdp_shard");
    }
    if (l->zero == 3) {
        lua_pushinteger(L, l->prefetch);
        lua_setfield(L, -2, "prefetch");
        lua_pushboolean(L, l->no_reshard);
        lua_setfield(L, -2, "no_reshard");
    }
}

void lua_sharding_read_space(lua_State *L, int idx, const char *what, search_space *sp)
{
    shard_fields f = read_fields(L, idx, what);
    check_fields(L, what, &f);
    if (f.zero >= 0 && sp->fix.zero >= 0 && sp->fix.zero != f.zero)
        luaL_error(L, "%s: fix.zero = %d and zero/fsdp = %d ask for different ZeRO stages",
                   what, sp->fix.zero, f.zero);
    if (f.zero >= 0)
        sp->fix.zero = f.zero;
    sp->shard_group = f.shard_group;
    sp->has_prefetch = f.has_prefetch;
    sp->prefetch = f.prefetch;
    sp->no_reshard = f.no_reshard;
}
