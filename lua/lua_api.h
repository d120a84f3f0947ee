/* lua_api: the checks and readers every Lua face shares.
 *
 * Owns the checks on the tables scenarios pass (an unknown key, a wrong type
 * or an out-of-range value raises an error naming the key, with the calling
 * file and line), the job the training faces share (lua_api_read_job), the
 * timeline userdata simulate{} returns, and where reports go.  The faces
 * themselves (lua_estimate, lua_describe, lua_report, ...) use this module;
 * lua_faces registers them all.  Documented with examples in docs/lua.md. */
#ifndef CS_LUA_API_H
#define CS_LUA_API_H

#include <lua.h>

#include "calib.h"
#include "layout.h"
#include "lua_check.h"
#include "model.h"
#include "opcost.h"
#include "report.h"
#include "system.h"
#include "timeline.h"

/* The metatable name of the timeline userdata simulate{} returns. */
#define LUA_API_TIMELINE_META "clustersim.timeline"

/* Prepares L for the faces: reports go to `reports` (not owned), and the
 * timeline userdata gets its metatable. */
void lua_api_init(lua_State *L, report_set *reports);

/* Sets field key of the table on top of the stack. */
void lua_api_set_number(lua_State *L, const char *key, double v);
void lua_api_set_int(lua_State *L, const char *key, lua_Integer v);

/* Raises "what: err's message" (does not return). */
void lua_api_fail(lua_State *L, const char *what, const cs_err *err);

/* The timeline of a simulate{} result (or of its `timeline` field) at idx;
 * raises naming `what` otherwise. */
const timeline *lua_api_check_timeline(lua_State *L, int idx, const char *what);

/* The keys system, nodes and gpus of the table at index 1: the system (a
 * catalog name sized by nodes or gpus, or a system{} table) and the GPUs of
 * the job (default: all of the system's).  Raises on bad input. */
void lua_api_read_system(lua_State *L, const char *what, sys_system *sys, long *gpus);

/* A training job as estimate{}, simulate{} and stragglers{} read it from
 * the table at index 1: model (and seq), system (nodes, gpus), the layout
 * (a layout{} table or its keys inline) and device_profile.  eff.profile
 * points into the struct: do not copy it. */
typedef struct lua_api_job {
    model_desc model;
    sys_system sys;
    long gpus;
    layout_desc layout;
    opcost_eff eff;
    calib_profile profile;
} lua_api_job;

/* Raises on an unknown key: the job's keys, the caller's own (NULL-ended)
 * and the layout's inline keys are valid. */
void lua_api_check_job_keys(lua_State *L, const char *what, const char *const *own);

/* Reads the job; raises naming the key on bad input.  Builds no topology,
 * so nothing needs freeing when it raises. */
void lua_api_read_job(lua_State *L, const char *what, lua_api_job *job);

/* The report set the scenario writes to. */
report_set *lua_api_reports(lua_State *L);

#endif
