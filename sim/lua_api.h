/* lua_api: the functions scenarios call, and the checks on the tables they
 * pass.
 *
 * Owns the Lua face of clustersim (documented with examples in
 * docs/lua.md): estimate{...} and simulate{...}, and the registration of
 * the other faces (lua_describe: system, model, layout; lua_report:
 * report.*; lua_collective: collective; and search, goodput, place,
 * stragglers), and the job the training faces share (lua_api_read_job).
 * Every table given to the API is checked: an unknown key, a wrong type or
 * an out-of-range value raises an error naming the key, with the calling
 * file and line. */
#ifndef CS_LUA_API_H
#define CS_LUA_API_H

#include <lua.h>

#include "calib.h"
#include "layout.h"
#include "model.h"
#include "opcost.h"
#include "report.h"
#include "system.h"
#include "timeline.h"

/* Registers the API as globals; reports go to `reports` (not owned). */
void lua_api_open(lua_State *L, report_set *reports);

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

/* Table checks, usable by every binding: `what` names the function. */
void lua_api_check_keys(lua_State *L, int idx, const char *what, const char *const *allowed);
lua_Integer lua_api_opt_int(lua_State *L, int idx, const char *what, const char *key,
                            lua_Integer def, lua_Integer min, lua_Integer max);
double lua_api_opt_number(lua_State *L, int idx, const char *what, const char *key, double def,
                          double min, double max);
/* Argument idx as a file name for the reports: a string without NULs. */
const char *lua_api_check_name(lua_State *L, int idx);

const char *lua_api_opt_string(lua_State *L, int idx, const char *what, const char *key,
                               const char *def);
int lua_api_opt_bool(lua_State *L, int idx, const char *what, const char *key, int def);

#endif
