/* keymap: see keymap.h. */
#include "keymap.h"

#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"

void keymap_free(keymap *m)
{
    free(m->slots);
    *m = (keymap)KEYMAP_INIT;
}

/* The slot of key: where it is, or the empty one where it would go.  The
 * multiplier (2^64 / golden ratio) spreads keys that differ in low bits only
 * (consecutive GPU numbers, aligned addresses) over the whole table. */
static size_t slot_of(const keymap *m, uint64_t key)
{
    size_t mask = m->cap - 1, i = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & mask;
    while (m->slots[i].key && m->slots[i].key != key)
        i = (i + 1) & mask;
    return i;
}

int64_t keymap_find(const keymap *m, uint64_t key)
{
    if (!m->cap)
        return -1;
    size_t i = slot_of(m, key);
    return m->slots[i].key ? (int64_t)m->slots[i].index : -1;
}

static void grow(keymap *m)
{
    keymap old = *m;
    m->cap = old.cap ? old.cap * 2 : 256;
    m->slots = cs_xrealloc(NULL, sizeof *m->slots * m->cap);
    memset(m->slots, 0, sizeof *m->slots * m->cap);
    for (size_t i = 0; i < old.cap; i++)
        if (old.slots[i].key)
            m->slots[slot_of(m, old.slots[i].key)] = old.slots[i];
    free(old.slots);
}

uint32_t keymap_add(keymap *m, uint64_t key, int *added)
{
    if ((m->count + 1) * 2 > m->cap)
        grow(m);
    size_t i = slot_of(m, key);
    int is_new = m->slots[i].key == 0;
    if (is_new) {
        if (m->count >= UINT32_MAX)
            abort(); /* four billion keys: no run gets near */
        m->slots[i] = (keymap_slot){key, (uint32_t)m->count++};
    }
    if (added)
        *added = is_new;
    return m->slots[i].index;
}
