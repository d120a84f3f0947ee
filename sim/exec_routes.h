/* exec_routes: transfers' routes reused per GPU pair (issue 20).
 *
 * A transfer's route is a function of its two GPUs and its salt, and the
 * salt changes only the equal-cost choices taken by the hash
 * (topo_route_gpus_hashed).  A route that took none is every salt's route
 * between the pair, so it is kept and handed to the pair's later transfers
 * (on fabrics routed by destination that is every route between GPUs with
 * a NIC each); a hashed one is routed again each time. */
#ifndef CS_EXEC_ROUTES_H
#define CS_EXEC_ROUTES_H

#include <stdint.h>

#include "topo.h"

typedef struct exec_routes exec_routes;

exec_routes *exec_routes_new(void);
void exec_routes_free(exec_routes *r);

/* The route of a transfer from src_gpu to dst_gpu with salt on t, as
 * topo_route_gpus gives it, into links (TOPO_MAX_ROUTE room); its length, or
 * -1 when there is none.  *latency_ps: topo_route_latency_ps of it. */
int exec_routes_get(exec_routes *r, topo *t, int src_gpu, int dst_gpu, uint32_t salt,
                    int32_t *links, uint64_t *latency_ps);

#endif
