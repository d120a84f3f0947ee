/* topo_dest: destination-based routing in switched networks (issue 15).
 *
 * InfiniBand does not hash flows over equal-cost links as Ethernet ECMP
 * does: the subnet manager writes a linear forwarding table into every
 * switch, one output port per destination LID, so every packet to a given
 * destination leaves a switch by the same port.  OpenSM's fat-tree engine
 * (ftree) assigns those ports so that the "shift" permutations (rank i
 * sends to rank i + k, every step of a ring) cross the fabric without two
 * flows on one link (linux-rdma/opensm doc/current-routing.txt); on a
 * regular fat-tree this is D-mod-K routing (Zahavi, "D-Mod-K Routing
 * Providing Non-Blocking Traffic for Shift Permutations on Real Life Fat
 * Trees", 2010): going up, a switch with K equal-cost up-links takes link
 * (d / P) mod K, d the destination's number in leaf-port order and P the
 * product of the choices made below it on the way.  Going down a tree there
 * is one shortest path, so that needs no rule.
 *
 * A system chooses this with sys_network.routing = SYS_ROUTE_DEST; the hash
 * of topo_route.c stays for Ethernet fabrics and tori. */
#include "topo_private.h"

#include <stdlib.h>

int topo_dest_keys(topo *t)
{
    t->nic_dest_key = malloc(((size_t)t->nnics + 1) * sizeof *t->nic_dest_key);
    int32_t *ports = calloc((size_t)t->nverts + 1, sizeof *ports);
    if (!t->nic_dest_key || !ports) {
        free(ports);
        return -1;
    }
    /* A leaf's down-ports in NIC order, as they are cabled (topo.c attaches
     * NICs in global order); the widest leaf sets the stride. */
    int32_t stride = 1;
    for (int nic = 0; nic < t->nnics; nic++) {
        int32_t sw = t->nic_attach[nic];
        t->nic_dest_key[nic] = sw >= 0 ? ports[sw]++ : -1;
        if (sw >= 0 && ports[sw] > stride)
            stride = ports[sw];
    }
    for (int nic = 0; nic < t->nnics; nic++)
        if (t->nic_dest_key[nic] >= 0)
            t->nic_dest_key[nic] += t->verts[t->nic_attach[nic]].index * stride;
    free(ports);
    return 0;
}
