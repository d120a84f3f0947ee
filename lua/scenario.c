/* scenario: a sandboxed Lua state for one scenario run (see scenario.h). */
#include "scenario.h"

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>
#include <string.h>

#include "lua_faces.h"
#include "lua_limits.h"
#include "lua_reference.h"
#include "report.h"

/* Raised by what the sandbox switches off, naming the way to switch it on. */
static int unsafe_off(lua_State *L)
{
    return luaL_error(L, "%s is off: scenarios cannot run programs, open files or load C "
                         "modules; reports go through report.*; run with --allow-unsafe to "
                         "allow it",
                      lua_tostring(L, lua_upvalueindex(1)));
}

static void stub(lua_State *L, int table, const char *field, const char *full_name)
{
    lua_pushstring(L, full_name);
    lua_pushcclosure(L, unsafe_off, 1);
    lua_setfield(L, table, field);
}

/* Calls the function a wrapper wraps (its upvalue 1) with the wrapper's
 * arguments; returns its results. */
static int call_wrapped(lua_State *L)
{
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
    return lua_gettop(L);
}

/* setmetatable without finalisers: Lua runs a __gc with its hooks off, so
 * one would run outside the instruction and CPU limits (upvalue 1: Lua's
 * setmetatable).  A __gc added to a metatable afterwards is never called. */
static int setmetatable_no_gc(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TTABLE) {
        lua_pushliteral(L, "__gc");
        if (lua_rawget(L, 2) != LUA_TNIL)
            return luaL_error(L, "setmetatable: a __gc finaliser is off in scenarios (Lua runs it "
                                 "outside the instruction and CPU limits); run with --allow-unsafe "
                                 "to allow it");
        lua_pop(L, 1);
    }
    return call_wrapped(L);
}

static void open_safe(lua_State *L)
{
    static const luaL_Reg libs[] = {{LUA_GNAME, luaopen_base},        {LUA_TABLIBNAME, luaopen_table},
                                    {LUA_STRLIBNAME, luaopen_string}, {LUA_MATHLIBNAME, luaopen_math},
                                    {LUA_UTF8LIBNAME, luaopen_utf8},  {LUA_COLIBNAME, luaopen_coroutine},
                                    {LUA_OSLIBNAME, luaopen_os}};
    for (size_t i = 0; i < sizeof libs / sizeof libs[0]; i++) {
        luaL_requiref(L, libs[i].name, libs[i].func, 1);
        lua_pop(L, 1);
    }
    lua_getglobal(L, "os");
    int os = lua_gettop(L);
    static const char *const os_off[] = {"execute", "remove", "rename", "exit", "tmpname",
                                         "setlocale", "getenv"};
    for (size_t i = 0; i < sizeof os_off / sizeof os_off[0]; i++) {
        char full[32];
        snprintf(full, sizeof full, "os.%s", os_off[i]);
        stub(L, os, os_off[i], full);
    }
    lua_pop(L, 1);
    lua_newtable(L); /* io: every entry point raises */
    int io = lua_gettop(L);
    static const char *const io_off[] = {"open", "popen", "lines", "read", "write", "input",
                                         "output", "tmpfile", "close"};
    for (size_t i = 0; i < sizeof io_off / sizeof io_off[0]; i++) {
        char full[32];
        snprintf(full, sizeof full, "io.%s", io_off[i]);
        stub(L, io, io_off[i], full);
    }
    lua_setglobal(L, "io");
    lua_newtable(L);
    stub(L, lua_gettop(L), "loadlib", "package.loadlib");
    lua_setglobal(L, "package");
    lua_getglobal(L, "setmetatable");
    lua_pushcclosure(L, setmetatable_no_gc, 1);
    lua_setglobal(L, "setmetatable");
    static const char *const base_off[] = {"require", "dofile", "loadfile", "load"};
    lua_pushglobaltable(L);
    for (size_t i = 0; i < sizeof base_off / sizeof base_off[0]; i++)
        stub(L, lua_gettop(L), base_off[i], base_off[i]);
    lua_pop(L, 1);
}

