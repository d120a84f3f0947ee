/* lua_faces: the registration of every face (see lua_faces.h). */
#include "lua_faces.h"

#include "lua_api.h"
#include "lua_collective.h"
#include "lua_describe.h"
#include "lua_estimate.h"
#include "lua_goodput.h"
#include "lua_hf_config.h"
#include "lua_place.h"
#include "lua_report.h"
#include "lua_search.h"
#include "lua_replay.h"
#include "lua_stragglers.h"
#include "lua_sweep.h"

#include <lauxlib.h>

/* A sweep point's state: the faces and no library (the point is data, the
 * face is C); its files are staged in a set nobody commits. */
static lua_State *point_state(report_set **reports)
{
    lua_State *L = luaL_newstate();
    if (!L)
        return NULL;
    *reports = report_new(".");
    lua_faces_open(L, *reports);
    return L;
}

void lua_faces_open(lua_State *L, report_set *reports)
{
    lua_api_init(L, reports);
    lua_describe_open(L);
    lua_hf_config_open(L);
    lua_estimate_open(L);
    lua_report_open(L);
    lua_collective_open(L);
    lua_search_open(L);
    lua_goodput_open(L);
    lua_place_open(L);
    lua_stragglers_open(L);
    lua_replay_open(L);
    lua_sweep_open(L, point_state);
}
