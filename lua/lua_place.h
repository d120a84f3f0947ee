/* lua_place: place{...} for scenarios: `clustersim place` (sim/placerun) on
 * a graph folder or a catalog model, its figures as a table. */
#ifndef CS_LUA_PLACE_H
#define CS_LUA_PLACE_H

#include <lua.h>

/* Registers the global function `place`. */
void lua_place_open(lua_State *L);

#endif
