/* lua_reference: reference(NAME) (see lua_reference.h). */
#include "lua_reference.h"

#include <lauxlib.h>
#include <stdio.h>
#include <string.h>

#include "csvread.h"
#include "lua_limits.h"

#define DIR_KEY "clustersim.reference_dir"

typedef struct ref_read {
    lua_State *L;
    int rows;           /* stack index of the rows list */
    int header;         /* stack index of the header list */
    int nheader, nrows;
} ref_read;

/* A number when the whole field reads as one (an integer stays one). */
static void push_field(lua_State *L, const char *text)
{
    if (!*text || lua_stringtonumber(L, text) == 0)
        lua_pushstring(L, text);
}

/* Rows become tables keyed by the header (the first row). */
static int on_row(void *ctx, int line, char **fields, int nfields, cs_err *err)
{
    ref_read *r = ctx;
    lua_State *L = r->L;
    if (r->nheader == 0) {
        for (int i = 0; i < nfields; i++) {
            lua_pushstring(L, fields[i]);
            lua_rawseti(L, r->header, i + 1);
        }
        r->nheader = nfields;
        return 0;
    }
    if (nfields != r->nheader)
        return cs_fail(err, "line %d: %d fields; the header has %d", line, nfields, r->nheader);
    lua_createtable(L, 0, nfields);
    for (int i = 0; i < nfields; i++) {
        lua_rawgeti(L, r->header, i + 1);
        push_field(L, fields[i]);
        lua_settable(L, -3);
    }
    lua_rawseti(L, r->rows, ++r->nrows);
    return 0;
}

static int api_reference(lua_State *L)
{
    lua_limits_check_cpu(L, "reference()");
    const char *name = luaL_checkstring(L, 1);
    if (!*name || strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") !=
                      strlen(name))
        luaL_error(L, "reference: '%s' is not a plain table name (letters, digits, '_', '-'), "
                      "such as \"megatron2021_weak_scaling\"", name);
    lua_getfield(L, LUA_REGISTRYINDEX, DIR_KEY);
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.csv", lua_tostring(L, -1), name);
    lua_pop(L, 1);
    lua_newtable(L);
    lua_newtable(L);
    ref_read r = {L, lua_gettop(L) - 1, lua_gettop(L), 0, 0};
    cs_err err;
    if (csvread_file(path, on_row, &r, &err) != 0)
        luaL_error(L, "reference: %s", err.msg);
    lua_pop(L, 1); /* the header */
    return 1;
}

void lua_reference_open(lua_State *L, const char *dir)
{
    lua_pushstring(L, dir);
    lua_setfield(L, LUA_REGISTRYINDEX, DIR_KEY);
    lua_register(L, "reference", api_reference);
}
