/* lua_offload: the offload fields of Lua's layout tables and of search{}
 * (offload, offload_to, offload_engine, offload_dpu), as the command line's
 * --offload, --offload-to, --offload-engine and --offload-dpu
 * (costmodel/offload.h has the model and the rules).  A name that is not
 * one of the choices raises a Lua error naming the field; the combination
 * rules stay offload_validate's (the estimate reports them). */
#ifndef CS_LUA_OFFLOAD_H
#define CS_LUA_OFFLOAD_H

#include <lua.h>

#include "estimate.h"
#include "layout.h"
#include "search.h"

/* The keys it reads, for lua_check_keys lists. */
#define LUA_OFFLOAD_KEYS "offload", "offload_to", "offload_engine", "offload_dpu", \
    "offload_checkpoints"

/* Reads the fields of the layout table at idx into l. */
void lua_offload_read(lua_State *L, int idx, const char *what, layout_desc *l);

/* Sets the fields on the table at the top of the stack (only when the
 * layout offloads, so other layouts read back as before). */
void lua_offload_push(lua_State *L, const layout_desc *l);

/* The estimate's `offload` table on the result at the top of the stack:
 * each tier's GiB, capacity and fit, the traffic, the CPU step, the time
 * offload adds, each resource's utilisation and the bottleneck; nothing
 * when the layout offloads nothing. */
void lua_offload_push_report(lua_State *L, const offload_report *r);

/* search{}: offload = "auto" (every offload the rules allow, and none),
 * or one of optimizer, params, all; offload_to pins the tier. */
void lua_offload_read_space(lua_State *L, int idx, const char *what, search_space *sp);

#endif
