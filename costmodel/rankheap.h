/* rankheap: pipeline ranks ordered by a key (the time or slot of each
 * rank's next unit), the smallest first and ties to the lower rank: the
 * order a scan for the strict minimum over ranks 0, 1, ... gives, at a
 * logarithmic cost per change instead of a pass over every rank.  A rank's
 * key may change, or the rank leave, at any time.
 *
 * Owns nothing but its arrays; the schedule generators (schedule_zb.c,
 * schedule_vpattern.c) keep their ranks' next units in one. */
#ifndef CS_RANKHEAP_H
#define CS_RANKHEAP_H

typedef struct rankheap {
    int n;       /* ranks in the heap */
    int *heap;   /* [ranks]: heap order */
    int *pos;    /* [ranks]: index in heap, -1 when out */
    double *key; /* [ranks] */
} rankheap;

void rankheap_init(rankheap *h, int ranks);
void rankheap_free(rankheap *h);

/* Puts rank r in with key, or moves it to its new key. */
void rankheap_set(rankheap *h, int r, double key);

/* Takes rank r out (nothing when it is not in). */
void rankheap_remove(rankheap *h, int r);

/* The rank with the smallest key (the lowest of equal keys); -1 when empty. */
static inline int rankheap_top(const rankheap *h) { return h->n ? h->heap[0] : -1; }

#endif
