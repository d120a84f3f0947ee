/* cs_scratch: per-thread buffers reused across calls (see cs_scratch.h). */
#include "cs_scratch.h"

#include <pthread.h>
#include <stdlib.h>

#include "cs_alloc.h"

typedef struct scratch_set {
    void *buf[CS_SCRATCH_SLOTS];
    size_t held[CS_SCRATCH_SLOTS];
} scratch_set;

/* Reachable from the thread's own storage while it runs (so leak checkers
 * see it); the key's destructor frees it when the thread ends. */
static _Thread_local scratch_set *mine;
static pthread_key_t key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;

static void release(void *p)
{
    scratch_set *s = p;
    for (int i = 0; i < CS_SCRATCH_SLOTS; i++)
        free(s->buf[i]);
    free(s);
    mine = NULL; /* the exiting thread's: a later ask (another key's destructor) starts afresh */
}

static void make_key(void)
{
    if (pthread_key_create(&key, release) != 0)
        abort(); /* only when the process is out of keys: nothing can go on */
}

static scratch_set *set_of_thread(void)
{
    if (!mine) {
        pthread_once(&key_once, make_key);
        mine = cs_xrealloc(NULL, sizeof *mine);
        *mine = (scratch_set){0};
        pthread_setspecific(key, mine);
    }
    return mine;
}

void *cs_scratch(cs_scratch_slot slot, size_t bytes)
{
    scratch_set *s = set_of_thread();
    if (bytes > s->held[slot]) {
        /* half again over the old size, so that slowly growing requests
         * do not reallocate each time; free first, then allocate: the old
         * contents are not kept, and realloc would copy them */
        size_t grown = s->held[slot] + s->held[slot] / 2;
        size_t want = bytes > grown ? bytes : grown;
        free(s->buf[slot]);
        s->buf[slot] = cs_xrealloc(NULL, want);
        s->held[slot] = want;
    }
    return s->buf[slot];
}

size_t cs_scratch_held(cs_scratch_slot slot)
{
    return mine ? mine->held[slot] : 0;
}
