/* exec_routes: transfers' routes reused per GPU pair (see exec_routes.h). */
#include "exec_routes.h"

#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"
#include "keymap.h"

typedef struct route_entry {
    uint64_t latency_ps;
    int32_t off, len;    /* in links */
} route_entry;

struct exec_routes {
    keymap pairs;          /* GPU pairs with a kept route: their entry's index */
    route_entry *entries;  /* by pair number */
    int capentries;
    int32_t *links;        /* the kept routes one after another */
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
    keymap_free(&r->pairs);
    free(r->entries);
    free(r->links);
    free(r);
}

/* Keeps a route that took no hashed choice under its pair. */
static void keep(exec_routes *r, uint64_t key, const int32_t *links, int len,
                 uint64_t latency_ps)
{
    uint32_t at = keymap_add(&r->pairs, key, NULL);
    CS_GROW(r->entries, r->capentries, (int)at + 1);
    if (len > 0) { /* a GPU to itself has no links, and links may be NULL yet */
        CS_GROW(r->links, r->caplinks, r->nlinks + len);
        memcpy(r->links + r->nlinks, links, sizeof(int32_t) * (size_t)len);
    }
    r->entries[at] = (route_entry){latency_ps, r->nlinks, len};
    r->nlinks += len;
}

int exec_routes_get(exec_routes *r, topo *t, int src_gpu, int dst_gpu, uint32_t salt,
                    int32_t *links, uint64_t *latency_ps)
{
    uint64_t key = keymap_pair(src_gpu, dst_gpu);
    int64_t at = keymap_find(&r->pairs, key);
    if (at >= 0) {
        const route_entry *e = &r->entries[at];
        if (e->len > 0)
            memcpy(links, r->links + e->off, sizeof(int32_t) * (size_t)e->len);
        *latency_ps = e->latency_ps;
        return e->len;
    }
    int hashed = 1;
    int len = topo_route_gpus_hashed(t, src_gpu, dst_gpu, salt, links, TOPO_MAX_ROUTE, &hashed,
                                     NULL);
    *latency_ps = topo_route_latency_ps(t, links, len < 0 ? 0 : len);
    if (len >= 0 && !hashed)
        keep(r, key, links, len, *latency_ps);
    return len;
}
