/* lua_search: search{...} for scenarios: the layout search of `clustersim
 * search` (costmodel/search, sim/searchsim) with its ranked layouts as a
 * Lua table. */
#ifndef CS_LUA_SEARCH_H
#define CS_LUA_SEARCH_H

#include <lua.h>

/* Registers the global function `search`. */
void lua_search_open(lua_State *L);

#endif
