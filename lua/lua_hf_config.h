/* lua_hf_config: hf_config(path), a HuggingFace config.json (traces/
 * hf_config.h) as a model table, the one model{} returns: usable wherever a
 * model is (estimate{model = hf_config("config.json"), ...}).  The path
 * must lie below a folder the scenario may read. */
#ifndef CS_LUA_HF_CONFIG_H
#define CS_LUA_HF_CONFIG_H

#include <lua.h>

/* Registers hf_config(path) as a global. */
void lua_hf_config_open(lua_State *L);

#endif
