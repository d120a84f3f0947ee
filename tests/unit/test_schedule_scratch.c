/* Unit tests: what the closed form keeps from one layout to the next on a
 * thread (costmodel/cs_scratch.c, the orders view in schedule_view.c and
 * the replay's tables in schedule_zb.c).
 *
 * Reuse must not show in any figure: a replay run in a buffer left over
 * from a larger or a smaller layout gives, to the last bit, what the
 * replay gave before session 6 (kept below as the reference: fresh arrays,
 * schedule_vstage and schedule_path asked per unit); the view hands out
 * the orders a fresh build gives, whatever key came before it. */
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_scratch.h"
#include "schedule.h"
#include "schedule_checks.h"
#include "schedule_memo.h"
#include "tap.h"

static uint64_t rng_state = 0x2545f4914f6cdd1du;

static int rand_below(int n)
{
    rng_state = rng_state * 6364136223846793005u + 1442695040888963407u;
    return (int)((rng_state >> 33) % (uint64_t)n);
}

static double rand_time_s(void) { return (1 + rand_below(1000)) * 1e-4; }

/* ---- the reference: the replay as it was before the tables and scratch ---- */

typedef struct ref_ends {
    double *f_end, *b_end;
    int m;
} ref_ends;

static double ref_input_s(const layout_desc *l, const schedule_costs *c, const ref_ends *e, int r,
                          const schedule_unit *u)
{
    int vs = schedule_vstage(l, r, u->chunk), first, last;
    schedule_path(l, u->microbatch, &first, &last);
    double p2p = c->p2p_s;
    if (u->backward == SCHEDULE_F) {
        if (vs == first)
            return 0;
        double t = e->f_end[(vs - 1) * e->m + u->microbatch];
        return t < 0 ? -1 : t + (schedule_vstage_rank(l, vs - 1) == r ? 0 : p2p);
    }
    if (u->backward == SCHEDULE_W || vs == last)
        return 0;
    double t = e->b_end[(vs + 1) * e->m + u->microbatch];
    return t < 0 ? -1 : t + (schedule_vstage_rank(l, vs + 1) == r ? 0 : p2p);
}

static double ref_group_cost(const layout_desc *l, const schedule_costs *c, const schedule_unit *u,
                             int len, int r)
{
    if (len > 1 && c->fb_s)
        return c->fb_s[schedule_vstage(l, r, u->chunk)];
    double sum = 0;
    for (int j = 0; j < len; j++) {
        const double *arr = u[j].backward == SCHEDULE_F ? c->f_s
                            : u[j].backward == SCHEDULE_B ? c->b_s : c->w_s;
        sum += arr[schedule_vstage(l, r, u[j].chunk)];
    }
    return sum;
}

/* Rank r's unit i (a group of len) run: its ends and times. */
static void ref_run(const layout_desc *l, ref_ends *e, int r, const schedule_unit *u, int len,
                    double end)
{
    for (int j = 0; j < len; j++) {
        int vs = schedule_vstage(l, r, u[j].chunk);
        if (u[j].backward == SCHEDULE_F)
            e->f_end[vs * e->m + u[j].microbatch] = end;
        else if (u[j].backward == SCHEDULE_B)
            e->b_end[vs * e->m + u[j].microbatch] = end;
    }
}

