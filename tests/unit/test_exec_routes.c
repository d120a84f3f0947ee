/* Unit tests: transfers' routes kept per GPU pair (sim/exec_routes).  On
 * fabrics routed by destination and on one hashed per flow, every lookup
 * (the first of a pair and the later ones) gives topo_route_gpus's route for
 * its salt and the same latency; a route that took a hashed choice is not
 * reused (other salts' routes differ there, and still match). */
#include <stdio.h>
#include <string.h>

#include "collfixture.h"
#include "exec_routes.h"
#include "fixture.h"
#include "tap.h"

/* Random pairs (some twice, some a GPU to itself) and salts against
 * topo_route_gpus; returns how many pairs' routes differed between two salts. */
static int routes_match(topo *t, uint64_t seed)
{
    exec_routes *r = exec_routes_new();
    int gpus = topo_gpu_count(t), mismatches = 0, salt_matters = 0;
    for (int i = 0; i < 3000; i++) {
        int src = (int)(fixture_rand(&seed) % (uint64_t)gpus);
        int dst = i % 7 == 0 ? src : (int)(fixture_rand(&seed) % (uint64_t)gpus);
        int32_t want[TOPO_MAX_ROUTE], got[TOPO_MAX_ROUTE], other[TOPO_MAX_ROUTE];
        for (int pass = 0; pass < 2; pass++) {
            uint32_t salt = (uint32_t)fixture_rand(&seed);
            int n = topo_route_gpus(t, src, dst, salt, want, TOPO_MAX_ROUTE, NULL);
            uint64_t latency_ps = 0;
            int m = exec_routes_get(r, t, src, dst, salt, got, &latency_ps);
            mismatches += n != m || (n > 0 && memcmp(want, got, sizeof(int32_t) * (size_t)n)) ||
                          latency_ps != topo_route_latency_ps(t, want, n < 0 ? 0 : n);
            int k = topo_route_gpus(t, src, dst, salt + 1, other, TOPO_MAX_ROUTE, NULL);
            salt_matters += pass == 0 && (k != n || memcmp(want, other, sizeof(int32_t) *
                                                                  (size_t)(n > 0 ? n : 0)));
        }
    }
    CHECK_EQ_INT(mismatches, 0);
    exec_routes_free(r);
    return salt_matters;
}

static void by_destination(void)
{
    topo *a100 = make_topo("dgx-a100-80g", 64), *h100 = make_topo("dgx-h100", 40);
    CHECK(a100 && h100);
    CHECK_EQ_INT(routes_match(a100, 0x1234567ull), 0); /* no salt changes a route here */
    routes_match(h100, 0x7654321ull);
    topo_free(a100);
    topo_free(h100);
}

/* dgx-a100-80g's fabric hashed per flow (fixture_ecmp_fat_tree's network). */
static void hashed_per_flow(void)
{
    sys_system s;
    topo *t = NULL;
    CHECK(sys_from_catalog("dgx-a100-80g", 64, &s, NULL) == 0);
    s.net.kind = SYS_NET_FAT_TREE2;
    s.net.nics_per_leaf = 20;
    s.net.routing = SYS_ROUTE_ECMP;
    CHECK(topo_build(&s, &t, NULL) == 0);
    int differ = routes_match(t, 0xabcdefull);
    printf("# %d pairs whose route another salt changes\n", differ);
    CHECK(differ > 0); /* hashed routes exist, and were not handed to other salts */
    topo_free(t);
}

TAP_MAIN({"routes by destination: reused, the same as topo_route_gpus", by_destination},
         {"routes hashed per flow: each salt its own", hashed_per_flow})
