/* lua_limits: the bounds of a Lua state (scenarios, device profiles).
 *
 * Owns what a script may spend and read: an instruction-count hook and a
 * limiting allocator, so that `while true do end`, endless tail calls or a
 * table that grows forever stop with file:line instead of hanging or taking
 * the machine's memory; and the folders whose files a scenario may name
 * (its own folder and those given with --allow-read), so that a shared
 * scenario cannot probe or echo other files. */
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

typedef struct lua_limits {
    double max_instructions;     /* 0: no hook */
    double max_memory_bytes;
    const char *read_dirs[LUA_LIMITS_MAX_READ_DIRS]; /* may read below these (NULL: anything) */
    int nread_dirs;
    int flags;                   /* the messages name run's flags that raise the limits */
    /* state */
    double instructions, memory_bytes;
    int memory_refused;
    char where[256];             /* the last file:line the hook saw */
} lua_limits;

void lua_limits_init(lua_limits *lim, double max_instructions, double max_memory_mib);

/* A new state under lim (which must outlive it); NULL when out of memory. */
lua_State *lua_limits_newstate(lua_limits *lim);

/* The message for a failed pcall: Lua's own, or the memory limit's with
 * the place the script was at.  Writes into err. */
void lua_limits_error(const lua_limits *lim, const char *what, const char *lua_msg, cs_err *err);

/* Adds a folder a scenario may read below (resolved now); -1 with err. */
int lua_limits_allow_read(lua_limits *lim, const char *dir, cs_err *err);

/* Frees the resolved folders. */
void lua_limits_free(lua_limits *lim);

/* Raises a Lua error unless path (a file or folder named by the script)
 * is below an allowed folder; the same words whether it exists or not. */
void lua_limits_check_read(lua_State *L, const char *what, const char *path);

#endif
