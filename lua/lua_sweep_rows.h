/* lua_sweep_rows: a sweep's points, each point's result as bytes (what a
 * rank sends back), and the CSV rows written from them on rank 0 in point
 * order (traces/sweep_csv), with the progress bar. */
#ifndef CS_LUA_SWEEP_ROWS_H
#define CS_LUA_SWEEP_ROWS_H

#include <lua.h>

#include "cs_error.h"
#include "report.h"
#include "sweep_csv.h"

/* Makes a state with the faces only, for one point; *reports receives the
 * set its faces stage files into (never committed: a point's files are not
 * kept); NULL when out of memory. */
typedef lua_State *(*lua_sweep_state_fn)(report_set **reports);

#define SWEEP_BLOCK 256            /* points per map: results of a block in memory at once */
#define SWEEP_RESULT_BYTES 8192    /* one point's result fields; the rest is dropped */

typedef struct sweep_point {
    char *src;                 /* "return {...}": its arguments, exact */
    int nargs;
    char **keys, **cells;      /* argument names (sorted) and readable values */
} sweep_point;

typedef struct sweep_points {
    sweep_point *pt;
    int n, cap;
} sweep_points;

typedef struct sweep_run {
    const char *face, *name, *out_dir;
    char *path;                /* out_dir/name (owned) */
    lua_sweep_state_fn new_state;
    int threads, progress;
    sweep_points *points;
    long first;                /* the current block's first point */
    long rows_done, rows_resumed, points_n, failed;
    long failed_shown;         /* rank 0: failed points committed so far */
    char **params;             /* the union of argument names, sorted */
    int nparams;
    char **results;            /* result columns, once known */
    char **shown;              /* their headings (result.NAME when an argument is NAME) */
    int nresults, header_done;
    char **held;               /* failed points' results before the header was known */
    long nheld;
    sweep_csv csv;
    lua_State *L;              /* the scenario's state: its CPU limit, checked between blocks */
} sweep_run;

void sweep_points_free(sweep_points *sp);

/* A point's result bytes: failed with a message, or the scalar fields of
 * the table at idx. */
void sweep_result_fail(void *out, const char *msg);
void sweep_result_fields(lua_State *L, int idx, void *out);
int sweep_result_failed(const void *out);

/* Rank 0 resumes or creates the CSV; every rank learns which points are
 * left (run->rows_done).  -1 with err, on every rank, when it cannot. */
int sweep_rows_begin(sweep_run *run, int resume, cs_err *err);
/* parmap's commit: point run->first + index's row. */
void sweep_rows_commit(void *ctx, long index, const void *out);
/* Writes what is still held and closes the CSV. */
int sweep_rows_end(sweep_run *run, cs_err *err);

#endif
