/* evq: the discrete-event queue, as a 256-ary radix heap over event time.
 *
 * Why a radix heap: simulated time is monotone, which is exactly what a
 * radix heap needs.  Items sit in buckets relative to base_ps, a lower bound
 * of every queued time: bucket (level L, digit d) holds the items whose
 * highest byte differing from base_ps is byte L and whose byte L is d, so
 * bucket order (level, then digit) is time order and each level-0 bucket
 * holds a single time.  A push is an append.  A pop takes the front of the
 * lowest bucket if it is at level 0; a lowest bucket at a higher level is
 * either scanned for its minimum if it holds only a few items (sparse times)
 * or spread over the levels below after raising base_ps to its floor.  An
 * item moves at most once per level, about 4 times for spans up to a
 * millisecond, always in sequential passes: no cache miss per heap level as
 * in a binary heap of a million events.
 *
 * Ties: a spread writes only into buckets below its source, the lowest
 * non-empty bucket, so its targets are empty and receive the items in
 * source order; a push is later in scheduling order than everything queued
 * and appends.  By induction every bucket is in scheduling order, so equal
 * times run FIFO (front first, or first minimum in a scan) without storing
 * or sorting a sequence number.
 *
 * Clock: every new item is >= now, so base_ps must stay <= now whenever a
 * handler or the caller may schedule.  Pops set now to the popped time, and
 * a bounded run only raises base_ps to bucket floors within its bound.
 *
 * Items carry context, argument and a handler index, so running an event
 * does not touch a per-event record at a random address.  Per slot we keep
 * only a 32-bit generation (4 MiB for a million events; it stays in cache):
 * odd while the event is pending, even once it ran or was cancelled.  A
 * handle is (generation << 32 | slot + 1).  Cancellation is lazy: the item
 * stays in its bucket and is dropped when it comes out, and its slot is
 * reused only then, so an item never refers to another event's slot.  When
 * cancelled items outnumber live ones a purge sweeps them out, so memory
 * stays proportional to the pending events.  A stale handle could only match
 * again after 2^31 reuses of its slot. */
#include "evq.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
    LEVELS = 8,                 /* bytes in a uint64_t time */
    DIGITS = 256,               /* values of one byte */
    NBUCKETS = LEVELS * DIGITS,
    MASK_WORDS = NBUCKETS / 64,
    WORDS_PER_LEVEL = DIGITS / 64,
};

/* Purge cancelled items once there are more of them than live events (and
 * enough of them that the sweep is worth its cost). */
enum { PURGE_MIN_CANCELLED = 1024 };

/* 32 bytes, two to a cache line: the handler is stored as an index into
 * the queue's table of distinct handlers (a simulation has a few dozen),
 * which saves a fifth of the memory traffic of moving items. */
typedef struct evq_item {
    uint64_t time_ps;
    void *ctx;
    uint64_t arg;
    uint32_t handler; /* index into fns[] */
    uint32_t slot;    /* index into gen[], for cancellation */
} evq_item;

/* Buckets are lists of fixed-size chunks from a per-queue pool.  A bucket
 * emptied by a redistribution hands its chunks straight to its targets, so
 * memory is reused while still in cache, nothing is allocated once the
 * queue has reached its size, and the memory held is the pending items plus
 * at most one partly filled chunk per bucket. */
enum { CHUNK_ITEMS = 127 }; /* a chunk fills about 4 KiB */

typedef struct evq_chunk {
    struct evq_chunk *next;
    evq_item items[CHUNK_ITEMS];
} evq_chunk;

typedef struct evq_bucket {
    evq_chunk *head;  /* NULL iff the bucket is empty */
    evq_chunk *tail;
    uint32_t head_i;  /* first unconsumed item of head */
    uint32_t tail_n;  /* items used in tail */
} evq_bucket;

