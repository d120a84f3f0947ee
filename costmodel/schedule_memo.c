/* schedule_memo: a small first-in first-out store of unit orders behind a
 * read-write lock (see schedule_memo.h). */
#include "schedule_memo.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"

enum { MEMO_ENTRIES = 64 };
#define MEMO_BYTES ((size_t)256 << 20) /* 256 MiB: 4 MiB an entry, pp 64 and m 512 at vpp 2 */

typedef struct memo_entry {
    layout_schedule s;
    int pp, vpp, m;
    size_t n;
    schedule_unit *orders; /* NULL: empty */
} memo_entry;

static pthread_rwlock_t memo_lock = PTHREAD_RWLOCK_INITIALIZER; /* readers copy at once */
static memo_entry memo[MEMO_ENTRIES];
static int memo_next; /* the slot to fill next (the oldest) */

int schedule_memo_get(layout_schedule s, int pp, int vpp, int m, schedule_unit *out, size_t n)
{
    int hit = 0;
    pthread_rwlock_rdlock(&memo_lock);
    for (int i = 0; i < MEMO_ENTRIES && !hit; i++) {
        const memo_entry *e = &memo[i];
        if (e->orders && e->s == s && e->pp == pp && e->vpp == vpp && e->m == m && e->n == n) {
            memcpy(out, e->orders, sizeof *out * n);
            hit = 1;
        }
    }
    pthread_rwlock_unlock(&memo_lock);
    return hit;
}

void schedule_memo_put(layout_schedule s, int pp, int vpp, int m, const schedule_unit *orders, size_t n)
{
    if (n == 0 || sizeof *orders * n > MEMO_BYTES / MEMO_ENTRIES)
        return; /* larger orders are built each time rather than kept */
    schedule_unit *copy = cs_xrealloc(NULL, sizeof *copy * n);
    memcpy(copy, orders, sizeof *copy * n);
    pthread_rwlock_wrlock(&memo_lock);
    memo_entry *e = &memo[memo_next];
    free(e->orders);
    *e = (memo_entry){s, pp, vpp, m, n, copy};
    memo_next = (memo_next + 1) % MEMO_ENTRIES;
    pthread_rwlock_unlock(&memo_lock);
}
