/* keymap: nonzero 64-bit keys numbered 0, 1, 2, ... in the order they were
 * first added; the one hash table of the simulator's hot paths (GPU pairs
 * already routed or checked, collective plans by address).
 *
 * Callers keep what belongs to a key in their own dense array at its index,
 * so indices and that array stay put while the table grows (a reservation
 * mark or an entry's position never moves).  Open addressing with linear
 * probing at most half full: a lookup is one or two cache lines. */
#ifndef CS_KEYMAP_H
#define CS_KEYMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct keymap_slot {
    uint64_t key;     /* 0: empty */
    uint32_t index;   /* the key's number */
} keymap_slot;

typedef struct keymap {
    keymap_slot *slots; /* key and number side by side: one cache line a probe */
    size_t cap, count;
} keymap;

#define KEYMAP_INIT {NULL, 0, 0}

void keymap_free(keymap *m);

/* The key's number, or -1 when it was never added.  key != 0. */
int64_t keymap_find(const keymap *m, uint64_t key);

/* The key's number, adding it (as number m->count) when absent; *added says
 * which (may be NULL).  key != 0. */
uint32_t keymap_add(keymap *m, uint64_t key, int *added);

/* The key of an ordered pair of non-negative ids (GPUs, ranks): never 0. */
static inline uint64_t keymap_pair(int32_t a, int32_t b)
{
    return ((uint64_t)(uint32_t)(a + 1) << 32) | (uint32_t)(b + 1);
}

#endif