struct evq {
    uint64_t now_ps;
    uint64_t base_ps;              /* <= every queued time, and <= now_ps between events */
    uint64_t executed;
    size_t live;                   /* pending, not cancelled */
    size_t cancelled;              /* cancelled items still in buckets */
    bool stop;
    uint8_t level_mask;            /* bit L: some bucket of level L has items */
    uint64_t nonempty[MASK_WORDS]; /* bit per bucket: has items */
    evq_bucket bucket[NBUCKETS];
    evq_chunk *free_chunks;        /* pool, linked by next */
    uint32_t *gen;                 /* per slot: odd = pending */
    uint32_t *free_slots;          /* stack of reusable slots */
    uint32_t nslots, slot_cap, nfree;
    evq_handler *fns;              /* distinct handlers seen, by index */
    uint32_t nfns, fns_cap;
    uint32_t *fn_hash;             /* open addressing: index + 1, 0 = empty */
    uint32_t fn_hash_size;         /* power of two, >= 2 * fns_cap */
    uint32_t last_fn;              /* index of the latest handler looked up */
};

static void *xrealloc(void *p, size_t n)
{
    void *r = realloc(p, n);
    if (!r) {
        fprintf(stderr, "evq: out of memory (%zu bytes)\n", n);
        abort();
    }
    return r;
}

evq *evq_new(void)
{
    evq *q = xrealloc(NULL, sizeof *q);
    memset(q, 0, sizeof *q);
    return q;
}

static void free_chunk_list(evq_chunk *c)
{
    while (c) {
        evq_chunk *next = c->next;
        free(c);
        c = next;
    }
}

void evq_free(evq *q)
{
    if (!q)
        return;
    for (int b = 0; b < NBUCKETS; b++)
        free_chunk_list(q->bucket[b].head);
    free_chunk_list(q->free_chunks);
    free(q->gen);
    free(q->free_slots);
    free(q->fns);
    free(q->fn_hash);
    free(q);
}

uint64_t evq_now(const evq *q) { return q->now_ps; }
size_t evq_pending(const evq *q) { return q->live; }
uint64_t evq_executed(const evq *q) { return q->executed; }
void evq_stop(evq *q) { q->stop = true; }

/* Bucket of time_ps relative to base_ps (time_ps >= base_ps). */
static inline unsigned bucket_of(uint64_t time_ps, uint64_t base_ps)
{
    uint64_t x = time_ps ^ base_ps;
    unsigned level = x ? (63u - (unsigned)__builtin_clzll(x)) >> 3 : 0u;
    return level * DIGITS + (unsigned)((time_ps >> (8 * level)) & 0xff);
}

static inline void mark_nonempty(evq *q, unsigned b)
{
    q->nonempty[b / 64] |= 1ull << (b % 64);
    q->level_mask |= (uint8_t)(1u << (b / DIGITS));
}

static inline void mark_empty(evq *q, unsigned b)
{
    q->nonempty[b / 64] &= ~(1ull << (b % 64));
    unsigned level = b / DIGITS;
    const uint64_t *w = &q->nonempty[level * WORDS_PER_LEVEL];
    if (!(w[0] | w[1] | w[2] | w[3]))
        q->level_mask &= (uint8_t)~(1u << level);
}

/* The lowest non-empty bucket, or NBUCKETS if there is none.  Buckets are
 * ordered like the times they hold: by level, then by digit. */
static inline unsigned lowest_bucket(const evq *q)
{
    if (!q->level_mask)
        return NBUCKETS;
    unsigned level = (unsigned)__builtin_ctz(q->level_mask);
    const uint64_t *w = &q->nonempty[level * WORDS_PER_LEVEL];
    unsigned i = 0;
    while (!w[i])
        i++;
    return level * DIGITS + i * 64 + (unsigned)__builtin_ctzll(w[i]);
}

/* Smallest time bucket b can hold: base_ps with byte L set to the digit and
 * the bytes below cleared.  For level 0 that is the one time it holds. */
static inline uint64_t bucket_floor(uint64_t base_ps, unsigned b)
{
    unsigned shift = 8 * (b / DIGITS);
    uint64_t above = shift + 8 < 64 ? base_ps >> (shift + 8) << (shift + 8) : 0;
    return above | (uint64_t)(b % DIGITS) << shift;
}

static inline evq_chunk *chunk_get(evq *q)
{
    evq_chunk *c = q->free_chunks;
    if (__builtin_expect(c != NULL, 1))
        q->free_chunks = c->next;
    else
        c = xrealloc(NULL, sizeof *c);
    c->next = NULL;
    return c;
}

