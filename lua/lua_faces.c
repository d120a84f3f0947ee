/* lua_faces: the registration of every face (see lua_faces.h). */
#include "lua_faces.h"

#include "lua_api.h"
#include "lua_collective.h"
#include "lua_describe.h"
#include "lua_estimate.h"
#include "lua_goodput.h"
#include "lua_place.h"
#include "lua_report.h"
#include "lua_search.h"
#include "lua_replay.h"
#include "lua_stragglers.h"

void lua_faces_open(lua_State *L, report_set *reports)
{
    lua_api_init(L, reports);
    lua_describe_open(L);
    lua_estimate_open(L);
    lua_report_open(L);
    lua_collective_open(L);
    lua_search_open(L);
    lua_goodput_open(L);
    lua_place_open(L);
    lua_stragglers_open(L);
    lua_replay_open(L);
}
