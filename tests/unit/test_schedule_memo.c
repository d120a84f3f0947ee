/* Unit tests: the memo of split-backward unit orders (costmodel/schedule_memo.c).
 *
 * A search prices thousands of layouts that share a few (schedule, pp, vpp,
 * microbatches); the memo hands each the order built for the first.  What
 * it hands out must be the builder's order unit for unit, so that every
 * time and memory figure replayed from it is the same to the last bit: on
 * random cases of every split-backward schedule the memo's copy is held to
 * a fresh build (schedule_orders_built) and both are replayed with random
 * unit and send times.  Large orders must be kept too: until session 5 an
 * order over 262,144 units (4 MiB at 16 bytes a unit) was rebuilt twice for
 * every layout of a search (31 s for a 16-GPU search at 16,381
 * microbatches, validate/benchmarks.md). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedule.h"
#include "schedule_checks.h"
#include "schedule_memo.h"
#include "tap.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static int rand_below(int n)
{
    rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
    return (int)((rng_state >> 33) % (uint64_t)n);
}

static double rand_time_s(void) { return (1 + rand_below(1000)) * 1e-4; }

static const layout_schedule split_schedules[] = {
    LAYOUT_SCHEDULE_ZB_H1, LAYOUT_SCHEDULE_ZB_H2,  LAYOUT_SCHEDULE_ZBV,
    LAYOUT_SCHEDULE_V_HALF, LAYOUT_SCHEDULE_V_MIN, LAYOUT_SCHEDULE_DUALPIPE};

/* A valid (pp, vpp, m) for the schedule (costmodel/layout.c's rules). */
static layout_desc random_pipe(layout_schedule s)
{
    layout_desc l;
    layout_init(&l, NULL);
    l.schedule = s;
    l.pp = 2 + rand_below(23);
    l.vpp = s == LAYOUT_SCHEDULE_ZBV || s == LAYOUT_SCHEDULE_V_HALF || s == LAYOUT_SCHEDULE_V_MIN
                ? 2
                : 1;
    int least = 1;
    if (s == LAYOUT_SCHEDULE_ZB_H2)
        least = 2 * l.pp - 1;
    if (s == LAYOUT_SCHEDULE_DUALPIPE) {
        l.pp += l.pp % 2;
        least = 2 * l.pp;
    }
    int m = least + rand_below(300);
    if (s == LAYOUT_SCHEDULE_DUALPIPE)
        m += m % 2;
    l.gbs = m; /* dp 1, mbs 1 */
    return l;
}

/* Replays both orders with the same random times; 1 when every rank's
 * first start, end and busy time agree within 1e-12 s (a picosecond). */
static int same_replay(const layout_desc *l, const schedule_unit *a, const schedule_unit *b)
{
    int nv = schedule_vstages(l), pp = l->pp, ok = 1;
    double *t = malloc(sizeof *t * (size_t)(4 * nv + 6 * pp));
    double *f = t, *bw = f + nv, *w = bw + nv, *fb = w + nv, *out = fb + nv;
    for (int v = 0; v < nv; v++)
        f[v] = rand_time_s(), bw[v] = rand_time_s(), w[v] = rand_time_s(),
        fb[v] = f[v] + bw[v];
    schedule_costs c = {f, bw, w, rand_time_s(), l->schedule == LAYOUT_SCHEDULE_DUALPIPE ? fb : NULL};
    schedule_replay(l, a, &c, out, out + pp, out + 2 * pp);
    schedule_replay(l, b, &c, out + 3 * pp, out + 4 * pp, out + 5 * pp);
    for (int i = 0; i < 3 * pp; i++)
        ok &= fabs(out[i] - out[3 * pp + i]) <= 1e-12;
    free(t);
    return ok;
}

/* 300 random cases: the memo's copy (a second schedule_orders) is the
 * builder's order, and replays to the same times. */
static void hit_equals_build(void)
{
    int cases = 0, bad_units = 0, bad_times = 0, hits = 0;
    for (int i = 0; i < 300; i++) {
        layout_desc l = random_pipe(split_schedules[i % 6]);
        size_t n = (size_t)schedule_units(&l) * (size_t)l.pp;
        schedule_unit *built = malloc(sizeof *built * n), *kept = malloc(sizeof *kept * n);
        schedule_orders_built(&l, NULL, built);
        schedule_orders(&l, NULL, kept); /* builds and keeps, or (a repeated key) reads */
        bad_units += !same_units(built, kept, n);
        memset(kept, 0xff, sizeof *kept * n);
        hits += schedule_memo_get(l.schedule, l.pp, l.vpp, layout_microbatches(&l), kept, n);
        bad_units += !same_units(built, kept, n);
        bad_times += !same_replay(&l, built, kept);
        cases++;
        free(built);
        free(kept);
    }
    if (bad_units || bad_times)
        printf("# %d cases: %d orders differ, %d replays differ\n", cases, bad_units, bad_times);
    CHECK_EQ_INT(bad_units, 0);
    CHECK_EQ_INT(bad_times, 0);
    CHECK_EQ_INT(hits, cases);
}