static inline void chunk_put(evq *q, evq_chunk *c)
{
    c->next = q->free_chunks;
    q->free_chunks = c;
}

static inline void bucket_append(evq *q, unsigned b, const evq_item *it)
{
    evq_bucket *bk = &q->bucket[b];
    if (__builtin_expect(!bk->head, 0)) {
        bk->head = bk->tail = chunk_get(q);
        bk->head_i = bk->tail_n = 0;
        mark_nonempty(q, b);
    } else if (__builtin_expect(bk->tail_n == CHUNK_ITEMS, 0)) {
        bk->tail = bk->tail->next = chunk_get(q);
        bk->tail_n = 0;
    }
    bk->tail->items[bk->tail_n++] = *it;
}

/* Removes the first item of bucket b into *out. */
static inline void bucket_pop_front(evq *q, unsigned b, evq_item *out)
{
    evq_bucket *bk = &q->bucket[b];
    evq_chunk *c = bk->head;
    *out = c->items[bk->head_i++];
    if (c == bk->tail) {
        if (bk->head_i < bk->tail_n)
            return;
        bk->head = bk->tail = NULL;
        mark_empty(q, b);
    } else if (bk->head_i < CHUNK_ITEMS) {
        return;
    } else {
        bk->head = c->next;
        bk->head_i = 0;
    }
    chunk_put(q, c);
}

static uint32_t slot_take(evq *q)
{
    if (q->nfree)
        return q->free_slots[--q->nfree];
    if (q->nslots == q->slot_cap) {
        if (q->slot_cap >= UINT32_MAX / 2) {
            fprintf(stderr, "evq: too many pending events\n");
            abort();
        }
        q->slot_cap = q->slot_cap ? 2 * q->slot_cap : 1024;
        q->gen = xrealloc(q->gen, q->slot_cap * sizeof *q->gen);
        q->free_slots = xrealloc(q->free_slots, q->slot_cap * sizeof *q->free_slots);
    }
    q->gen[q->nslots] = 0;
    return q->nslots++;
}

static inline void slot_release(evq *q, uint32_t slot)
{
    q->free_slots[q->nfree++] = slot;
}

static uint32_t fn_hash_of(evq_handler h, uint32_t size)
{
    uintptr_t bits = 0;
    memcpy(&bits, &h, sizeof bits < sizeof h ? sizeof bits : sizeof h);
    return (uint32_t)(((uint64_t)bits * 0x9e3779b97f4a7c15ull) >> 32) & (size - 1);
}

/* The table is at most half full, so probing always meets an empty entry. */
static void fn_hash_insert(evq *q, uint32_t idx)
{
    uint32_t i = fn_hash_of(q->fns[idx], q->fn_hash_size);
    while (q->fn_hash[i])
        i = (i + 1) & (q->fn_hash_size - 1);
    q->fn_hash[i] = idx + 1;
}

static uint32_t fn_add(evq *q, evq_handler h)
{
    if (q->nfns == q->fns_cap) {
        if (q->fns_cap >= (1u << 28)) {
            fprintf(stderr, "evq: too many distinct handlers\n");
            abort();
        }
        q->fns_cap = q->fns_cap ? 2 * q->fns_cap : 16;
        q->fns = xrealloc(q->fns, q->fns_cap * sizeof *q->fns);
        free(q->fn_hash);
        q->fn_hash_size = 2 * q->fns_cap;
        q->fn_hash = xrealloc(NULL, q->fn_hash_size * sizeof *q->fn_hash);
        memset(q->fn_hash, 0, q->fn_hash_size * sizeof *q->fn_hash);
        for (uint32_t i = 0; i < q->nfns; i++)
            fn_hash_insert(q, i);
    }
    q->fns[q->nfns] = h;
    fn_hash_insert(q, q->nfns);
    return q->nfns++;
}

static uint32_t fn_lookup(evq *q, evq_handler h)
{
    if (q->nfns) {
        uint32_t mask = q->fn_hash_size - 1;
        for (uint32_t i = fn_hash_of(h, q->fn_hash_size); q->fn_hash[i]; i = (i + 1) & mask)
            if (q->fns[q->fn_hash[i] - 1] == h)
                return q->fn_hash[i] - 1;
    }
    return fn_add(q, h);
}

