/* lua_limits: the bounds of a Lua state (scenarios, device profiles).
 *
 * Owns what a script may spend and read: an instruction-count hook and a
 * limiting allocator, so that `while true do end`, endless tail calls or a
 * table that grows forever stop with file:line instead of hanging or taking
 * the machine's memory; and the folders whose files a scenario may name
 * (its own folder and those given with --allow-read), so that a shared
 * scenario cannot probe or echo other files; and the CPU time a scenario may
 * spend, Lua and the work of the API calls it makes together. */
#ifndef CS_LUA_LIMITS_H
#define CS_LUA_LIMITS_H

#include <lua.h>
#include <stddef.h>

#include "cs_error.h"

/* Defaults far beyond any real scenario (those in scenarios/ run under 1e7
 * instructions and take a few MiB; a device profile is a table), and low
 * enough that an endless loop stops in about a second (5 under ASan). */
#define LUA_LIMITS_INSTRUCTIONS 2e8
#define LUA_LIMITS_MEMORY_MIB 1024.0
#define LUA_LIMITS_PROFILE_INSTRUCTIONS 1e7
#define LUA_LIMITS_PROFILE_MEMORY_MIB 64.0
#define LUA_LIMITS_MAX_READ_DIRS 16
/* CPU seconds a scenario may spend in all (Lua and the API's work): the
 * instruction count sees only Lua, so `for i = 1, 1e9 do estimate{...} end`
 * runs a few instructions a call and would go on for days.  Each call of a
 * face is bounded on its own (the longest, a search at its bounds, about
 * 100 s here), and the scenarios in scenarios/ take under 2 s; ten minutes
 * leaves room for a real sweep of searches and stops a runaway loop. */
#define LUA_LIMITS_CPU_S 600.0

typedef struct lua_limits {
    double max_instructions;     /* 0: no hook */
    double max_memory_bytes;
    const char *read_dirs[LUA_LIMITS_MAX_READ_DIRS]; /* may read below these (NULL: anything) */
    int nread_dirs;
    int flags;                   /* the messages name run's flags that raise the limits */
    double max_cpu_s;            /* process CPU seconds (0: none; set before newstate) */
    int backstop;                /* arm the process backstop (traces/cpu_backstop) past the
                                    CPU limit and on a passed limit; the caller disarms:
                                    lua_limits_disarm */
    const char *name;            /* the script's file, for the backstop's message */
    /* Told of the CPU spent at each check (a status line for long scenarios); may be NULL. */
    void (*on_cpu)(void *ctx, double used_s, double max_s, const char *where);
    void *on_cpu_ctx;
    /* state */
    double instructions, memory_bytes;
    int memory_refused;
    double cpu_start_s;          /* process CPU time when the state was made */
    int tripped;                 /* a limit was passed: every check raises from now on */
    char trip_msg[200];          /* which, and by how much */
    char where[256];             /* the last file:line the hook saw */
} lua_limits;

void lua_limits_init(lua_limits *lim, double max_instructions, double max_memory_mib);

/* A new state under lim (which must outlive it); NULL when out of memory. */
lua_State *lua_limits_newstate(lua_limits *lim);

/* The message for a failed pcall: Lua's own, or the memory limit's with
 * the place the script was at.  Writes into err. */
void lua_limits_error(const lua_limits *lim, const char *what, const char *lua_msg, cs_err *err);

/* Raises a Lua error at the caller's file:line when the scenario has
 * spent more than its CPU seconds; every face calls it on entry ("what":
 * its name), so a loop of calls stops within one call of the limit.  A
 * passed limit stays passed: the hook then raises at every instruction, so
 * a pcall that catches the error cannot carry the script on. */
void lua_limits_check_cpu(lua_State *L, const char *what);

/* 1 when the state's CPU limit is passed (no error raised): for long C
 * work inside a face (sweep{}'s blocks), which stops and then raises with
 * lua_limits_check_cpu once its resources are freed. */
int lua_limits_cpu_over(lua_State *L);

/* Stops the process backstop a passed limit armed (when lim->backstop). */
void lua_limits_disarm(lua_limits *lim);

/* Adds a folder a scenario may read below (resolved now); -1 with err. */
int lua_limits_allow_read(lua_limits *lim, const char *dir, cs_err *err);

/* Frees the resolved folders. */
void lua_limits_free(lua_limits *lim);

/* Raises a Lua error unless path (a file or folder named by the script)
 * is below an allowed folder; the same words whether it exists or not. */
void lua_limits_check_read(lua_State *L, const char *what, const char *path);

#endif
