/* lua_estimate: estimate{...} and simulate{...} for scenarios: one training
 * job (lua_api_read_job) priced in closed form or simulated on the engine,
 * its figures, stages and checkpoint as a table, and simulate{}'s timeline
 * for the report functions (docs/lua.md). */
#ifndef CS_LUA_ESTIMATE_H
#define CS_LUA_ESTIMATE_H

#include <lua.h>

/* Registers the globals `estimate` and `simulate`. */
void lua_estimate_open(lua_State *L);

#endif
