/* lua_check: the checks on the tables scenarios pass, for every face.
 *
 * Owns the rule of every Lua face: an unknown key, a wrong type or an
 * out-of-range value raises an error naming the function (`what`) and the
 * key; Lua adds the calling file and line.  Uses Lua's API only. */
#ifndef CS_LUA_CHECK_H
#define CS_LUA_CHECK_H

#include <lua.h>

/* Table checks, usable by every binding: `what` names the function. */
void lua_check_keys(lua_State *L, int idx, const char *what, const char *const *allowed);
lua_Integer lua_check_opt_int(lua_State *L, int idx, const char *what, const char *key,
                              lua_Integer def, lua_Integer min, lua_Integer max);
double lua_check_opt_number(lua_State *L, int idx, const char *what, const char *key, double def,
                            double min, double max);
const char *lua_check_opt_string(lua_State *L, int idx, const char *what, const char *key,
                               const char *def);
/* Argument idx as a file name for the reports: a string without NULs. */
const char *lua_check_name(lua_State *L, int idx);
int lua_check_opt_bool(lua_State *L, int idx, const char *what, const char *key, int def);

#endif
