/* lua_goodput: goodput{...} for scenarios: the job simulation of
 * `clustersim faults` (costmodel/goodput) with its figures as a table. */
#ifndef CS_LUA_GOODPUT_H
#define CS_LUA_GOODPUT_H

#include <lua.h>

/* Registers the global function `goodput`. */
void lua_goodput_open(lua_State *L);

#endif
