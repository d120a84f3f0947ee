/* profile: a calib_profile as a Lua table, written and loaded (see profile.h). */
#include "profile.h"

#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <string.h>

#include "lua_limits.h"
#include "opcost.h"
#include "report.h"

/* ---- writing -------------------------------------------------------------------- */

/* A Lua string literal of s (quotes, backslashes and control bytes escaped). */
static void write_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++)
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s < 32)
            fprintf(f, "\\%03d", (unsigned char)*s);
        else
            fputc(*s, f);
    fputc('"', f);
}

static void write_gemm(FILE *f, const char *what, const calib_gemm_fit *g, int tiles)
{
    fprintf(f, "  %s = {\n", what);
    for (int d = 0; d < CALIB_NDTYPE; d++) {
        if (!g[d].have)
            continue;
        fprintf(f, "    %s = { eff = %.12g, fixed_s = %.12g, peak_flops_per_s = %.12g, rows = %d",
                calib_dtype_name((calib_dtype)d), g[d].eff, g[d].fixed_s, g[d].peak_flops_per_s,
                g[d].rows);
        if (tiles)
            fprintf(f, ",\n      k_extra = %.12g, tile_m = %d, tile_n = %d", g[d].k_extra,
                    g[d].tile_m, g[d].tile_n);
        fprintf(f, " },\n");
    }
    fprintf(f, "  },\n");
}

/* Which kernel each data type's `attention` fit was made on; with
 * sdpa_torch's, our own kernel's fit follows as attention_own. */
static void write_attention(FILE *f, const calib_profile *p)
{
    write_gemm(f, "attention", p->attention, 0);
    int own = 0;
    fprintf(f, "  attention_source = {");
    for (int d = 0; d < CALIB_NDTYPE; d++) {
        own |= p->attention_own[d].have;
        if (p->attention[d].have)
            fprintf(f, " %s = \"%s\",", calib_dtype_name((calib_dtype)d),
                    calib_attn_source_name(p->attention_source[d]));
    }
    fprintf(f, " },\n");
    if (own)
        write_gemm(f, "attention_own", p->attention_own, 0);
}

static void write_bw(FILE *f, const char *indent, const char *name, const calib_bw_fit *b)
{
    if (b->have)
        fprintf(f, "%s%s = { bw_bytes_per_s = %.12g, fixed_s = %.12g, rows = %d },\n", indent, name,
                b->bw_bytes_per_s, b->fixed_s, b->rows);
}

static void write_heldout(FILE *f, const calib_summary *s)
{
    fprintf(f, "  -- errors on the held-out fold (not read back)\n  heldout = {\n");
    for (int g = 0; g < CALIB_NGROUP; g++)
        if (s->group[g].rows)
            fprintf(f, "    %s = { rows = %d, median_pct = %.3f, max_pct = %.3f },\n",
                    calib_group_name(g), s->group[g].rows, s->group[g].median_pct, s->group[g].max_pct);
    fprintf(f, "  },\n");
}

void profile_write(FILE *f, const calib_profile *p, const char *source,
                   const calib_summary *heldout)
{
    fprintf(f, "-- clustersim device profile, written by 'clustersim calibrate' (docs/calibration.md).\n"
               "-- eff: fraction of the datasheet peak; times in s, bandwidths in bytes/s.\n"
               "return {\n  format = 1,\n  device = ");
    write_string(f, p->device);
    fprintf(f, ",\n  measured_on = ");
    write_string(f, p->measured_on);
    fprintf(f, ",\n  source = ");
    write_string(f, source);
    fprintf(f, ",\n  sms = %d,\n  folds = %d,\n  heldout_fold = 0,\n", p->sms, p->folds);
    write_gemm(f, "gemm", p->gemm, 1);
    write_attention(f, p);
    write_bw(f, "  ", "membound", &p->membound);
    fprintf(f, "  memkernel = {\n");
    for (int i = 0; i < CALIB_NMEMKERNEL; i++)
        write_bw(f, "    ", calib_memkernel_name(i), &p->memkernel[i]);
    fprintf(f, "  },\n  copy = {\n");
    for (int i = 0; i < CALIB_NCOPY; i++)
        write_bw(f, "    ", calib_copy_name(i), &p->copy[i]);
    fprintf(f, "  },\n  collective = {\n");
    for (int i = 0; i < p->ncoll; i++)
        fprintf(f, "    { op = \"%s\", ranks = %d, latency_s = %.12g, algbw_bytes_per_s = %.12g, rows = %d },\n",
                calib_collop_name(p->coll[i].op), p->coll[i].ranks, p->coll[i].latency_s,
                p->coll[i].algbw_bytes_per_s, p->coll[i].rows);
    fprintf(f, "  },\n");
    if (heldout)
        write_heldout(f, heldout);
    fprintf(f, "}\n");
}

int profile_save(const char *path, const calib_profile *p, const char *source,
                 const calib_summary *heldout, cs_err *err)
{
    const char *name;
    report_set *r = report_for_path(path, &name);
    FILE *f = report_begin(r, name, err);
    int rc = f ? 0 : -1;
    if (f)
        profile_write(f, p, source, heldout);
    if (rc == 0)
        rc = report_commit(r, err);
    report_free(r);
    return rc;
}

