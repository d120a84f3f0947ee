/* lua_limits: instruction and memory limits, readable folders (see lua_limits.h). */
#define _XOPEN_SOURCE 700 /* realpath */
#include "lua_limits.h"

#include "cpu_backstop.h"

#include <lauxlib.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define HOOK_EVERY 10000 /* instructions between two looks: cheap, and stops within a ms */

void lua_limits_init(lua_limits *lim, double max_instructions, double max_memory_mib)
{
    memset(lim, 0, sizeof *lim);
    lim->max_instructions = max_instructions;
    lim->max_memory_bytes = max_memory_mib * 1024 * 1024;
}

static void *limited_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    lua_limits *lim = ud;
    size_t old = ptr ? osize : 0;
    if (nsize == 0) {
        free(ptr);
        lim->memory_bytes -= (double)old;
        return NULL;
    }
    if (nsize > old && lim->memory_bytes + (double)(nsize - old) > lim->max_memory_bytes) {
        lim->memory_refused = 1; /* Lua raises "not enough memory"; the message says which */
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    if (p)
        lim->memory_bytes += (double)nsize - (double)old;
    return p;
}

static lua_limits *limits_of(lua_State *L)
{
    void *ud;
    return lua_getallocf(L, &ud) == limited_alloc ? ud : NULL;
}

static double process_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts); /* every thread's, as faces may use several */
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* lim->where := "file:line: " of the first Lua function from `level`
 * frames up that has a line (a face called through pcall: the line that
 * called pcall); "" if none has. */
static void note_where(lua_State *L, lua_limits *lim, int level)
{
    lua_Debug here;
    lim->where[0] = '\0';
    for (; lua_getstack(L, level, &here); level++)
        if (lua_getinfo(L, "Sl", &here) && here.currentline > 0) {
            snprintf(lim->where, sizeof lim->where, "%s:%d: ", here.short_src, here.currentline);
            return;
        }
}

static void count_hook(lua_State *L, lua_Debug *ar);

/* Raises the passed limit's message at lim->where, the hook at every
 * instruction of this thread from now on (a coroutine that resumed the one
 * that tripped stops as soon as it runs). */
static void raise_tripped(lua_State *L, lua_limits *lim)
{
    lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
    lua_pushfstring(L, "%s%s", lim->where, lim->trip_msg); /* luaL_error's place is the hook's */
    lua_error(L);
}

/* Lua runs some code with hooks off after an error from a hook (an xpcall
 * message handler, the __close methods of a coroutine being reset): if the
 * script goes on there, the process backstop ends it a second later. */
static void arm_trip_backstop(const lua_limits *lim)
{
    if (!lim->backstop)
        return;
    char text[600];
    snprintf(text, sizeof text, "clustersim: %s%s; the script went on in code the limits "
             "cannot interrupt (a message handler, a __close method)", lim->where, lim->trip_msg);
    cpu_backstop_arm(CPU_BACKSTOP_GRACE_S, text);
}

/* The CPU limit's last stop, for one call Lua's hook cannot interrupt. */
static void arm_cpu_backstop(const lua_limits *lim)
{
    if (!lim->backstop || lim->max_cpu_s <= 0)
        return;
    char text[640];
    snprintf(text, sizeof text, "clustersim: %.200s: the scenario has used more than %g s of CPU, "
             "%g s past its limit, in code the limit cannot interrupt (one long C call: a string "
             "pattern, an API call); raise the limit with --max-cpu-seconds S",
             lim->name ? lim->name : "the scenario", lim->max_cpu_s + CPU_BACKSTOP_GRACE_S,
             CPU_BACKSTOP_GRACE_S);
    cpu_backstop_arm(lim->max_cpu_s + CPU_BACKSTOP_GRACE_S, text);
}

/* A limit is passed: raise msg, now and at every instruction from here on
 * (the hook at a count of 1), so that a pcall catching it returns into
 * code that raises again. */
static void trip(lua_State *L, lua_limits *lim, const char *msg)
{
    lim->tripped = 1;
    snprintf(lim->trip_msg, sizeof lim->trip_msg, "%s", msg);
    arm_trip_backstop(lim);
    lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD); /* tripped in a coroutine: its */
    lua_State *main_thread = lua_tothread(L, -1);           /* resumer stops as soon */
    lua_pop(L, 1);
    if (main_thread && main_thread != L)
        lua_sethook(main_thread, count_hook, LUA_MASKCOUNT, 1);
    raise_tripped(L, lim);
}

/* Tells on_cpu the CPU seconds spent; raises with lim->where past the
 * limit, naming the face being entered (what; NULL: Lua's own code). */
