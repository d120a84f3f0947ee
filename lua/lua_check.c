/* lua_check: the checks on the tables scenarios pass (see lua_check.h). */
#include "lua_check.h"

#include <lauxlib.h>
#include <string.h>

void lua_check_keys(lua_State *L, int idx, const char *what, const char *const *allowed)
{
    idx = lua_absindex(L, idx);
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        const char *key = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        int known = 0;
        for (int i = 0; key && allowed[i]; i++)
            known |= strcmp(key, allowed[i]) == 0;
        if (!known) {
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            for (int i = 0; allowed[i]; i++) {
                luaL_addstring(&b, i ? ", " : "");
                luaL_addstring(&b, allowed[i]);
            }
            luaL_pushresult(&b);
            luaL_error(L, "%s: unknown key '%s'; valid keys: %s", what,
                       key ? key : luaL_typename(L, -2), lua_tostring(L, -1));
        }
    }
}

lua_Integer lua_check_opt_int(lua_State *L, int idx, const char *what, const char *key,
                              lua_Integer def, lua_Integer min, lua_Integer max)
{
    lua_getfield(L, idx, key);
    lua_Integer v = def;
    if (!lua_isnil(L, -1)) {
        int isint = 0;
        if (lua_type(L, -1) == LUA_TNUMBER)
            v = lua_tointegerx(L, -1, &isint);
        if (!isint)
            luaL_error(L, "%s: '%s' must be a whole number, not %s", what, key,
                       luaL_typename(L, -1));
        if (v < min || v > max)
            luaL_error(L, "%s: '%s' is %I; it must be from %I to %I", what, key, v, min, max);
    }
    lua_pop(L, 1);
    return v;
}

double lua_check_opt_number(lua_State *L, int idx, const char *what, const char *key, double def,
                            double min, double max)
{
    lua_getfield(L, idx, key);
    double v = def;
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TNUMBER)
            luaL_error(L, "%s: '%s' must be a number, not %s", what, key, luaL_typename(L, -1));
        v = lua_tonumber(L, -1);
        if (!(v >= min && v <= max))
            luaL_error(L, "%s: '%s' is %f; it must be from %f to %f", what, key, v, min, max);
    }
    lua_pop(L, 1);
    return v;
}

const char *lua_check_opt_string(lua_State *L, int idx, const char *what, const char *key,
                               const char *def)
{
    lua_getfield(L, idx, key);
    const char *v = def;
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "%s: '%s' must be a string, not %s", what, key, luaL_typename(L, -1));
        size_t len;
        v = lua_tolstring(L, -1, &len); /* stays alive: the table holds it */
        if (strlen(v) != len) /* C would see only the text before the NUL */
            luaL_error(L, "%s: '%s' contains a NUL character", what, key);
    }
    lua_pop(L, 1);
    return v;
}

const char *lua_check_name(lua_State *L, int idx)
{
    size_t len;
    const char *v = luaL_checklstring(L, idx, &len);
    if (strlen(v) != len)
        luaL_error(L, "report name: it contains a NUL character");
    return v;
}

int lua_check_opt_bool(lua_State *L, int idx, const char *what, const char *key, int def)
{
    lua_getfield(L, idx, key);
    int v = def;
    if (!lua_isnil(L, -1)) {
        if (!lua_isboolean(L, -1))
            luaL_error(L, "%s: '%s' must be true or false, not %s", what, key,
                       luaL_typename(L, -1));
        v = lua_toboolean(L, -1);
    }
    lua_pop(L, 1);
    return v;
}