/* ---- loading -------------------------------------------------------------------- */

/* Loading state: the file for messages, the key path being read. */
typedef struct loader {
    lua_State *L;
    const char *path;
    char key[96];
    cs_err *err;
    int failed;
} loader;

static int fail(loader *ld, const char *what)
{
    if (!ld->failed)
        cs_fail(ld->err, "%s: key '%s': %s", ld->path, ld->key, what);
    ld->failed = 1;
    return -1;
}

/* The number at key of the table on top; > 0 unless zero_ok. */
static double num(loader *ld, const char *prefix, const char *key, int zero_ok)
{
    snprintf(ld->key, sizeof ld->key, "%s%s", prefix, key);
    lua_getfield(ld->L, -1, key);
    int isnum = 0;
    double v = lua_tonumberx(ld->L, -1, &isnum);
    lua_pop(ld->L, 1);
    if (!isnum || !isfinite(v) || v < 0 || (v == 0 && !zero_ok)) {
        fail(ld, zero_ok ? "must be a number >= 0" : "must be a number > 0");
        return 1;
    }
    return v;
}

/* A count (rows, tiles, ranks, SMs) read into an int: whole and in range,
 * since a double beyond INT_MAX does not convert. */
static int count(loader *ld, const char *prefix, const char *key, int zero_ok)
{
    double v = num(ld, prefix, key, zero_ok);
    if (v != floor(v) || v > 1 << 30) {
        fail(ld, "must be a whole number up to 2^30");
        return 1;
    }
    return (int)v;
}

/* Pushes the table at key (1) or nothing when it is absent (0). */
static int sub(loader *ld, const char *prefix, const char *key)
{
    snprintf(ld->key, sizeof ld->key, "%s%s", prefix, key);
    int t = lua_getfield(ld->L, -1, key);
    if (t == LUA_TTABLE)
        return 1;
    lua_pop(ld->L, 1);
    if (t != LUA_TNIL)
        fail(ld, "must be a table");
    return 0;
}

static void load_string(loader *ld, const char *key, char *out, size_t cap)
{
    snprintf(ld->key, sizeof ld->key, "%s", key);
    lua_getfield(ld->L, -1, key);
    const char *s = lua_type(ld->L, -1) == LUA_TSTRING ? lua_tostring(ld->L, -1) : NULL;
    if (s)
        snprintf(out, cap, "%s", s);
    else
        fail(ld, "must be a string");
    lua_pop(ld->L, 1);
}

static void load_bw(loader *ld, const char *prefix, const char *key, calib_bw_fit *b)
{
    char pre[64];
    snprintf(pre, sizeof pre, "%s%s.", prefix, key);
    if (!sub(ld, prefix, key))
        return;
    *b = (calib_bw_fit){1, count(ld, pre, "rows", 1), num(ld, pre, "bw_bytes_per_s", 0),
                        num(ld, pre, "fixed_s", 1)};
    lua_pop(ld->L, 1);
}

static void load_gemm(loader *ld, const char *what, calib_gemm_fit *g, int tiles)
{
    if (!sub(ld, "", what))
        return;
    for (int d = 0; d < CALIB_NDTYPE; d++) {
        char outer[48], pre[64];
        snprintf(outer, sizeof outer, "%s.", what);
        snprintf(pre, sizeof pre, "%s%s.", outer, calib_dtype_name((calib_dtype)d));
        if (!sub(ld, outer, calib_dtype_name((calib_dtype)d)))
            continue;
        calib_gemm_fit *x = &g[d];
        *x = (calib_gemm_fit){1, count(ld, pre, "rows", 1), num(ld, pre, "eff", 0), 0,
                              num(ld, pre, "fixed_s", 1), 0, 0, num(ld, pre, "peak_flops_per_s", 0)};
        if (tiles) {
            snprintf(ld->key, sizeof ld->key, "%sk_extra", pre);
            lua_getfield(ld->L, -1, "k_extra");
            int ok = 0;
            x->k_extra = lua_tonumberx(ld->L, -1, &ok);
            lua_pop(ld->L, 1);
            if (!ok)
                fail(ld, "must be a number");
            x->tile_m = count(ld, pre, "tile_m", 0);
            x->tile_n = count(ld, pre, "tile_n", 0);
        }
        lua_pop(ld->L, 1);
    }
    lua_pop(ld->L, 1);
}

/* attention_source.<dtype>: absent (profiles before it) means our kernel. */
static void load_sources(loader *ld, calib_profile *p)
{
    if (!sub(ld, "", "attention_source"))
        return;
    for (int d = 0; d < CALIB_NDTYPE && !ld->failed; d++) {
        const char *dt = calib_dtype_name((calib_dtype)d);
        snprintf(ld->key, sizeof ld->key, "attention_source.%s", dt);
        int t = lua_getfield(ld->L, -1, dt);
        const char *s = t == LUA_TSTRING ? lua_tostring(ld->L, -1) : "";
        if (strcmp(s, calib_attn_source_name(CALIB_ATTN_SDPA)) == 0)
            p->attention_source[d] = CALIB_ATTN_SDPA;
        else if (t != LUA_TNIL && strcmp(s, calib_attn_source_name(CALIB_ATTN_OWN)) != 0)
            fail(ld, "must be \"attention\" (our kernel) or \"sdpa_torch\"");
        lua_pop(ld->L, 1);
    }
    lua_pop(ld->L, 1);
}

