/* lua_faces: every function a scenario can call, registered in one place.
 *
 * Owns the list of faces (lua_estimate: estimate, simulate; lua_describe:
 * system, model, layout; lua_report: report.*; lua_collective; lua_search;
 * lua_goodput; lua_place; lua_stragglers).  It is the only module that
 * includes them all, so the faces never include each other in a circle. */
#ifndef CS_LUA_FACES_H
#define CS_LUA_FACES_H

#include <lua.h>

#include "report.h"

/* Registers the API as globals; reports go to `reports` (not owned). */
void lua_faces_open(lua_State *L, report_set *reports);

#endif
