/* lua_stragglers: stragglers{...} for scenarios: `clustersim stragglers`
 * (sim/stragglers) on a job given as estimate{} takes it, its figures as a
 * table (docs/lua.md). */
#ifndef CS_LUA_STRAGGLERS_H
#define CS_LUA_STRAGGLERS_H

#include <lua.h>

/* Registers the global function `stragglers`. */
void lua_stragglers_open(lua_State *L);

#endif