/* first_s, end_s [pp]; start_s, stop_s [pp * units] */
static void ref_replay(const layout_desc *l, const schedule_unit *orders, const schedule_costs *c,
                       double *first_s, double *end_s, double *start_s, double *stop_s)
{
    int pp = l->pp, n = schedule_units(l);
    size_t cells = (size_t)schedule_vstages(l) * (size_t)layout_microbatches(l);
    ref_ends e = {malloc(sizeof(double) * cells), malloc(sizeof(double) * cells),
                  layout_microbatches(l)};
    for (size_t i = 0; i < cells; i++)
        e.f_end[i] = e.b_end[i] = -1;
    int *next = calloc((size_t)pp, sizeof *next);
    for (int r = 0; r < pp; r++)
        first_s[r] = -1, end_s[r] = 0;
    for (int progress = 1; progress;) {
        progress = 0;
        for (int r = 0; r < pp; r++)
            while (next[r] < n) {
                const schedule_unit *u = &orders[(size_t)r * n + next[r]];
                int len = schedule_group_len(orders + (size_t)r * n, next[r], n);
                double in = 0;
                for (int j = 0; j < len && in >= 0; j++) {
                    double at = ref_input_s(l, c, &e, r, &u[j]);
                    in = at < 0 ? -1 : fmax(in, at);
                }
                if (in < 0)
                    break;
                double start = fmax(end_s[r], in);
                if (first_s[r] < 0)
                    first_s[r] = start;
                end_s[r] = start + ref_group_cost(l, c, u, len, r);
                for (int j = 0; j < len; j++)
                    start_s[(size_t)r * n + next[r] + j] = start,
                    stop_s[(size_t)r * n + next[r] + j] = end_s[r];
                ref_run(l, &e, r, u, len, end_s[r]);
                next[r] += len;
                progress = 1;
            }
    }
    free(e.f_end);
    free(e.b_end);
    free(next);
}

/* ---- random layouts of every schedule, small and large ---- */

static const layout_schedule schedules[] = {
    LAYOUT_SCHEDULE_GPIPE, LAYOUT_SCHEDULE_1F1B,   LAYOUT_SCHEDULE_INTERLEAVED,
    LAYOUT_SCHEDULE_ZB_H1, LAYOUT_SCHEDULE_ZB_H2,  LAYOUT_SCHEDULE_ZBV,
    LAYOUT_SCHEDULE_V_HALF, LAYOUT_SCHEDULE_V_MIN, LAYOUT_SCHEDULE_DUALPIPE};
enum { NSCHEDULES = sizeof schedules / sizeof schedules[0] };

/* A valid (pp, vpp, m) for the schedule (layout.c's rules); `big` draws
 * up to 24 stages and 600 microbatches, else up to 4 and 12. */
static layout_desc random_pipe(layout_schedule s, int big)
{
    layout_desc l;
    layout_init(&l, NULL);
    l.schedule = s;
    l.pp = 2 + rand_below(big ? 23 : 3);
    l.vpp = s == LAYOUT_SCHEDULE_INTERLEAVED ? 2 + rand_below(3)
            : s == LAYOUT_SCHEDULE_ZBV || s == LAYOUT_SCHEDULE_V_HALF || s == LAYOUT_SCHEDULE_V_MIN
                ? 2 : 1;
    int least = 1, m;
    if (s == LAYOUT_SCHEDULE_ZB_H2)
        least = 2 * l.pp - 1;
    if (s == LAYOUT_SCHEDULE_DUALPIPE) {
        l.pp += l.pp % 2;
        least = 2 * l.pp;
    }
    m = least + rand_below(big ? 600 : 12);
    if (s == LAYOUT_SCHEDULE_DUALPIPE)
        m += m % 2;
    if (s == LAYOUT_SCHEDULE_INTERLEAVED)
        m = l.pp * (1 + rand_below(big ? 40 : 3));
    l.gbs = m; /* dp 1, mbs 1 */
    return l;
}

/* Replays l's orders (from the view) with random times, the reference
 * against schedule_replay_units and schedule_replay; 1 when every figure
 * is the same double. */
