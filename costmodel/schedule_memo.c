/* schedule_memo: a small first-in first-out store of unit orders behind a
 * read-write lock (see schedule_memo.h). */
#include "schedule_memo.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"

/* Up to SCHEDULE_MEMO_ENTRIES orders and 256 MiB in all, 4 bytes a unit
 * (64M units): a search prices the same few hundred (schedule, pp, vpp, m)
 * over thousands of layouts, and one key's order may be as large as
 * LAYOUT_MAX_UNITS (4M units, 16 MiB packed).  Until 2026-12-06 (session 5)
 * an order over 4 MiB at 16 bytes a unit (262,144 units: pp 48 at 1,488
 * microbatches under a V-shape) was never kept, so a search rebuilt it twice
 * for each of its layouts: most of the 31 s of a 16-GPU search at 16,381
 * microbatches.  Until session 6 the memo kept 64 orders: the 96-GPU GPT-3
 * search meets 307 keys, a (tp, pp) pair's few dozen at a time and many
 * again under another tp, so 64 first-in first-out entries had often
 * dropped a key before it came back (671 builds, 14% of the search's time);
 * 1,024 entries (32 KiB of keys) keep them all (307 builds). */
enum { MEMO_ENTRIES = SCHEDULE_MEMO_ENTRIES };
#define MEMO_BYTES ((size_t)256 << 20)
#define MEMO_ENTRY_MAX_BYTES (MEMO_BYTES / 4) /* one order never evicts the rest */

typedef struct memo_entry {
    layout_schedule s;
    int pp, vpp, m;
    size_t n;
    uint32_t *packed; /* n units (schedule_memo_pack); NULL: empty */
} memo_entry;

static pthread_rwlock_t memo_lock = PTHREAD_RWLOCK_INITIALIZER; /* readers copy at once */
static memo_entry memo[MEMO_ENTRIES];
static int memo_next;    /* the slot to fill next (the oldest) */
static size_t memo_held; /* bytes of every kept order */

/* Fields of a packed unit: microbatch in bits 4..31, the rest below.  The
 * split-backward schedules use chunks 0 and 1 only (one chunk, a V or
 * DualPipe's two directions) and kinds F, B, W. */
enum { PACK_KIND_BITS = 2, PACK_CHUNK_SHIFT = 2, PACK_OVERLAP_SHIFT = 3, PACK_MB_SHIFT = 4 };
#define PACK_MB_MAX ((1u << 28) - 1)

int schedule_memo_pack(const schedule_unit *u, uint32_t *out)
{
    if (u->backward < 0 || u->backward > SCHEDULE_W || u->chunk < 0 || u->chunk > 1 ||
        u->overlap < 0 || u->overlap > 1 || u->microbatch < 0 ||
        (unsigned)u->microbatch > PACK_MB_MAX)
        return -1;
    *out = (uint32_t)u->backward | (uint32_t)u->chunk << PACK_CHUNK_SHIFT |
           (uint32_t)u->overlap << PACK_OVERLAP_SHIFT | (uint32_t)u->microbatch << PACK_MB_SHIFT;
    return 0;
}

schedule_unit schedule_memo_unpack(uint32_t packed)
{
    return (schedule_unit){(int)(packed & ((1u << PACK_KIND_BITS) - 1)),
                           (int)(packed >> PACK_MB_SHIFT), (int)(packed >> PACK_CHUNK_SHIFT & 1),
                           (int)(packed >> PACK_OVERLAP_SHIFT & 1)};
}

static int same_key(const memo_entry *e, layout_schedule s, int pp, int vpp, int m, size_t n)
{
    return e->packed && e->s == s && e->pp == pp && e->vpp == vpp && e->m == m && e->n == n;
}

int schedule_memo_get(layout_schedule s, int pp, int vpp, int m, schedule_unit *out, size_t n)
{
    int hit = 0;
    pthread_rwlock_rdlock(&memo_lock);
    for (int i = 0; i < MEMO_ENTRIES && !hit; i++) {
        const memo_entry *e = &memo[i];
        if (same_key(e, s, pp, vpp, m, n)) {
            for (size_t k = 0; k < n; k++)
                out[k] = schedule_memo_unpack(e->packed[k]);
            hit = 1;
        }
    }
    pthread_rwlock_unlock(&memo_lock);
    return hit;
}

/* Frees slot i (the caller holds the write lock). */
static void drop(int i)
{
    memo_held -= memo[i].packed ? sizeof *memo[i].packed * memo[i].n : 0;
    free(memo[i].packed);
    memo[i] = (memo_entry){0};
}

/* Whether the key is kept already (the caller holds the lock): two threads
 * of a search may build the same order at once; one copy is enough. */
static int kept(layout_schedule s, int pp, int vpp, int m, size_t n)
{
    for (int i = 0; i < MEMO_ENTRIES; i++)
        if (same_key(&memo[i], s, pp, vpp, m, n))
            return 1;
    return 0;
}

void schedule_memo_put(layout_schedule s, int pp, int vpp, int m, const schedule_unit *orders, size_t n)
{
    size_t bytes = sizeof(uint32_t) * n;
    if (n == 0 || bytes / sizeof(uint32_t) != n || bytes > MEMO_ENTRY_MAX_BYTES)
        return; /* larger orders are built each time rather than kept */
    uint32_t *packed = cs_xrealloc(NULL, bytes);
    for (size_t k = 0; k < n; k++)
        if (schedule_memo_pack(&orders[k], &packed[k]) != 0) {
            free(packed); /* a unit the packing cannot hold: not kept */
            return;
        }
    pthread_rwlock_wrlock(&memo_lock);
    if (kept(s, pp, vpp, m, n)) {
        pthread_rwlock_unlock(&memo_lock);
        free(packed);
        return;
    }
    drop(memo_next);
    /* the oldest entries after it go too while the new one would not fit */
    for (int k = 1; k < MEMO_ENTRIES && memo_held + bytes > MEMO_BYTES; k++)
        drop((memo_next + k) % MEMO_ENTRIES);
    memo[memo_next] = (memo_entry){s, pp, vpp, m, n, packed};
    memo_held += bytes;
    memo_next = (memo_next + 1) % MEMO_ENTRIES;
    pthread_rwlock_unlock(&memo_lock);
}
