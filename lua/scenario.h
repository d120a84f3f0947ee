/* scenario: running a Lua scenario script, sandboxed.
 *
 * Owns the Lua state of one run: which standard libraries a scenario gets
 * (no programs, no arbitrary files, no C modules unless allow_unsafe), the
 * `arg` table, the API (lua/lua_faces), error messages with file, line and
 * traceback, and the run's staged reports (traces/report), committed only when
 * the script finishes without error. */
#ifndef CS_SCENARIO_H
#define CS_SCENARIO_H

#include "cs_error.h"
#include "lua_sweep.h"

typedef struct scenario_opts {
    const char *out_dir;  /* where reports go (default "out") */
    int allow_unsafe;     /* full standard library: os.execute, io, require, C modules */
    const char *reference_dir; /* the published tables reference() reads (validate/) */
    lua_sweep_opts *sweep;     /* sweep{}'s options (out_dir filled in); may be NULL */
    double max_instructions;   /* Lua instructions (0: LUA_LIMITS_INSTRUCTIONS) */
    double max_memory_mib;     /* Lua memory (0: LUA_LIMITS_MEMORY_MIB) */
    const char *allow_read[16]; /* folders readable besides the scenario's own */
    int nallow_read;
    double max_cpu_s;           /* CPU seconds, Lua and the API's work (0: LUA_LIMITS_CPU_S;
                                   negative: none) */
    /* Told the CPU spent at each check of the limit (a status line), and
     * before the script prints and the run lists its files (clear it); may
     * be NULL. */
    void (*on_cpu)(void *ctx, double used_s, double max_s, const char *where);
    void (*clear_status)(void *ctx);
    void *on_cpu_ctx;
} scenario_opts;

/* Runs path with args[0..nargs-1] as arg[1..]; arg[0] is path.  On a
 * scenario error returns -1 with err holding "file:line: message" and the
 * traceback; no report file is left behind. */
int scenario_run(const char *path, char **args, int nargs, const scenario_opts *o, cs_err *err);

#endif