/* Index of handler h in fns[], adding it if new.  Handlers usually come in
 * runs (a handler rescheduling itself), hence the one-entry cache. */
static inline uint32_t handler_index(evq *q, evq_handler h)
{
    if (!q->nfns || q->fns[q->last_fn] != h)
        q->last_fn = fn_lookup(q, h);
    return q->last_fn;
}

evq_id evq_schedule(evq *q, uint64_t time_ps, evq_handler h, void *ctx, uint64_t arg)
{
    if (time_ps < q->now_ps)
        time_ps = q->now_ps;
    uint32_t slot = slot_take(q);
    uint32_t g = ++q->gen[slot]; /* becomes odd: pending */
    evq_item it = {time_ps, ctx, arg, handler_index(q, h), slot};
    bucket_append(q, bucket_of(time_ps, q->base_ps), &it);
    q->live++;
    return ((uint64_t)g << 32) | ((uint64_t)slot + 1);
}

evq_id evq_schedule_in(evq *q, uint64_t delay_ps, evq_handler h, void *ctx, uint64_t arg)
{
    uint64_t t = q->now_ps + delay_ps;
    if (t < q->now_ps) /* saturate rather than wrap into the past */
        t = UINT64_MAX;
    return evq_schedule(q, t, h, ctx, arg);
}

/* Spreads bucket b (level >= 1, the lowest non-empty one) over the levels
 * below it, after raising base_ps to the bucket's floor.  The targets are
 * all empty, so they receive the items in the source's (scheduling) order.
 * Each source chunk goes back to the pool once read, ready for the targets. */
static void redistribute(evq *q, unsigned b)
{
    evq_bucket src = q->bucket[b];
    q->bucket[b] = (evq_bucket){0};
    mark_empty(q, b);
    uint64_t base = bucket_floor(q->base_ps, b);
    q->base_ps = base;
    /* Items leaving level 2 are at most 65536 ps from the front, a few
     * hundred events at most: fetch their generation word now, or the
     * check at pop time waits on a cache miss for each event. */
    bool soon = b < 3 * DIGITS;
    for (evq_chunk *c = src.head, *next; c; c = next) {
        uint32_t n = c == src.tail ? src.tail_n : CHUNK_ITEMS;
        for (uint32_t i = c == src.head ? src.head_i : 0; i < n; i++) {
            const evq_item *it = &c->items[i];
            if (soon)
                __builtin_prefetch(&q->gen[it->slot]);
            bucket_append(q, bucket_of(it->time_ps, base), it);
        }
        next = c->next;
        chunk_put(q, c);
    }
}

/* Sparse times leave most low buckets with an item or two; spreading such
 * a bucket one level down per pop costs more than a scan for its minimum. */
enum { SMALL_BUCKET = 8 };

/* If bucket b (level >= 1, the lowest non-empty one) holds few items, takes
 * the earliest (the first of equal times: the bucket is in scheduling order)
 * into *out and returns 1, or returns 0 if that is after limit_ps.  base_ps
 * stays, which keeps it <= the clock.  Returns -1 for a larger bucket. */
static int take_min_if_small(evq *q, unsigned b, uint64_t limit_ps, evq_item *out)
{
    evq_bucket *bk = &q->bucket[b];
    evq_chunk *c = bk->head;
    if (c != bk->tail || bk->tail_n - bk->head_i > SMALL_BUCKET)
        return -1;
    uint32_t m = bk->head_i;
    for (uint32_t i = m + 1; i < bk->tail_n; i++)
        if (c->items[i].time_ps < c->items[m].time_ps)
            m = i;
    if (c->items[m].time_ps > limit_ps)
        return 0;
    *out = c->items[m];
    if (m == bk->head_i) {
        bucket_pop_front(q, b, out);
        return 1;
    }
    memmove(&c->items[m], &c->items[m + 1], (bk->tail_n - m - 1) * sizeof c->items[0]);
    bk->tail_n--;
    return 1;
}

/* Takes the earliest live event with time <= limit_ps into *out, dropping
 * cancelled items on the way.  Returns false if there is none.  base_ps
 * only moves to bucket floors <= limit_ps, so it stays <= the clock. */