/* An order of 393,216 units (v-half, pp 16, 4,096 microbatches: 6 MiB at
 * 16 bytes a unit) is kept: a search reads it instead of rebuilding it. */
static void keeps_large_orders(void)
{
    layout_desc l;
    layout_init(&l, NULL);
    l.schedule = LAYOUT_SCHEDULE_V_HALF;
    l.pp = 16;
    l.vpp = 2;
    l.gbs = 4096;
    size_t n = (size_t)schedule_units(&l) * (size_t)l.pp;
    CHECK_EQ_INT(n, 393216);
    schedule_unit *o = malloc(sizeof *o * n), *again = malloc(sizeof *again * n);
    schedule_orders(&l, NULL, o);
    CHECK_EQ_INT(schedule_memo_get(l.schedule, l.pp, l.vpp, 4096, again, n), 1);
    CHECK(same_units(o, again, n));
    free(o);
    free(again);
}

/* Every field at its bounds packs and unpacks to itself; a field the
 * packing cannot hold is refused (the memo then keeps nothing). */
static void packing(void)
{
    static const int mbs[] = {0, 1, 4095, (1 << 22) + 3, (1 << 28) - 1};
    int bad = 0;
    for (int kind = SCHEDULE_F; kind <= SCHEDULE_W; kind++)
        for (int chunk = 0; chunk <= 1; chunk++)
            for (int overlap = 0; overlap <= 1; overlap++)
                for (int i = 0; i < 5; i++) {
                    schedule_unit u = {kind, mbs[i], chunk, overlap}, back;
                    uint32_t p;
                    if (schedule_memo_pack(&u, &p) != 0) {
                        bad++;
                        continue;
                    }
                    back = schedule_memo_unpack(p);
                    bad += !same_units(&u, &back, 1);
                }
    CHECK_EQ_INT(bad, 0);
    uint32_t p;
    CHECK_EQ_INT(schedule_memo_pack(&(schedule_unit){SCHEDULE_F, 1 << 28, 0, 0}, &p), -1);
    CHECK_EQ_INT(schedule_memo_pack(&(schedule_unit){SCHEDULE_F, -1, 0, 0}, &p), -1);
    CHECK_EQ_INT(schedule_memo_pack(&(schedule_unit){SCHEDULE_B, 0, 2, 0}, &p), -1);
    CHECK_EQ_INT(schedule_memo_pack(&(schedule_unit){SCHEDULE_W + 1, 0, 0, 0}, &p), -1);
    CHECK_EQ_INT(schedule_memo_pack(&(schedule_unit){SCHEDULE_W, 0, 0, 2}, &p), -1);
}

/* An order with a unit the packing cannot hold is not kept (and not
 * mangled); SCHEDULE_MEMO_ENTRIES + 1 keys put in turn push the first out. */
static void refuses_and_evicts(void)
{
    schedule_unit odd[3] = {{SCHEDULE_F, 0, 0, 0}, {SCHEDULE_B, 0, 3, 0}, {SCHEDULE_W, 0, 0, 0}};
    schedule_unit got[3];
    schedule_memo_put(LAYOUT_SCHEDULE_ZB_H1, 1000, 1, 1, odd, 3);
    CHECK_EQ_INT(schedule_memo_get(LAYOUT_SCHEDULE_ZB_H1, 1000, 1, 1, got, 3), 0);
    schedule_unit one[3] = {{SCHEDULE_F, 0, 0, 0}, {SCHEDULE_B, 0, 0, 0}, {SCHEDULE_W, 0, 0, 0}};
    for (int k = 0; k <= SCHEDULE_MEMO_ENTRIES; k++)
        schedule_memo_put(LAYOUT_SCHEDULE_ZB_H1, 2000 + k, 1, 1, one, 3);
    CHECK_EQ_INT(schedule_memo_get(LAYOUT_SCHEDULE_ZB_H1, 2000, 1, 1, got, 3), 0);
    CHECK_EQ_INT(schedule_memo_get(LAYOUT_SCHEDULE_ZB_H1, 2001, 1, 1, got, 3), 1);
    CHECK_EQ_INT(schedule_memo_get(LAYOUT_SCHEDULE_ZB_H1, 2000 + SCHEDULE_MEMO_ENTRIES, 1, 1, got, 3), 1);
    CHECK(same_units(one, got, 3));
}

TAP_MAIN({"hit_equals_build", hit_equals_build}, {"keeps_large_orders", keeps_large_orders},
         {"packing", packing}, {"refuses_and_evicts", refuses_and_evicts})