static void cpu_check(lua_State *L, lua_limits *lim, const char *what)
{
    if (lim->max_cpu_s <= 0)
        return;
    double used_s = process_cpu_s() - lim->cpu_start_s;
    if (lim->on_cpu)
        lim->on_cpu(lim->on_cpu_ctx, used_s, lim->max_cpu_s, lim->where);
    if (used_s <= lim->max_cpu_s)
        return;
    char msg[200];
    snprintf(msg, sizeof msg, "%s%sthe scenario has used %.2f s of CPU (Lua and the API's calls "
             "together), more than its limit of %g s%s", what ? what : "", what ? ": " : "", used_s,
             lim->max_cpu_s, lim->flags ? "; raise the limit with --max-cpu-seconds S" : "");
    trip(L, lim, msg);
}

void lua_limits_check_cpu(lua_State *L, const char *what)
{
    lua_limits *lim = limits_of(L);
    if (!lim || (lim->max_cpu_s <= 0 && !lim->tripped))
        return;
    note_where(L, lim, 1); /* the Lua line that called the face */
    if (lim->tripped) /* a pcall caught it: the script goes no further */
        raise_tripped(L, lim);
    cpu_check(L, lim, what);
}

int lua_limits_cpu_over(lua_State *L)
{
    lua_limits *lim = limits_of(L);
    return lim && lim->max_cpu_s > 0 && process_cpu_s() - lim->cpu_start_s > lim->max_cpu_s;
}

static void count_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    lua_limits *lim = limits_of(L);
    note_where(L, lim, 0);
    if (lim->tripped)
        raise_tripped(L, lim);
    cpu_check(L, lim, NULL);
    lim->instructions += HOOK_EVERY;
    if (lim->instructions > lim->max_instructions) {
        char msg[160]; /* lua_pushfstring knows no %.0f */
        snprintf(msg, sizeof msg, "more than %.0f Lua instructions (an endless loop?)%s",
                 lim->max_instructions,
                 lim->flags ? "; raise the limit with --max-instructions N" : "");
        trip(L, lim, msg);
    }
}

lua_State *lua_limits_newstate(lua_limits *lim)
{
    lua_State *L = lua_newstate(limited_alloc, lim);
    if (!L)
        return NULL;
    lim->cpu_start_s = process_cpu_s();
    if (lim->max_instructions > 0)
        lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
    arm_cpu_backstop(lim);
    return L;
}

void lua_limits_error(const lua_limits *lim, const char *what, const char *lua_msg, cs_err *err)
{
    if (lim->memory_refused)
        cs_fail(err, "%s%s needs more than %.0f MiB of Lua memory%s", lim->where, what,
                lim->max_memory_bytes / 1048576,
                lim->flags ? "; raise the limit with --max-memory-mib N" : "");
    else
        cs_fail(err, "%s", lua_msg ? lua_msg : "error without a message");
}

int lua_limits_allow_read(lua_limits *lim, const char *dir, cs_err *err)
{
    if (lim->nread_dirs == LUA_LIMITS_MAX_READ_DIRS)
        return cs_fail(err, "at most %d readable folders", LUA_LIMITS_MAX_READ_DIRS);
    char *real = realpath(dir, NULL);
    if (!real)
        return cs_fail(err, "--allow-read: cannot find the folder '%s'", dir);
    lim->read_dirs[lim->nread_dirs++] = real; /* freed by lua_limits_free */
    return 0;
}

/* path resolved (links and '..' followed); when it does not exist, its
 * folder resolved and the name appended, so a missing file below an allowed
 * folder is still "below" it. */
static char *resolve(const char *path)
{
    char *real = realpath(path, NULL);
    if (real)
        return real;
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    char *real_dir = realpath(*dir ? dir : "/", NULL);
    if (!real_dir)
        return NULL;
    const char *base = slash ? slash + 1 : path;
    if (strcmp(base, "..") == 0 || strcmp(base, ".") == 0) {
        free(real_dir);
        return NULL;
    }
    size_t n = strlen(real_dir) + strlen(base) + 2;
    char *out = malloc(n);
    if (out)
        snprintf(out, n, "%s/%s", real_dir, base);
    free(real_dir);
    return out;
}

static int below(const char *path, const char *dir)
{
    size_t n = strlen(dir);
    return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0' || strcmp(dir, "/") == 0);
}

void lua_limits_check_read(lua_State *L, const char *what, const char *path)
{
    lua_limits *lim = limits_of(L);
    if (!lim || lim->nread_dirs == 0)
        return;
    char *real = resolve(path);
    int ok = 0;
    for (int i = 0; real && !ok && i < lim->nread_dirs; i++)
        ok = below(real, lim->read_dirs[i]);
    free(real);
    if (!ok)
        luaL_error(L, "%s: '%s' is outside the folders a scenario may read (its own folder, and "
                      "any given with --allow-read DIR)", what, path);
}

void lua_limits_disarm(lua_limits *lim)
{
    if (lim->backstop)
        cpu_backstop_disarm();
}

void lua_limits_free(lua_limits *lim)
{
    lua_limits_disarm(lim);
    for (int i = 0; i < lim->nread_dirs; i++)
        free((char *)lim->read_dirs[i]);
    lim->nread_dirs = 0;
}