static void set_args(lua_State *L, const char *path, char **args, int nargs)
{
    lua_createtable(L, nargs, 1);
    lua_pushstring(L, path);
    lua_rawseti(L, -2, 0);
    for (int i = 0; i < nargs; i++) {
        lua_pushstring(L, args[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setglobal(L, "arg");
}

/* Message handler: the error and a traceback. */
static int traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    luaL_traceback(L, L, msg ? msg : luaL_tolstring(L, 1, NULL), 1);
    return 1;
}

/* print, after clearing the run's status line (upvalue 1: Lua's print,
 * 2: the scenario_opts). */
static int print_clearing(lua_State *L)
{
    const scenario_opts *o = lua_touserdata(L, lua_upvalueindex(2));
    o->clear_status(o->on_cpu_ctx);
    return call_wrapped(L);
}

static void wrap_print(lua_State *L, const scenario_opts *o)
{
    if (!o->clear_status)
        return;
    lua_getglobal(L, "print");
    lua_pushlightuserdata(L, (void *)o);
    lua_pushcclosure(L, print_clearing, 2);
    lua_setglobal(L, "print");
}

/* The folders the scenario may read: its own and the --allow-read ones
 * (anything with --allow-unsafe, which opens io as well). */
static int readable(lua_limits *lim, const char *path, const scenario_opts *o, cs_err *err)
{
    if (o->allow_unsafe)
        return 0;
    char dir[4096];
    const char *slash = strrchr(path, '/');
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) : 1, slash ? path : ".");
    if (lua_limits_allow_read(lim, *dir ? dir : "/", err) != 0)
        return -1;
    for (int i = 0; i < o->nallow_read; i++)
        if (lua_limits_allow_read(lim, o->allow_read[i], err) != 0)
            return -1;
    return 0;
}

int scenario_run(const char *path, char **args, int nargs, const scenario_opts *o, cs_err *err)
{
    lua_limits lim;
    lua_limits_init(&lim, o->max_instructions > 0 ? o->max_instructions : LUA_LIMITS_INSTRUCTIONS,
                    o->max_memory_mib > 0 ? o->max_memory_mib : LUA_LIMITS_MEMORY_MIB);
    lim.flags = 1;
    lim.backstop = 1;
    lim.name = path;
    lim.max_cpu_s = o->max_cpu_s > 0 ? o->max_cpu_s : o->max_cpu_s < 0 ? 0 : LUA_LIMITS_CPU_S;
    lim.on_cpu = o->on_cpu;
    lim.on_cpu_ctx = o->on_cpu_ctx;
    if (readable(&lim, path, o, err) != 0) {
        lua_limits_free(&lim);
        return -1;
    }
    lua_State *L = lua_limits_newstate(&lim);
    if (!L) {
        lua_limits_free(&lim);
        return cs_fail(err, "cannot create a Lua state (out of memory)");
    }
    if (o->allow_unsafe)
        luaL_openlibs(L);
    else
        open_safe(L);
    wrap_print(L, o);
    report_set *reports = report_new(o->out_dir ? o->out_dir : "out");
    lua_faces_open(L, reports);
    lua_reference_open(L, o->reference_dir ? o->reference_dir : "validate");
    lua_sweep_opts sweep_default = {0}, *so = o->sweep ? o->sweep : &sweep_default;
    so->out_dir = o->out_dir ? o->out_dir : "out";
    lua_sweep_configure(L, so);
    set_args(L, path, args, nargs);
    lua_pushcfunction(L, traceback);
    int rc = luaL_loadfilex(L, path, "t");
    if (rc == LUA_OK)
        rc = lua_pcall(L, 0, 0, 1);
    lua_limits_disarm(&lim); /* not while the reports are renamed into place */
    if (rc != LUA_OK) {
        lua_limits_error(&lim, "the scenario", lua_tostring(L, -1), err);
        report_abort(reports);
    } else if (report_commit(reports, err) != 0) {
        report_abort(reports);
        rc = -1;
    } else {
        fflush(stdout); /* the script's output first, then the files it wrote */
        if (o->clear_status)
            o->clear_status(o->on_cpu_ctx);
        for (int i = 0; i < report_count(reports); i++)
            fprintf(stderr, "wrote %s\n", report_path(reports, i));
    }
    report_free(reports);
    lua_sethook(L, NULL, 0, 0); /* a passed limit raises at every instruction: not in __gc */
    lua_close(L);
    lua_limits_free(&lim);
    return rc == LUA_OK ? 0 : -1;
}
