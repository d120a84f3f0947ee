/* lua_api: the functions scenarios call, and the checks on the tables they
 * pass.
 *
 * Owns the Lua face of clustersim (documented with examples in
 * docs/lua.md): estimate{...} and report.csv(...).  Every table given to
 * the API is checked: an unknown key, a wrong type or an out-of-range value
 * raises an error naming the key, with the calling file and line. */
#ifndef CS_LUA_API_H
#define CS_LUA_API_H

#include <lua.h>

#include "report.h"

/* Registers the API as globals; reports go to `reports` (not owned). */
void lua_api_open(lua_State *L, report_set *reports);

/* Table checks, usable by every binding: `what` names the function. */
void lua_api_check_keys(lua_State *L, int idx, const char *what, const char *const *allowed);
lua_Integer lua_api_opt_int(lua_State *L, int idx, const char *what, const char *key,
                            lua_Integer def, lua_Integer min, lua_Integer max);
const char *lua_api_opt_string(lua_State *L, int idx, const char *what, const char *key,
                               const char *def);
int lua_api_opt_bool(lua_State *L, int idx, const char *what, const char *key, int def);

#endif
