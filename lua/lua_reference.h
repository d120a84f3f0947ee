/* lua_reference: reference(NAME) for scenarios: a published table shipped
 * in validate/ (NAME.csv) as a list of rows.
 *
 * Owns the one file read a sandboxed scenario may do: a plain name (letters,
 * digits, '_', '-') looked up in the reference folder, read through
 * csvread ('#' lines are the sources and are skipped).  Each row is a table
 * keyed by the header; a field that reads wholly as a number is a number. */
#ifndef CS_LUA_REFERENCE_H
#define CS_LUA_REFERENCE_H

#include <lua.h>

/* Registers the global function `reference`, reading from dir. */
void lua_reference_open(lua_State *L, const char *dir);

#endif
