/* lua_collective: collective{...} for scenarios.
 *
 * Owns the Lua face of one collective on a system: the first `gpus` GPUs
 * of the system as the group, an operation, a size, an algorithm (or the
 * fastest by the closed form), simulated as flows on the engine or from the
 * closed form.  The result carries nccl-tests' figures: time, algbw and
 * busbw (docs/collectives.md). */
#ifndef CS_LUA_COLLECTIVE_H
#define CS_LUA_COLLECTIVE_H

#include <lua.h>

/* Registers the global function `collective`. */
void lua_collective_open(lua_State *L);

#endif
