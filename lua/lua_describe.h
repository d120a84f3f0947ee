/* lua_describe: systems, models and layouts as Lua tables.
 *
 * Owns the Lua faces system{...}, model{...} and layout{...} and the
 * reading of their tables into the C descriptions.  A constructor checks
 * its table and returns a complete one (every field filled, derived ones
 * such as gpus or params added, printable with print()); that table, or a
 * hand-written one with the same keys, is what estimate{}, simulate{} and
 * collective{} accept.  A derived field given back must agree with the
 * others (a table edited by hand cannot say two things). */
#ifndef CS_LUA_DESCRIBE_H
#define CS_LUA_DESCRIBE_H

#include <lua.h>

#include "layout.h"
#include "model.h"
#include "system.h"

/* Registers system, model and layout as globals. */
void lua_describe_open(lua_State *L);

/* The system at idx: a table as system{} takes.  Raises on a bad table. */
void lua_describe_system(lua_State *L, int idx, const char *what, sys_system *out);

/* The model at idx: a catalog name or a table as model{} takes. */
void lua_describe_model(lua_State *L, int idx, const char *what, model_desc *out);

/* Pushes a model table as model{} returns it. */
void lua_describe_push_model(lua_State *L, const model_desc *m);

/* Layout keys of the table at idx (tp, pp, dp, vpp, mbs, gbs, schedule, sp,
 * recompute, zero, dtype, attention): dp defaults to gpus / (tp pp), gbs to
 * dp mbs.  Other keys are left to the caller's check. */
void lua_describe_layout(lua_State *L, int idx, const char *what, const model_desc *m,
                         long gpus, layout_desc *out);

/* Pushes a layout table as layout{} returns it (dtype only when has_dtype). */
void lua_describe_push_layout(lua_State *L, const layout_desc *l, int has_dtype);

/* The layout keys lua_describe_layout reads (NULL-terminated). */
extern const char *const lua_describe_layout_keys[];

#endif
