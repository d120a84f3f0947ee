/* lua_hf_config: hf_config(path) (see lua_hf_config.h). */
#include "lua_hf_config.h"

#include <lauxlib.h>

#include "hf_config.h"
#include "lua_describe.h"
#include "lua_limits.h"

static int api_hf_config(lua_State *L)
{
    lua_limits_check_cpu(L, "hf_config()");
    const char *path = luaL_checkstring(L, 1);
    lua_limits_check_read(L, "hf_config", path);
    model_desc m;
    cs_err err;
    if (hf_config_load(path, &m, &err) != 0)
        return luaL_error(L, "hf_config: %s", err.msg);
    lua_describe_push_model(L, &m);
    return 1;
}

void lua_hf_config_open(lua_State *L) { lua_register(L, "hf_config", api_hf_config); }
