/* Unit tests: the machine description through hwloc.
 *   A synthetic topology (two packages of two NUMA nodes of 8 cores with 2
 *   threads) is counted right and written as Lua that loads back into a
 *   table with the same counts; a bad synthetic description is an error;
 *   this machine loads (GPUs or none). */
#include <lauxlib.h>
#include <lualib.h>
#include <stdlib.h>

#include "hwtopo.h"
#include "tap.h"

static void synthetic_counts(void)
{
    hwtopo t;
    cs_err err;
    CHECK(hwtopo_load("pack:2 numa:2 core:8 pu:2", &t, &err) == 0);
    CHECK_EQ_INT(t.packages, 2);
    CHECK_EQ_INT(t.numa_nodes, 4);
    CHECK_EQ_INT(t.cores, 32);
    CHECK_EQ_INT(t.pus, 64);
    CHECK_EQ_INT(t.gpus, 0);
    CHECK(t.memory_bytes > 0);
}

static void lua_round_trip(void)
{
    hwtopo t;
    cs_err err;
    CHECK(hwtopo_load("pack:1 numa:2 core:4 pu:1", &t, &err) == 0);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    hwtopo_write_lua(f, &t);
    fclose(f);
    lua_State *L = luaL_newstate();
    CHECK(luaL_loadstring(L, buf) == LUA_OK && lua_pcall(L, 0, 1, 0) == LUA_OK);
    CHECK(lua_istable(L, -1));
    lua_getfield(L, -1, "cores");
    CHECK_EQ_INT(lua_tointeger(L, -1), 8);
    lua_getfield(L, -2, "numa_nodes");
    CHECK_EQ_INT(lua_tointeger(L, -1), 2);
    lua_close(L);
    free(buf);
}

static void bad_synthetic(void)
{
    hwtopo t;
    cs_err err;
    CHECK(hwtopo_load("pack:two", &t, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "not a synthetic topology");
}

static void this_machine(void)
{
    static hwtopo t;
    cs_err err;
    CHECK(hwtopo_load(NULL, &t, &err) == 0);
    CHECK(t.cores >= 1 && t.pus >= t.cores);
    printf("# this machine: %d cores, %d NUMA nodes, %d GPUs, %d NICs\n", t.cores, t.numa_nodes,
           t.gpus, t.nics);
}

int main(void)
{
    static const tap_case cases[] = {
        {"a synthetic topology is counted right", synthetic_counts},
        {"the Lua description loads back with the same counts", lua_round_trip},
        {"a bad synthetic description is an error", bad_synthetic},
        {"this machine loads", this_machine},
    };
    return tap_run(cases, sizeof cases / sizeof cases[0]);
}
