/* Unit tests: rankheap (costmodel/rankheap.h) against the scan it replaces:
 * the strict minimum over ranks 0, 1, ... (ties to the lower rank), after
 * every one of many random insertions, key changes and removals. */
#include <stdlib.h>

#include "rankheap.h"
#include "tap.h"

enum { RANKS = 37, STEPS = 20000 };

/* The scan: the lowest rank of the smallest key among those in. */
static int scan_min(const int *in, const double *key)
{
    int at = -1;
    for (int r = 0; r < RANKS; r++)
        if (in[r] && (at < 0 || key[r] < key[at]))
            at = r;
    return at;
}

static void same_as_scan(void)
{
    rankheap h;
    rankheap_init(&h, RANKS);
    int in[RANKS] = {0}, mismatches = 0, count = 0;
    double key[RANKS] = {0};
    unsigned seed = 12345;
    for (int step = 0; step < STEPS; step++) {
        seed = seed * 1103515245u + 12345u;
        int r = (int)((seed >> 8) % RANKS), op = (int)((seed >> 20) % 4);
        if (op == 0) {
            rankheap_remove(&h, r);
            count -= in[r];
            in[r] = 0;
        } else { /* few distinct keys, so that ties are common */
            key[r] = (double)((seed >> 4) % 7);
            rankheap_set(&h, r, key[r]);
            count += !in[r];
            in[r] = 1;
        }
        mismatches += rankheap_top(&h) != scan_min(in, key);
        mismatches += h.n != count;
    }
    CHECK_EQ_INT(mismatches, 0);
    rankheap_free(&h);
}

static void drains_in_order(void)
{
    rankheap h;
    rankheap_init(&h, 5);
    double keys[5] = {3, 1, 3, 0.5, 1};
    for (int r = 0; r < 5; r++)
        rankheap_set(&h, r, keys[r]);
    int want[5] = {3, 1, 4, 0, 2};
    for (int i = 0; i < 5; i++) {
        CHECK_EQ_INT(rankheap_top(&h), want[i]);
        rankheap_remove(&h, rankheap_top(&h));
    }
    CHECK_EQ_INT(rankheap_top(&h), -1);
    rankheap_remove(&h, 2); /* not in: nothing */
    CHECK_EQ_INT(h.n, 0);
    rankheap_free(&h);
}

TAP_MAIN({"same_as_scan", same_as_scan}, {"drains_in_order", drains_in_order})