static bool next_live(evq *q, uint64_t limit_ps, evq_item *out)
{
    for (;;) {
        unsigned b = lowest_bucket(q);
        if (b == NBUCKETS) {
            /* Dropped cancelled items may have moved base_ps past the
             * clock; with nothing queued any base is valid. */
            q->base_ps = q->now_ps;
            return false;
        }
        if (bucket_floor(q->base_ps, b) > limit_ps)
            return false;
        if (b >= DIGITS) {
            int r = take_min_if_small(q, b, limit_ps, out);
            if (r < 0) {
                redistribute(q, b);
                continue;
            }
            if (r == 0)
                return false;
        } else {
            bucket_pop_front(q, b, out);
        }
        slot_release(q, out->slot);
        if (q->gen[out->slot] & 1u) {
            q->gen[out->slot]++; /* even: ran; its handle is now stale */
            q->live--;
            return true;
        }
        q->cancelled--;
    }
}

static inline void run_item(evq *q, const evq_item *it)
{
    q->now_ps = it->time_ps;
    q->executed++;
    q->fns[it->handler](q, it->ctx, it->arg);
}

int evq_step(evq *q)
{
    evq_item it;
    if (!next_live(q, UINT64_MAX, &it))
        return 0;
    run_item(q, &it);
    return 1;
}

uint64_t evq_run(evq *q)
{
    uint64_t n = 0;
    evq_item it;
    q->stop = false;
    while (!q->stop && next_live(q, UINT64_MAX, &it)) {
        run_item(q, &it);
        n++;
    }
    q->stop = false;
    return n;
}

/* A stop from a handler leaves the clock at that event, so the caller can
 * resume; otherwise the clock ends at until_ps (never moving backwards). */
uint64_t evq_run_until(evq *q, uint64_t until_ps)
{
    uint64_t n = 0;
    evq_item it;
    if (until_ps < q->now_ps)
        until_ps = q->now_ps;
    q->stop = false;
    while (!q->stop && next_live(q, until_ps, &it)) {
        run_item(q, &it);
        n++;
    }
    if (!q->stop)
        q->now_ps = until_ps;
    q->stop = false;
    return n;
}

/* Removes the cancelled items of bucket b, keeping the order of the rest:
 * survivors are copied down to the bucket's front, then the chunks past the
 * new end go back to the pool. */
static void purge_bucket(evq *q, unsigned b)
{
    evq_bucket *bk = &q->bucket[b];
    evq_chunk *wc = bk->head;
    uint32_t wi = 0;
    for (evq_chunk *c = bk->head; c; c = c->next) {
        uint32_t n = c == bk->tail ? bk->tail_n : CHUNK_ITEMS;
        for (uint32_t i = c == bk->head ? bk->head_i : 0; i < n; i++) {
            const evq_item *it = &c->items[i];
            if (!(q->gen[it->slot] & 1u)) {
                slot_release(q, it->slot);
                continue;
            }
            if (wi == CHUNK_ITEMS) {
                wc = wc->next;
                wi = 0;
            }
            wc->items[wi++] = *it;
        }
    }
    evq_chunk *rest = wc->next;
    wc->next = NULL;
    for (evq_chunk *next; rest; rest = next) {
        next = rest->next;
        chunk_put(q, rest);
    }
    bk->head_i = 0;
    bk->tail = wc;
    bk->tail_n = wi;
    if (wi == 0) {
        chunk_put(q, wc);
        bk->head = bk->tail = NULL;
        mark_empty(q, b);
    }
}

static void purge(evq *q)
{
    for (unsigned b = 0; b < NBUCKETS; b++)
        if (q->nonempty[b / 64] & (1ull << (b % 64)))
            purge_bucket(q, b);
    q->cancelled = 0;
}

int evq_cancel(evq *q, evq_id id)
{
    uint32_t slot = (uint32_t)id - 1; /* id 0 wraps to an invalid slot */
    uint32_t g = (uint32_t)(id >> 32);
    if (slot >= q->nslots || !(g & 1u) || q->gen[slot] != g)
        return 0;
    q->gen[slot]++; /* even: the item is dropped when it comes out */
    q->live--;
    q->cancelled++;
    if (q->cancelled >= PURGE_MIN_CANCELLED && q->cancelled > q->live)
        purge(q);
    return 1;
}
