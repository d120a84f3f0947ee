/* rankheap: a binary heap of ranks with positions, so that any rank's key
 * can change (see rankheap.h). */
#include "rankheap.h"

#include <stdlib.h>

#include "cs_alloc.h"

void rankheap_init(rankheap *h, int ranks)
{
    size_t n = ranks > 0 ? (size_t)ranks : 1;
    h->n = 0;
    h->heap = cs_xrealloc(NULL, sizeof *h->heap * n);
    h->pos = cs_xrealloc(NULL, sizeof *h->pos * n);
    h->key = cs_xrealloc(NULL, sizeof *h->key * n);
    for (int r = 0; r < ranks; r++)
        h->pos[r] = -1;
}

void rankheap_free(rankheap *h)
{
    free(h->heap);
    free(h->pos);
    free(h->key);
}

static int before(const rankheap *h, int a, int b)
{
    return h->key[a] < h->key[b] || (h->key[a] == h->key[b] && a < b);
}

static void place(rankheap *h, int i, int r)
{
    h->heap[i] = r;
    h->pos[r] = i;
}

static void up(rankheap *h, int i)
{
    int r = h->heap[i];
    while (i > 0 && before(h, r, h->heap[(i - 1) / 2])) {
        place(h, i, h->heap[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    place(h, i, r);
}

static void down(rankheap *h, int i)
{
    int r = h->heap[i];
    for (;;) {
        int c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && before(h, h->heap[c + 1], h->heap[c]))
            c++;
        if (!before(h, h->heap[c], r))
            break;
        place(h, i, h->heap[c]);
        i = c;
    }
    place(h, i, r);
}

void rankheap_set(rankheap *h, int r, double key)
{
    h->key[r] = key;
    if (h->pos[r] < 0) {
        place(h, h->n++, r);
        up(h, h->n - 1);
        return;
    }
    up(h, h->pos[r]);
    down(h, h->pos[r]);
}

void rankheap_remove(rankheap *h, int r)
{
    int i = h->pos[r];
    if (i < 0)
        return;
    h->pos[r] = -1;
    if (--h->n == i)
        return;
    int moved = h->heap[h->n];
    place(h, i, moved);
    up(h, i);
    if (h->pos[moved] == i) /* it did not rise: it may have to sink */
        down(h, i);
}
