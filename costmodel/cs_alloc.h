/* cs_alloc: allocation that cannot fail quietly, and growable arrays.
 *
 * The simulation cannot continue without memory, so running out aborts
 * with a message instead of threading an error through every hot path. */
#ifndef CS_ALLOC_H
#define CS_ALLOC_H

#include <stdio.h>
#include <stdlib.h>

static inline void *cs_xrealloc(void *p, size_t bytes)
{
    void *q = realloc(p, bytes ? bytes : 1);
    if (!q) {
        fprintf(stderr, "clustersim: out of memory (%zu bytes)\n", bytes);
        abort();
    }
    return q;
}

/* Makes room for `need` elements in ptr (capacity in cap), doubling. */
#define CS_GROW(ptr, cap, need)                                               \
    do {                                                                      \
        if ((need) > (cap)) {                                                 \
            int cs_new_cap_ = (need) * 2 > 16 ? (need) * 2 : 16;              \
            (ptr) = cs_xrealloc((ptr), sizeof *(ptr) * (size_t)cs_new_cap_);  \
            (cap) = cs_new_cap_;                                              \
        }                                                                     \
    } while (0)

#endif