static int same_as_reference(const layout_desc *l)
{
    int nv = schedule_vstages(l), pp = l->pp;
    size_t all = (size_t)schedule_units(l) * (size_t)pp;
    double *t = malloc(sizeof *t * (4 * (size_t)nv + 5 * (size_t)pp + 4 * all));
    double *f = t, *b = f + nv, *w = b + nv, *fb = w + nv, *ends = fb + nv;
    double *units = ends + 5 * pp;
    for (int v = 0; v < nv; v++)
        f[v] = rand_time_s(), b[v] = rand_time_s(), w[v] = rand_time_s(), fb[v] = rand_time_s();
    schedule_costs c = {f, b, w, rand_time_s(), l->schedule == LAYOUT_SCHEDULE_DUALPIPE ? fb : NULL};
    const schedule_unit *orders = schedule_orders_view(l);
    ref_replay(l, orders, &c, ends, ends + pp, units, units + all);
    schedule_replay_units(l, orders, &c, ends + 2 * pp, ends + 3 * pp, units + 2 * all,
                          units + 3 * all);
    schedule_replay(l, orders, &c, NULL, ends + 4 * pp, NULL);
    int same = memcmp(ends, ends + 2 * pp, sizeof *ends * 2 * (size_t)pp) == 0 &&
               memcmp(ends + pp, ends + 4 * pp, sizeof *ends * (size_t)pp) == 0 &&
               memcmp(units, units + 2 * all, sizeof *units * 2 * all) == 0;
    free(t);
    return same;
}

/* 270 layouts, large and small in turn on one thread (each replay in the
 * buffers the last one left, bigger or smaller): every figure the same as
 * the reference's fresh arrays. */
static void reused_replay_equals_fresh(void)
{
    int bad = 0, cases = 0;
    for (int i = 0; i < 270; i++) {
        layout_desc l = random_pipe(schedules[i % NSCHEDULES], (i / NSCHEDULES) % 2 == 0);
        int same = same_as_reference(&l);
        if (!same)
            printf("# differs: schedule %d pp %d vpp %d m %d\n", (int)l.schedule, l.pp, l.vpp,
                   layout_microbatches(&l));
        bad += !same;
        cases++;
    }
    CHECK_EQ_INT(cases, 270);
    CHECK_EQ_INT(bad, 0);
}

/* Keys in the order A, B, A, A: each view is a fresh build's orders (so a
 * key that comes back is not served B's); the repeated key is served from
 * the same buffer without a rebuild (its contents untouched). */
static void view_follows_the_key(void)
{
    layout_desc a = random_pipe(LAYOUT_SCHEDULE_ZBV, 1), b = random_pipe(LAYOUT_SCHEDULE_ZB_H1, 0);
    layout_desc seq[] = {a, b, a, a};
    int bad = 0;
    const schedule_unit *prev = NULL;
    for (int k = 0; k < 4; k++) {
        size_t n = (size_t)schedule_units(&seq[k]) * (size_t)seq[k].pp;
        schedule_unit *built = malloc(sizeof *built * n);
        schedule_orders_built(&seq[k], NULL, built);
        const schedule_unit *view = schedule_orders_view(&seq[k]);
        bad += !same_units(built, view, n);
        if (k == 3)
            CHECK(view == prev);
        prev = view;
        free(built);
    }
    CHECK_EQ_INT(bad, 0);
    /* a key differing only in the microbatches is a different order */
    layout_desc c = a;
    c.gbs = a.gbs + 2;
    size_t n = (size_t)schedule_units(&c) * (size_t)c.pp;
    schedule_unit *built = malloc(sizeof *built * n);
    schedule_orders_built(&c, NULL, built);
    CHECK(same_units(built, schedule_orders_view(&c), n));
    free(built);
}

/* zb-auto's orders from measured times: the same times (a fresh copy)
 * are served without a rebuild; one time a bit larger, or other p2p, gives
 * the orders a fresh build from those times gives. */
