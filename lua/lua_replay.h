/* lua_replay: replay{...} for scenarios.
 *
 * Owns the Lua face of sim/replay: a set of per-rank Chakra execution
 * traces (`chakra`, a folder or a prefix) simulated on a system (`system`,
 * `nodes`, `gpus`: the traces' ranks by default); `price_compute` prices
 * compute nodes that carry num_ops with the kernel model.  The result:
 * iteration_s, the counts, a `ranks` list with each rank's breakdown, and
 * the timeline (report.timeline writes its trace). */
#ifndef CS_LUA_REPLAY_H
#define CS_LUA_REPLAY_H

#include <lua.h>

/* Registers the global function `replay`. */
void lua_replay_open(lua_State *L);

#endif
