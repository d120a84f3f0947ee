/* lua_sharding: the sharding fields of Lua's layout tables and of search{}
 * (zero 0..3, fsdp, hsdp_shard, prefetch, no_reshard), as the command
 * line's --zero, --fsdp, --hsdp-shard, --prefetch and --no-reshard
 * (cli/cli_shardopt.h; the formulas in costmodel/sharding.h).
 *
 * The fields' own rules raise a Lua error naming the field: fsdp = true is
 * zero 3, so another zero contradicts it; prefetch and no_reshard need
 * zero 3; hsdp_shard needs zero >= 1.  The layout's rules (dp > 1, the
 * group divides dp) stay layout_validate's. */
#ifndef CS_LUA_SHARDING_H
#define CS_LUA_SHARDING_H

#include <lua.h>

#include "layout.h"
#include "search.h"

/* The keys it reads, for lua_check_keys lists. */
#define LUA_SHARDING_KEYS "zero", "fsdp", "hsdp_shard", "prefetch", "no_reshard"

/* Reads the fields of the layout table at idx into l (layout_init'ed). */
void lua_sharding_read(lua_State *L, int idx, const char *what, layout_desc *l);

/* Sets the fields on the table at the top of the stack. */
void lua_sharding_push(lua_State *L, const layout_desc *l);

/* search{}: zero (pins the knob, as fix.zero) or fsdp, and the shard group
 * and ZeRO-3 settings for the stages that use them. */
void lua_sharding_read_space(lua_State *L, int idx, const char *what, search_space *sp);

#endif
