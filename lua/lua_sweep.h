/* lua_sweep: sweep{...}: many points (each a table of arguments to one face:
 * estimate, simulate, search, goodput, stragglers or place), run over
 * threads or MPI ranks (costmodel/parmap), one CSV row per point in point
 * order (traces/sweep_csv), resumable.
 *
 * The points are a list, or the product of lists of tables (each point
 * merges one table from every list, the first list varying slowest), over
 * a base table.  Arguments whose names start with '_' are labels: columns
 * of the CSV, not passed to the face.  Every point runs in its own Lua state holding only the
 * faces: the point's table is copied into it as Lua source, so threads and
 * ranks never share a state, and a point's result depends on its own
 * arguments alone.  A point that raises an error gets a row with
 * status "failed" and the message; the sweep goes on.  The row holds the
 * point number, its arguments (the union of keys, sorted), status, error,
 * then the scalar fields of the face's result (one level of nested tables
 * as parent.child), the columns of the first point that succeeded. */
#ifndef CS_LUA_SWEEP_H
#define CS_LUA_SWEEP_H

#include <lua.h>

#include "lua_sweep_rows.h" /* lua_sweep_state_fn */

/* At most this many points in one sweep{}, as a list or a product.  Each
 * point is recorded in C before any runs (its source and cells, about 700
 * bytes with three arguments): a product of 10 million took 2.5 GB and over
 * a minute with no bar before its first point; a million takes 0.7 GB, and
 * then the bar shows.  The fuzzing build sets a lower bound (meson.build). */
#ifndef SWEEP_MAX_POINTS
#define SWEEP_MAX_POINTS 1000000L
#endif

typedef struct lua_sweep_opts {
    const char *out_dir;   /* where the CSV goes (default "out") */
    int resume;            /* keep the rows already in the CSV */
    int progress;          /* 1 always, 0 when stderr is a terminal, -1 never */
    int threads;           /* without MPI; 0: every core */
    int sweeps;            /* out: sweep{} calls that ran */
    long failed;           /* out: points that failed, over those calls */
} lua_sweep_opts;

/* Registers the global function `sweep`. */
void lua_sweep_open(lua_State *L, lua_sweep_state_fn new_state);

/* The options the sweeps of this state use (not owned; may be NULL). */
void lua_sweep_configure(lua_State *L, lua_sweep_opts *opts);

#endif