static void timed_view_follows_the_times(void)
{
    layout_desc l = random_pipe(LAYOUT_SCHEDULE_ZB_H1, 1);
    l.schedule = LAYOUT_SCHEDULE_ZB_AUTO;
    int nv = schedule_vstages(&l);
    size_t n = (size_t)schedule_units(&l) * (size_t)l.pp;
    double *t = malloc(sizeof *t * 6 * (size_t)nv);
    for (int v = 0; v < 3 * nv; v++)
        t[v] = rand_time_s();
    memcpy(t + 3 * nv, t, sizeof *t * 3 * (size_t)nv);
    schedule_costs c = {t, t + nv, t + 2 * nv, 2e-3, NULL};
    schedule_costs again = {t + 3 * nv, t + 4 * nv, t + 5 * nv, 2e-3, NULL};
    schedule_unit *built = malloc(sizeof *built * n);
    const schedule_unit *first = schedule_orders_timed_view(&l, &c);
    schedule_orders_built(&l, &c, built);
    CHECK(same_units(built, first, n));
    CHECK(schedule_orders_timed_view(&l, &again) == first);
    schedule_unit *orig = malloc(sizeof *orig * n);
    memcpy(orig, first, sizeof *orig * n);
    int bad = 0, moved = 0;
    for (int k = 0; k < 12; k++) {
        if (k % 3 == 1)
            again.p2p_s = rand_time_s();
        else if (k % 3 == 0)
            t[3 * nv + rand_below(3 * nv)] *= 1.0 + 0x1p-52; /* one bit */
        else
            t[3 * nv + rand_below(3 * nv)] *= 8; /* a unit far slower: other orders */
        schedule_orders_built(&l, &again, built);
        const schedule_unit *view = schedule_orders_timed_view(&l, &again);
        bad += !same_units(built, view, n);
        moved += !same_units(orig, view, n);
    }
    CHECK_EQ_INT(bad, 0);
    CHECK(moved > 0); /* the times did change the orders: a view that ignored them fails */
    free(orig);
    free(built);
    free(t);
}

/* A slot grows to the largest ask and is reused (not reallocated) for a
 * smaller one; each thread has its own. */
typedef struct other_view {
    const char *main_buf; /* the main thread's buffer of the slot */
    int distinct;         /* the other thread's is another */
    size_t held;          /* and as large as that thread asked */
} other_view;

static void *other_thread(void *arg)
{
    other_view *o = arg;
    char *mine = cs_scratch(CS_SCRATCH_UNIT_TIMES, 64);
    memset(mine, 'b', 64);
    o->distinct = mine != o->main_buf;
    o->held = cs_scratch_held(CS_SCRATCH_UNIT_TIMES);
    return NULL;
}

static void slots_grow_and_stay_per_thread(void)
{
    char *p = cs_scratch(CS_SCRATCH_UNIT_TIMES, 1000);
    CHECK(cs_scratch_held(CS_SCRATCH_UNIT_TIMES) >= 1000);
    memset(p, 'a', 1000);
    CHECK(cs_scratch(CS_SCRATCH_UNIT_TIMES, 10) == p);
    size_t held = cs_scratch_held(CS_SCRATCH_UNIT_TIMES);
    char *q = cs_scratch(CS_SCRATCH_UNIT_TIMES, held + 1);
    CHECK(cs_scratch_held(CS_SCRATCH_UNIT_TIMES) >= held + held / 2);
    memset(q, 'a', 1000);
    pthread_t t;
    other_view o = {q, 0, 0};
    CHECK_EQ_INT(pthread_create(&t, NULL, other_thread, &o), 0);
    pthread_join(t, NULL);
    CHECK(o.distinct);
    CHECK(o.held >= 64 && o.held < 1000);
    int intact = 1;
    for (int i = 0; i < 1000; i++)
        intact &= q[i] == 'a';
    CHECK(intact);
}

TAP_MAIN({"reused_replay_equals_fresh", reused_replay_equals_fresh},
         {"view_follows_the_key", view_follows_the_key},
         {"timed_view_follows_the_times", timed_view_follows_the_times},
         {"slots_grow_and_stay_per_thread", slots_grow_and_stay_per_thread})
