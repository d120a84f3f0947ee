/* Unit tests of evq: ordering, FIFO ties, cancellation, handlers that
 * schedule, the clock, and randomized comparison against a reference. */
#include <stdint.h>
#include <stdlib.h>

#include "evq.h"
#include "tap.h"

/* ---- helpers ------------------------------------------------------------ */

/* Records (time, arg) of every event run. */
typedef struct trace {
    uint64_t time_ps[4096];
    uint64_t arg[4096];
    int n;
} trace;

static void record(evq *q, void *ctx, uint64_t arg)
{
    trace *t = ctx;
    if (t->n < 4096) {
        t->time_ps[t->n] = evq_now(q);
        t->arg[t->n] = arg;
    }
    t->n++;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* ---- ordering ----------------------------------------------------------- */

static void test_order_by_time(void)
{
    evq *q = evq_new();
    trace t = {0};
    uint64_t times[] = {500, 20, 7, 1000000, 0, 300, 299, 301, 1ull << 40, 65536, 65535};
    int n = (int)(sizeof times / sizeof times[0]);
    for (int i = 0; i < n; i++)
        evq_schedule(q, times[i], record, &t, times[i]);
    CHECK_EQ_INT(evq_pending(q), n);
    CHECK_EQ_INT(evq_run(q), n);
    CHECK_EQ_INT(t.n, n);
    for (int i = 1; i < t.n; i++)
        CHECK(t.time_ps[i - 1] < t.time_ps[i]);
    for (int i = 0; i < t.n; i++)
        CHECK_EQ_INT(t.arg[i], t.time_ps[i]);
    CHECK_EQ_INT(evq_now(q), 1ull << 40);
    CHECK_EQ_INT(evq_pending(q), 0);
    CHECK_EQ_INT(evq_executed(q), n);
    CHECK_EQ_INT(evq_step(q), 0);
    evq_free(q);
}

static void test_fifo_equal_times(void)
{
    evq *q = evq_new();
    trace t = {0};
    /* Interleave two times; each keeps its own scheduling order. */
    for (int i = 0; i < 10; i++)
        evq_schedule(q, i % 2 ? 1000 : 700, record, &t, (uint64_t)i);
    evq_run(q);
    int expect[] = {0, 2, 4, 6, 8, 1, 3, 5, 7, 9};
    CHECK_EQ_INT(t.n, 10);
    for (int i = 0; i < 10; i++)
        CHECK_EQ_INT(t.arg[i], expect[i]);
    evq_free(q);
}

/* Equal-time events scheduled at different moments, with pops between:
 * the order must still be scheduling order. */
static void test_fifo_across_pops(void)
{
    evq *q = evq_new();
    trace t = {0};
    evq_schedule(q, 5000, record, &t, 1);
    evq_schedule(q, 10, record, &t, 100);
    evq_schedule(q, 5000, record, &t, 2);
    CHECK_EQ_INT(evq_step(q), 1); /* runs time 10 */
    evq_schedule(q, 5000, record, &t, 3);
    evq_schedule(q, 4999, record, &t, 99);
    CHECK_EQ_INT(evq_step(q), 1); /* runs 4999 */
    evq_schedule(q, 5000, record, &t, 4);
    CHECK_EQ_INT(evq_step(q), 1); /* runs the first at 5000 */
    evq_schedule(q, 5000, record, &t, 5); /* at now, behind the others */
    evq_run(q);
    uint64_t expect[] = {100, 99, 1, 2, 3, 4, 5};
    CHECK_EQ_INT(t.n, 7);
    for (int i = 0; i < 7; i++)
        CHECK_EQ_INT(t.arg[i], expect[i]);
    evq_free(q);
}

/* Many events at one time far out, plus a spread: FIFO survives the
 * redistribution of large buckets. */
static void test_fifo_large_tie_group(void)
{
    evq *q = evq_new();
    trace t = {0};
    uint64_t s = 7;
    for (int i = 0; i < 3000; i++) {
        uint64_t time_ps = (splitmix64(&s) % 3) ? 123456789 : splitmix64(&s) % 200000000;
        evq_schedule(q, time_ps, record, &t, (uint64_t)i);
    }
    evq_run(q);
    CHECK_EQ_INT(t.n, 3000);
    for (int i = 1; i < 3000; i++) {
        CHECK(t.time_ps[i - 1] <= t.time_ps[i]);
        if (t.time_ps[i - 1] == t.time_ps[i])
            CHECK(t.arg[i - 1] < t.arg[i]);
    }
    evq_free(q);
}

/* ---- cancellation -------------------------------------------------------- */

static void test_cancel(void)
{
    evq *q = evq_new();
    trace t = {0};
    evq_id a = evq_schedule(q, 100, record, &t, 1);
    evq_id b = evq_schedule(q, 200, record, &t, 2);
    evq_id c = evq_schedule(q, 300, record, &t, 3);
    CHECK(a != 0 && b != 0 && c != 0);
    CHECK(a != b && b != c && a != c);
    CHECK_EQ_INT(evq_pending(q), 3);
    CHECK_EQ_INT(evq_cancel(q, b), 1);
    CHECK_EQ_INT(evq_pending(q), 2);
    CHECK_EQ_INT(evq_cancel(q, b), 0); /* double cancel */
    CHECK_EQ_INT(evq_pending(q), 2);
    CHECK_EQ_INT(evq_cancel(q, 0), 0);
    CHECK_EQ_INT(evq_cancel(q, 0xdeadbeef00000001ull), 0);
    CHECK_EQ_INT(evq_cancel(q, 12345), 0);
    CHECK_EQ_INT(evq_step(q), 1);
    CHECK_EQ_INT(evq_cancel(q, a), 0); /* already ran */
    CHECK_EQ_INT(evq_run(q), 1);
    CHECK_EQ_INT(t.n, 2);
    CHECK_EQ_INT(t.arg[0], 1);
    CHECK_EQ_INT(t.arg[1], 3);
    CHECK_EQ_INT(evq_executed(q), 2);
    CHECK_EQ_INT(evq_cancel(q, c), 0);
    /* made-up handles for a used slot: later generations, or the even
     * generation the slot moved to once its event ran */
    CHECK_EQ_INT(evq_cancel(q, a + (1ull << 32)), 0);
    CHECK_EQ_INT(evq_cancel(q, c + (2ull << 32)), 0);
    evq_free(q);
}

/* A purge (many cancels) from a handler while a tie group is being run:
 * the rest of the group runs once each, in order. */
typedef struct purge_ctx {
    trace tr;
    evq_id victims[3000];
    int cancelled;
} purge_ctx;

static void purge_handler(evq *q, void *ctx, uint64_t arg)
{
    purge_ctx *c = ctx;
    record(q, &c->tr, arg);
    if (arg != 0)
        return;
    for (int i = 0; i < 3000; i++)
        c->cancelled += evq_cancel(q, c->victims[i]);
}

static void test_purge_inside_tie_group(void)
{
    evq *q = evq_new();
    static purge_ctx c;
    for (uint64_t i = 0; i < 300; i++)
        evq_schedule(q, 777777, purge_handler, &c, i);
    for (int i = 0; i < 3000; i++)
        c.victims[i] = evq_schedule(q, 800000 + (uint64_t)i, purge_handler, &c, 1000 + (uint64_t)i);
    evq_schedule(q, 900000, purge_handler, &c, 5000);
    CHECK_EQ_INT(evq_run(q), 301);
    CHECK_EQ_INT(c.cancelled, 3000);
    CHECK_EQ_INT(c.tr.n, 301);
    for (int i = 0; i < 300 && i < c.tr.n; i++)
        CHECK_EQ_INT(c.tr.arg[i], i);
    CHECK_EQ_INT(c.tr.arg[300], 5000);
    /* every slot is handed out once: fresh handles all cancel */
    static evq_id fresh[4000];
    int ok = 0;
    for (int i = 0; i < 4000; i++)
        fresh[i] = evq_schedule(q, 1000000, purge_handler, &c, 1);
    for (int i = 0; i < 4000; i++)
        ok += evq_cancel(q, fresh[i]);
    CHECK_EQ_INT(ok, 4000);
    CHECK_EQ_INT(evq_pending(q), 0);
    evq_free(q);
}

/* A stale handle must not cancel the event that reuses its slot. */
static void test_cancel_handle_reuse(void)
{
    evq *q = evq_new();
    trace t = {0};
    evq_id old_ran = evq_schedule(q, 10, record, &t, 1);
    evq_run(q);
    evq_id old_cancelled = evq_schedule(q, 20, record, &t, 2);
    CHECK_EQ_INT(evq_cancel(q, old_cancelled), 1);
    evq_run(q); /* drops the cancelled item, freeing its slot */
    evq_id fresh[8];
    for (int i = 0; i < 8; i++)
        fresh[i] = evq_schedule(q, 30 + (uint64_t)i, record, &t, 10 + (uint64_t)i);
    for (int i = 0; i < 8; i++)
        CHECK(fresh[i] != old_ran && fresh[i] != old_cancelled);
    CHECK_EQ_INT(evq_cancel(q, old_ran), 0);
    CHECK_EQ_INT(evq_cancel(q, old_cancelled), 0);
    CHECK_EQ_INT(evq_pending(q), 8);
    CHECK_EQ_INT(evq_run(q), 8);
    CHECK_EQ_INT(t.n, 9);
    evq_free(q);
}

/* Cancelling most of a large queue triggers the purge; the survivors still
 * run in order and the cancelled never run. */
static void test_cancel_many(void)
{
    enum { N = 20000 };
    evq *q = evq_new();
    trace t = {0};
    static evq_id id[N];
    uint64_t s = 99;
    for (int i = 0; i < N; i++)
        id[i] = evq_schedule(q, 1000 + splitmix64(&s) % 1000000, record, &t, (uint64_t)i);
    int kept = 0;
    for (int i = 0; i < N; i++) {
        if (i % 10 == 3) {
            kept++;
            continue;
        }
        CHECK_EQ_INT(evq_cancel(q, id[i]), 1);
    }
    CHECK_EQ_INT(evq_pending(q), kept);
    int again = 0;
    for (int i = 0; i < N; i++)
        if (i % 10 != 3)
            again += evq_cancel(q, id[i]);
    CHECK_EQ_INT(again, 0);
    CHECK_EQ_INT(evq_pending(q), kept);
    CHECK_EQ_INT(evq_run(q), kept);
    CHECK_EQ_INT(t.n, kept);
    for (int i = 0; i < t.n && i < 4096; i++)
        CHECK_EQ_INT(t.arg[i] % 10, 3);
    evq_free(q);
}

/* ---- handlers ------------------------------------------------------------ */

typedef struct chain {
    trace tr;
    int remaining;
    evq_id victim;
    int cancel_result;
} chain;

/* Schedules one event at the same time and one later, until done. */
static void chain_handler(evq *q, void *ctx, uint64_t arg)
{
    chain *c = ctx;
    record(q, &c->tr, arg);
    if (c->remaining-- <= 0)
        return;
    evq_schedule_in(q, 0, chain_handler, c, arg * 10 + 1);
    evq_schedule_in(q, 7, chain_handler, c, arg * 10 + 2);
}

static void test_handler_schedules(void)
{
    evq *q = evq_new();
    chain c = {.remaining = 3};
    evq_schedule(q, 100, chain_handler, &c, 1);
    evq_schedule(q, 100, record, &c.tr, 5);
    evq_run(q);
    /* 1@100 -> 11@100, 12@107; 5@100 was queued before 11; 11 -> 111@100,
     * 112@107; 111 -> 1111@100, 1112@107; then no more scheduling. */
    uint64_t expect_arg[] = {1, 5, 11, 111, 1111, 12, 112, 1112};
    uint64_t expect_t[] = {100, 100, 100, 100, 100, 107, 107, 107};
    CHECK_EQ_INT(c.tr.n, 8);
    for (int i = 0; i < 8 && i < c.tr.n; i++) {
        CHECK_EQ_INT(c.tr.arg[i], expect_arg[i]);
        CHECK_EQ_INT(c.tr.time_ps[i], expect_t[i]);
    }
    evq_free(q);
}

static void cancelling_handler(evq *q, void *ctx, uint64_t arg)
{
    chain *c = ctx;
    record(q, &c->tr, arg);
    c->cancel_result = evq_cancel(q, c->victim);
}

static void test_handler_cancels(void)
{
    evq *q = evq_new();
    chain c = {0};
    evq_schedule(q, 50, cancelling_handler, &c, 1);
    c.victim = evq_schedule(q, 50, record, &c.tr, 2); /* same time, after */
    evq_schedule(q, 60, record, &c.tr, 3);
    evq_run(q);
    CHECK_EQ_INT(c.cancel_result, 1);
    CHECK_EQ_INT(c.tr.n, 2);
    CHECK_EQ_INT(c.tr.arg[0], 1);
    CHECK_EQ_INT(c.tr.arg[1], 3);
    evq_free(q);
}

/* More distinct handlers than the queue's first handler table holds, used
 * in a scrambled order: each event runs its own handler. */
typedef struct fn_log {
    int ran[64];
    int wrong;
} fn_log;

#define FN(k)                                                  \
    static void fn_##k(evq *q, void *ctx, uint64_t arg)        \
    {                                                          \
        fn_log *l = ctx;                                       \
        (void)q;                                               \
        l->ran[k]++;                                           \
        l->wrong += arg % 40 != k;                             \
    }
FN(0) FN(1) FN(2) FN(3) FN(4) FN(5) FN(6) FN(7) FN(8) FN(9)
FN(10) FN(11) FN(12) FN(13) FN(14) FN(15) FN(16) FN(17) FN(18) FN(19)
FN(20) FN(21) FN(22) FN(23) FN(24) FN(25) FN(26) FN(27) FN(28) FN(29)
FN(30) FN(31) FN(32) FN(33) FN(34) FN(35) FN(36) FN(37) FN(38) FN(39)

static void test_many_handlers(void)
{
    static const evq_handler fns[40] = {
        fn_0,  fn_1,  fn_2,  fn_3,  fn_4,  fn_5,  fn_6,  fn_7,  fn_8,  fn_9,
        fn_10, fn_11, fn_12, fn_13, fn_14, fn_15, fn_16, fn_17, fn_18, fn_19,
        fn_20, fn_21, fn_22, fn_23, fn_24, fn_25, fn_26, fn_27, fn_28, fn_29,
        fn_30, fn_31, fn_32, fn_33, fn_34, fn_35, fn_36, fn_37, fn_38, fn_39};
    evq *q = evq_new();
    fn_log l = {0};
    uint64_t s = 5;
    for (uint64_t i = 0; i < 4000; i++) {
        uint64_t k = splitmix64(&s) % 40;
        evq_schedule(q, splitmix64(&s) % 100000, fns[k], &l, k + 40 * i);
    }
    CHECK_EQ_INT(evq_run(q), 4000);
    CHECK_EQ_INT(l.wrong, 0);
    int total = 0, used = 0;
    for (int k = 0; k < 40; k++) {
        total += l.ran[k];
        used += l.ran[k] > 0;
    }
    CHECK_EQ_INT(total, 4000);
    CHECK_EQ_INT(used, 40);
    evq_free(q);
}

/* ---- clock ---------------------------------------------------------------- */

static void test_clamp_past(void)
{
    evq *q = evq_new();
    trace t = {0};
    evq_schedule(q, 1000, record, &t, 1);
    evq_run(q);
    evq_schedule(q, 1000, record, &t, 2);
    evq_schedule(q, 10, record, &t, 3); /* in the past: runs at 1000 */
    evq_schedule_in(q, 0, record, &t, 4);
    evq_run(q);
    CHECK_EQ_INT(t.n, 4);
    for (int i = 0; i < 4; i++) {
        CHECK_EQ_INT(t.arg[i], i + 1);
        CHECK_EQ_INT(t.time_ps[i], 1000);
    }
    /* schedule_in saturates instead of wrapping into the past */
    evq_schedule_in(q, UINT64_MAX, record, &t, 5);
    evq_run(q);
    CHECK_EQ_INT(t.n, 5);
    CHECK(evq_now(q) == UINT64_MAX);
    evq_free(q);
}

static void test_run_until(void)
{
    evq *q = evq_new();
    trace t = {0};
    evq_schedule(q, 100, record, &t, 1);
    evq_schedule(q, 200, record, &t, 2);
    evq_schedule(q, 300, record, &t, 3);
    CHECK_EQ_INT(evq_run_until(q, 200), 2); /* <= until runs */
    CHECK_EQ_INT(evq_now(q), 200);
    CHECK_EQ_INT(evq_run_until(q, 250), 0); /* events remain beyond */
    CHECK_EQ_INT(evq_now(q), 250);
    CHECK_EQ_INT(evq_pending(q), 1);
    /* After a bounded run, scheduling between the clock and the next event
     * must work and keep order. */
    evq_schedule(q, 260, record, &t, 4);
    evq_schedule(q, 250, record, &t, 5);
    CHECK_EQ_INT(evq_run_until(q, 100), 1); /* until in the past: only now */
    CHECK_EQ_INT(evq_now(q), 250);
    CHECK_EQ_INT(evq_run_until(q, 1000), 2); /* runs dry before until */
    CHECK_EQ_INT(evq_now(q), 1000);
    uint64_t expect[] = {1, 2, 5, 4, 3};
    CHECK_EQ_INT(t.n, 5);
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(t.arg[i], expect[i]);
    CHECK_EQ_INT(evq_run_until(q, 5000), 0);
    CHECK_EQ_INT(evq_now(q), 5000);
    evq_schedule(q, 10, record, &t, 6); /* clamps to 5000 */
    evq_run(q);
    CHECK_EQ_INT(t.time_ps[5], 5000);
    evq_free(q);
}

/* run_until with a cancelled event as the only one before until, then
 * events scheduled right after the clock. */
static void test_run_until_cancelled(void)
{
    evq *q = evq_new();
    trace t = {0};
    evq_id a = evq_schedule(q, 1000, record, &t, 1);
    evq_schedule(q, 1ull << 30, record, &t, 2);
    evq_cancel(q, a);
    CHECK_EQ_INT(evq_run_until(q, 5000), 0);
    CHECK_EQ_INT(evq_now(q), 5000);
    evq_schedule(q, 5001, record, &t, 3);
    evq_schedule(q, 5000, record, &t, 4);
    evq_run(q);
    CHECK_EQ_INT(t.n, 3);
    CHECK_EQ_INT(t.arg[0], 4);
    CHECK_EQ_INT(t.arg[1], 3);
    CHECK_EQ_INT(t.arg[2], 2);
    /* Only cancelled events left: the queue drains, the clock stays. */
    evq_id b = evq_schedule(q, evq_now(q) + 1000000, record, &t, 5);
    evq_cancel(q, b);
    uint64_t now = evq_now(q);
    CHECK_EQ_INT(evq_run(q), 0);
    CHECK_EQ_INT(evq_now(q), now);
    evq_schedule(q, now + 1, record, &t, 6);
    CHECK_EQ_INT(evq_run(q), 1);
    CHECK_EQ_INT(t.arg[3], 6);
    evq_free(q);
}

/* The queue drains through a large group of cancelled events far ahead;
 * events scheduled afterwards, before that group's times, keep order. */
static void test_drain_cancelled_group(void)
{
    evq *q = evq_new();
    trace t = {0};
    evq_id id[100];
    for (int i = 0; i < 100; i++)
        id[i] = evq_schedule(q, 5000000 + 3 * (uint64_t)i, record, &t, 0);
    for (int i = 0; i < 100; i++)
        evq_cancel(q, id[i]);
    CHECK_EQ_INT(evq_run(q), 0);
    CHECK_EQ_INT(evq_now(q), 0);
    uint64_t times[] = {4000000, 300, 70000, 299, 5000001, 1};
    for (int i = 0; i < 6; i++)
        evq_schedule(q, times[i], record, &t, times[i]);
    CHECK_EQ_INT(evq_run(q), 6);
    for (int i = 1; i < t.n; i++)
        CHECK(t.time_ps[i - 1] < t.time_ps[i]);
    for (int i = 0; i < t.n; i++)
        CHECK_EQ_INT(t.arg[i], t.time_ps[i]);
    evq_free(q);
}

/* A bounded run stops before a large group beyond until; events scheduled
 * between the clock and that group run first, in order. */
static void test_run_until_before_group(void)
{
    evq *q = evq_new();
    trace t = {0};
    for (uint64_t i = 0; i < 100; i++)
        evq_schedule(q, 0x123456 + 5 * i, record, &t, 0x123456 + 5 * i);
    evq_run_until(q, 0x100000);
    CHECK_EQ_INT(evq_now(q), 0x100000);
    uint64_t times[] = {0x123455, 0x100001, 0x100000, 0x120000};
    for (int i = 0; i < 4; i++)
        evq_schedule(q, times[i], record, &t, times[i]);
    CHECK_EQ_INT(evq_run(q), 104);
    CHECK_EQ_INT(t.n, 104);
    for (int i = 1; i < t.n; i++)
        CHECK(t.time_ps[i - 1] < t.time_ps[i]);
    for (int i = 0; i < t.n; i++)
        CHECK_EQ_INT(t.arg[i], t.time_ps[i]);
    evq_free(q);
}

static void stopping_handler(evq *q, void *ctx, uint64_t arg)
{
    record(q, ctx, arg);
    if (arg == 2)
        evq_stop(q);
}

static void test_stop(void)
{
    evq *q = evq_new();
    trace t = {0};
    for (uint64_t i = 1; i <= 5; i++)
        evq_schedule(q, 10 * i, stopping_handler, &t, i);
    CHECK_EQ_INT(evq_run(q), 2);
    CHECK_EQ_INT(evq_now(q), 20);
    CHECK_EQ_INT(evq_pending(q), 3);
    CHECK_EQ_INT(evq_run(q), 3); /* resumes; the stop was consumed */
    CHECK_EQ_INT(t.n, 5);
    CHECK_EQ_INT(evq_now(q), 50);
    evq_schedule(q, 60, stopping_handler, &t, 2);
    evq_schedule(q, 70, stopping_handler, &t, 7);
    CHECK_EQ_INT(evq_run_until(q, 1000), 1); /* stop also ends run_until */
    CHECK_EQ_INT(evq_now(q), 60);
    /* a stop outside a run (here from evq_step) does not stop the next run */
    evq_schedule(q, 80, stopping_handler, &t, 2);
    CHECK_EQ_INT(evq_step(q), 1); /* the event at 70 */
    CHECK_EQ_INT(evq_step(q), 1); /* the event at 80 calls evq_stop */
    evq_schedule(q, 90, stopping_handler, &t, 9);
    evq_schedule(q, 95, stopping_handler, &t, 9);
    CHECK_EQ_INT(evq_run(q), 2);
    evq_free(q);
}

/* ---- randomized ------------------------------------------------------------ */

/* A random workload: times drawn from mixed scales with many ties. */
static uint64_t random_delay(uint64_t *s)
{
    uint64_t r = splitmix64(s);
    switch (r % 8) {
    case 0: return 0;
    case 1: return r >> 60;                /* tiny: many ties */
    case 2: return (r >> 40) % 1000;
    case 3: return (r >> 30) % 1000000;
    case 4: return (r >> 20) % 1000000000;
    case 5: return (r >> 8) % (1ull << 45);
    default: return (r >> 16) % 5000;
    }
}

typedef struct dyn {
    uint64_t seed;
    uint64_t out_time[4096];
    uint64_t out_arg[4096];
    int n;
    int budget;
    uint64_t next_arg;
} dyn;

static void dyn_handler(evq *q, void *ctx, uint64_t arg)
{
    dyn *d = ctx;
    if (d->n < 4096) {
        d->out_time[d->n] = evq_now(q);
        d->out_arg[d->n] = arg;
    }
    d->n++;
    int k = (int)(splitmix64(&d->seed) % 3);
    for (int i = 0; i < k && d->budget > 0; i++, d->budget--)
        evq_schedule_in(q, random_delay(&d->seed), dyn_handler, d, d->next_arg++);
}

static void run_dyn(dyn *d, uint64_t seed)
{
    evq *q = evq_new();
    d->seed = seed;
    d->budget = 20000;
    for (int i = 0; i < 100; i++)
        evq_schedule(q, random_delay(&d->seed), dyn_handler, d, d->next_arg++);
    evq_run(q);
    evq_free(q);
}

static void test_determinism(void)
{
    static dyn a, b;
    run_dyn(&a, 12345);
    run_dyn(&b, 12345);
    CHECK(a.n > 1000);
    CHECK_EQ_INT(a.n, b.n);
    int same = a.n == b.n;
    for (int i = 0; i < a.n && i < 4096; i++)
        same = same && a.out_time[i] == b.out_time[i] && a.out_arg[i] == b.out_arg[i];
    CHECK(same);
}

/* Reference: a plain binary heap on (time, seq) with lazy cancellation. */
typedef struct ref_ev {
    uint64_t time_ps, seq;
} ref_ev;

typedef struct ref_heap {
    ref_ev *v;
    size_t n;
} ref_heap;

static int ref_less(ref_ev a, ref_ev b)
{
    return a.time_ps < b.time_ps || (a.time_ps == b.time_ps && a.seq < b.seq);
}

static void ref_push(ref_heap *h, ref_ev e)
{
    size_t i = h->n++;
    while (i > 0 && ref_less(e, h->v[(i - 1) / 2])) {
        h->v[i] = h->v[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->v[i] = e;
}

static ref_ev ref_pop(ref_heap *h)
{
    ref_ev top = h->v[0], last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && ref_less(h->v[c + 1], h->v[c]))
            c++;
        if (!ref_less(h->v[c], last))
            break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n)
        h->v[i] = last;
    return top;
}

enum { RAND_EVENTS = 200000 };

/* Event state in the reference, indexed by seq (= arg). */
enum { ST_PENDING = 1, ST_DONE = 2 };

typedef struct randctx {
    evq *q;
    uint64_t s;
    ref_heap ref;
    uint8_t *state;
    evq_id *id;
    uint64_t nsched;
    size_t ref_pending;
    int mismatches;
    uint64_t ran;
} randctx;

static void rand_handler(evq *q, void *ctx, uint64_t arg);

static void rand_schedule(randctx *r, uint64_t time_ps)
{
    if (r->nsched >= RAND_EVENTS)
        return;
    uint64_t seq = r->nsched++;
    uint64_t t = time_ps < evq_now(r->q) ? evq_now(r->q) : time_ps;
    r->id[seq] = evq_schedule(r->q, time_ps, rand_handler, r, seq);
    r->state[seq] = ST_PENDING;
    r->ref_pending++;
    ref_push(&r->ref, (ref_ev){t, seq});
}

/* Cancels a random event (pending, done or cancelled) and checks the answer. */
static void rand_cancel(randctx *r)
{
    if (!r->nsched)
        return;
    uint64_t seq = splitmix64(&r->s) % r->nsched;
    int expect = r->state[seq] == ST_PENDING;
    if (evq_cancel(r->q, r->id[seq]) != expect)
        r->mismatches++;
    if (expect) {
        r->state[seq] = ST_DONE;
        r->ref_pending--;
    }
}

/* Next event the reference says should run. */
static ref_ev ref_next(randctx *r)
{
    for (;;) {
        ref_ev e = ref_pop(&r->ref);
        if (r->state[e.seq] == ST_PENDING)
            return e;
    }
}

static void rand_handler(evq *q, void *ctx, uint64_t arg)
{
    randctx *r = ctx;
    ref_ev e = ref_next(r);
    if (e.seq != arg || e.time_ps != evq_now(q))
        r->mismatches++;
    r->state[arg] = ST_DONE;
    r->ref_pending--;
    r->ran++;
    uint64_t u = splitmix64(&r->s);
    int k = (int)(u % 3);
    for (int i = 0; i < k; i++)
        rand_schedule(r, evq_now(q) + random_delay(&r->s));
    if (u % 5 == 0)
        rand_schedule(r, evq_now(q) - (evq_now(q) ? 1 : 0)); /* clamped */
    if ((u >> 8) % 4 == 0)
        rand_cancel(r);
}

static void test_random_vs_reference(void)
{
    randctx r = {.q = evq_new(), .s = 2024};
    r.ref.v = malloc(RAND_EVENTS * sizeof *r.ref.v);
    r.state = calloc(RAND_EVENTS, 1);
    r.id = malloc(RAND_EVENTS * sizeof *r.id);
    for (int i = 0; i < 5000; i++)
        rand_schedule(&r, random_delay(&r.s));
    for (int i = 0; i < 1000; i++)
        rand_cancel(&r);
    /* Alternate bounded runs, outside scheduling and cancels. */
    while (r.ref_pending && r.mismatches == 0) {
        uint64_t until = evq_now(r.q) + random_delay(&r.s);
        evq_run_until(r.q, until);
        if (evq_now(r.q) != until)
            r.mismatches++;
        rand_schedule(&r, until + random_delay(&r.s));
        rand_cancel(&r);
        if (evq_pending(r.q) != r.ref_pending)
            r.mismatches++;
        if (splitmix64(&r.s) % 16 == 0)
            evq_run(r.q);
    }
    CHECK_EQ_INT(r.mismatches, 0);
    CHECK_EQ_INT(r.nsched, RAND_EVENTS);
    CHECK_EQ_INT(evq_pending(r.q), 0);
    CHECK_EQ_INT(evq_executed(r.q), r.ran);
    CHECK(r.ran > RAND_EVENTS / 2);
    evq_free(r.q);
    free(r.ref.v);
    free(r.state);
    free(r.id);
}

/* Static workload of 200k events over the full 64-bit range and a narrow
 * one, with random cancels, against qsort of (time, seq). */
typedef struct seen {
    uint64_t *arg;
    size_t n;
} seen;

static void seen_handler(evq *q, void *ctx, uint64_t arg)
{
    (void)q;
    seen *s = ctx;
    s->arg[s->n++] = arg;
}

static int cmp_ref(const void *a, const void *b)
{
    const ref_ev *x = a, *y = b;
    return ref_less(*x, *y) ? -1 : ref_less(*y, *x) ? 1 : 0;
}

static void test_random_static_qsort(void)
{
    enum { N = 200000 };
    evq *q = evq_new();
    ref_ev *ref = malloc(N * sizeof *ref);
    evq_id *id = malloc(N * sizeof *id);
    uint8_t *cancelled = calloc(N, 1);
    seen s = {malloc(N * sizeof *s.arg), 0};
    uint64_t rs = 77;
    for (uint64_t i = 0; i < N; i++) {
        uint64_t r = splitmix64(&rs);
        uint64_t t = i % 2 ? r : (r >> 40) % 5000; /* wide and with ties */
        ref[i] = (ref_ev){t, i};
        id[i] = evq_schedule(q, t, seen_handler, &s, i);
    }
    size_t live = N;
    for (int i = 0; i < N / 3; i++) {
        uint64_t k = splitmix64(&rs) % N;
        CHECK_EQ_INT(evq_cancel(q, id[k]), !cancelled[k]);
        live -= !cancelled[k];
        cancelled[k] = 1;
    }
    CHECK_EQ_INT(evq_pending(q), live);
    qsort(ref, N, sizeof *ref, cmp_ref);
    CHECK_EQ_INT(evq_run(q), live);
    size_t j = 0;
    int bad = 0;
    for (size_t i = 0; i < N; i++) {
        if (cancelled[ref[i].seq])
            continue;
        bad += j >= s.n || s.arg[j] != ref[i].seq;
        j++;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(s.n, live);
    evq_free(q);
    free(ref);
    free(id);
    free(cancelled);
    free(s.arg);
}

static void test_two_queues(void)
{
    evq *a = evq_new(), *b = evq_new();
    trace ta = {0}, tb = {0};
    evq_schedule(a, 100, record, &ta, 1);
    evq_schedule(b, 50, record, &tb, 2);
    evq_schedule(a, 300, record, &ta, 3);
    evq_schedule(b, 400, record, &tb, 4);
    evq_id only_a = 0;
    for (int i = 0; i < 10; i++)
        only_a = evq_schedule(a, 500, record, &ta, 5);
    CHECK_EQ_INT(evq_run_until(b, 200), 1);
    CHECK_EQ_INT(evq_now(a), 0);
    CHECK_EQ_INT(evq_now(b), 200);
    CHECK_EQ_INT(evq_executed(a), 0);
    CHECK_EQ_INT(evq_cancel(b, only_a), 0); /* a's handle means nothing to b */
    CHECK_EQ_INT(evq_pending(a), 12);
    CHECK_EQ_INT(evq_pending(b), 1);
    CHECK_EQ_INT(evq_run(a), 12);
    CHECK_EQ_INT(evq_run(b), 1);
    CHECK_EQ_INT(ta.n, 12);
    CHECK_EQ_INT(tb.n, 2);
    CHECK_EQ_INT(ta.arg[0], 1);
    CHECK_EQ_INT(ta.arg[1], 3);
    CHECK_EQ_INT(tb.arg[0], 2);
    CHECK_EQ_INT(tb.arg[1], 4);
    CHECK_EQ_INT(evq_now(a), 500);
    CHECK_EQ_INT(evq_now(b), 400);
    evq_free(a);
    evq_free(b);
}

TAP_MAIN({"order by time", test_order_by_time},
         {"FIFO among equal times", test_fifo_equal_times},
         {"FIFO for equal times scheduled across pops", test_fifo_across_pops},
         {"FIFO in a large tie group", test_fifo_large_tie_group},
         {"cancel", test_cancel},
         {"stale handles after slot reuse", test_cancel_handle_reuse},
         {"cancel most of a large queue", test_cancel_many},
         {"purge from a handler inside a tie group", test_purge_inside_tie_group},
         {"handlers schedule at now and later", test_handler_schedules},
         {"handler cancels a same-time event", test_handler_cancels},
         {"many distinct handlers", test_many_handlers},
         {"past times clamp to now", test_clamp_past},
         {"run_until", test_run_until},
         {"run_until past cancelled events", test_run_until_cancelled},
         {"drain through cancelled events", test_drain_cancelled_group},
         {"run_until stops before a large group", test_run_until_before_group},
         {"stop", test_stop},
         {"determinism", test_determinism},
         {"random 200k dynamic vs reference heap", test_random_vs_reference},
         {"random 200k static vs qsort", test_random_static_qsort},
         {"two queues do not interfere", test_two_queues})