static void load_collectives(loader *ld, calib_profile *p)
{
    if (!sub(ld, "", "collective"))
        return;
    int n = (int)lua_rawlen(ld->L, -1);
    for (int i = 1; i <= n && !ld->failed; i++) {
        char pre[48];
        snprintf(pre, sizeof pre, "collective[%d].", i);
        snprintf(ld->key, sizeof ld->key, "collective[%d]", i);
        if (p->ncoll == CALIB_MAX_COLL || lua_rawgeti(ld->L, -1, i) != LUA_TTABLE) {
            fail(ld, p->ncoll == CALIB_MAX_COLL ? "too many collective fits" : "must be a table");
            lua_pop(ld->L, p->ncoll == CALIB_MAX_COLL ? 0 : 1);
            break;
        }
        char op[32] = "";
        snprintf(ld->key, sizeof ld->key, "%sop", pre);
        lua_getfield(ld->L, -1, "op");
        if (lua_type(ld->L, -1) == LUA_TSTRING)
            snprintf(op, sizeof op, "%s", lua_tostring(ld->L, -1));
        lua_pop(ld->L, 1);
        int opi = -1;
        for (int k = 0; k < CALIB_NCOLLOP; k++)
            if (strcmp(op, calib_collop_name(k)) == 0)
                opi = k;
        if (opi < 0)
            fail(ld, "must be allreduce, allgather, reducescatter, alltoall or sendrecv");
        p->coll[p->ncoll++] = (calib_coll_fit){opi, count(ld, pre, "ranks", 0), count(ld, pre, "rows", 1),
                                               num(ld, pre, "latency_s", 1),
                                               num(ld, pre, "algbw_bytes_per_s", 0)};
        lua_pop(ld->L, 1);
    }
    lua_pop(ld->L, 1);
}

static void load_fields(loader *ld, calib_profile *p)
{
    if (num(ld, "", "format", 0) != 1)
        fail(ld, "this clustersim reads format 1");
    load_string(ld, "device", p->device, sizeof p->device);
    load_string(ld, "measured_on", p->measured_on, sizeof p->measured_on);
    p->sms = count(ld, "", "sms", 0);
    p->folds = count(ld, "", "folds", 0);
    load_gemm(ld, "gemm", p->gemm, 1);
    load_gemm(ld, "attention", p->attention, 0);
    load_gemm(ld, "attention_own", p->attention_own, 0);
    load_sources(ld, p);
    load_bw(ld, "", "membound", &p->membound);
    if (sub(ld, "", "memkernel")) {
        for (int i = 0; i < CALIB_NMEMKERNEL; i++)
            load_bw(ld, "memkernel.", calib_memkernel_name(i), &p->memkernel[i]);
        lua_pop(ld->L, 1);
    }
    if (sub(ld, "", "copy")) {
        for (int i = 0; i < CALIB_NCOPY; i++)
            load_bw(ld, "copy.", calib_copy_name(i), &p->copy[i]);
        lua_pop(ld->L, 1);
    }
    load_collectives(ld, p);
}

int profile_load(const char *path, calib_profile *p, cs_err *err)
{
    memset(p, 0, sizeof *p);
    /* no library opened: the file can only build its table; bounded, so a
     * profile with a loop in it stops */
    lua_limits lim;
    lua_limits_init(&lim, LUA_LIMITS_PROFILE_INSTRUCTIONS, LUA_LIMITS_PROFILE_MEMORY_MIB);
    lua_State *L = lua_limits_newstate(&lim);
    if (!L)
        return cs_fail(err, "%s: out of memory", path);
    loader ld = {L, path, "", err, 0};
    if (luaL_loadfilex(L, path, "t") != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
        cs_err why;
        lua_limits_error(&lim, "the device profile", lua_tostring(L, -1), &why);
        cs_fail(err, "device profile %s", why.msg);
        ld.failed = 1;
    } else if (!lua_istable(L, -1)) {
        cs_fail(err, "%s: a device profile returns a table (return { format = 1, ... })", path);
        ld.failed = 1;
    } else {
        load_fields(&ld, p);
    }
    lua_close(L);
    if (!ld.failed && !p->membound.have)
        return cs_fail(err, "%s: key 'membound': missing (every profile has it)", path);
    return ld.failed ? -1 : 0;
}

int profile_apply(const char *path, const dev_type *dev, calib_profile *p, opcost_eff *eff,
                  cs_err *err)
{
    if (profile_load(path, p, err) != 0)
        return -1;
    if (calib_profile_check_device(p, dev, err) != 0)
        return cs_fail_prefix(err, "%s: ", path);
    eff->profile = p;
    return 0;
}
