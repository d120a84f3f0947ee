/* exec_routes: transfers' routes reused per GPU pair (see exec_routes.h). */
#include "exec_routes.h"

#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"

typedef struct route_entry {
    uint64_t key;        /* (src + 1) << 32 | (dst + 1); 0: empty */
    uint64_t latency_ps;
    int32_t off, len;    /* in links */
} route_entry;

struct exec_routes {
    route_entry *slots;  /* open addressing, at most half full */
    size_t cap, used;
    int32_t *links;      /* the kept routes one after another */
    int nlinks, caplinks;
};

exec_routes *exec_routes_new(void)
{
    exec_routes *r = cs_xrealloc(NULL, sizeof *r);
    memset(r, 0, sizeof *r);
    return r;
}

void exec_routes_free(exec_routes *r)
{
    if (!r)
        return;
    free(r->slots);
    free(r->links);
    free(r);
}

static size_t slot_of(const exec_routes *r, uint64_t key)
{
    size_t i = (size_t)((key * 0x9e3779b97f4a7c15ull) >> 17) & (r->cap - 1);
    while (r->slots[i].key && r->slots[i].key != key)
        i = (i + 1) & (r->cap - 1);
    return i;
}

static void grow(exec_routes *r)
{
    route_entry *old = r->slots;
    size_t oldcap = r->cap;
    r->cap = oldcap ? oldcap * 2 : 256;
    r->slots = calloc(r->cap, sizeof *r->slots);
    if (!r->slots)
        abort();
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].key)
            r->slots[slot_of(r, old[i].key)] = old[i];
    free(old);
}

/* Keeps a route that took no hashed choice under its pair. */
static void keep(exec_routes *r, uint64_t key, const int32_t *links, int len,
                 uint64_t latency_ps)
{
    if ((r->used + 1) * 2 > r->cap)
        grow(r);
    if (len > 0) { /* a GPU to itself has no links, and links may be NULL yet */
        CS_GROW(r->links, r->caplinks, r->nlinks + len);
        memcpy(r->links + r->nlinks, links, sizeof(int32_t) * (size_t)len);
    }
    r->slots[slot_of(r, key)] = (route_entry){key, latency_ps, r->nlinks, len};
    r->nlinks += len;
    r->used++;
}

int exec_routes_get(exec_routes *r, topo *t, int src_gpu, int dst_gpu, uint32_t salt,
                    int32_t *links, uint64_t *latency_ps)
{
    uint64_t key = ((uint64_t)(uint32_t)(src_gpu + 1) << 32) | (uint32_t)(dst_gpu + 1);
    if (r->cap) {
        const route_entry *e = &r->slots[slot_of(r, key)];
        if (e->key == key) {
            if (e->len > 0)
                memcpy(links, r->links + e->off, sizeof(int32_t) * (size_t)e->len);
            *latency_ps = e->latency_ps;
            return e->len;
        }
    }
    int hashed = 1;
    int len = topo_route_gpus_hashed(t, src_gpu, dst_gpu, salt, links, TOPO_MAX_ROUTE, &hashed,
                                     NULL);
    *latency_ps = topo_route_latency_ps(t, links, len < 0 ? 0 : len);
    if (len >= 0 && !hashed)
        keep(r, key, links, len, *latency_ps);
    return len;
}
