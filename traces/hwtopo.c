/* hwtopo: hwloc's view of the machine (see hwtopo.h). */
#include "hwtopo.h"

#include <hwloc.h>
#include <string.h>
#include <unistd.h>

static void pci_addr(hwloc_obj_t o, char out[16])
{
    snprintf(out, 16, "%04x:%02x:%02x.%x", o->attr->pcidev.domain & 0xffffu,
             o->attr->pcidev.bus, o->attr->pcidev.dev, o->attr->pcidev.func);
}

/* gpu (NVIDIA/AMD display or 3D controller), nic (network or InfiniBand
 * controller) or NULL for other devices. */
static const char *kind_of(hwloc_obj_t o)
{
    unsigned cls = o->attr->pcidev.class_id;
    if ((cls == 0x0300 || cls == 0x0302) && (o->attr->pcidev.vendor_id == 0x10de ||
                                             o->attr->pcidev.vendor_id == 0x1002))
        return "gpu";
    if (cls >> 8 == 0x02)
        return "nic";
    return NULL;
}

static int numa_of(hwloc_topology_t t, hwloc_obj_t o)
{
    hwloc_obj_t a = hwloc_get_non_io_ancestor_obj(t, o);
    if (!a || !a->nodeset)
        return -1;
    return hwloc_bitmap_first(a->nodeset);
}

static void add_dev(hwloc_topology_t t, hwloc_obj_t o, const char *kind, hwtopo *out)
{
    if (out->ndev == HWTOPO_MAX_DEV)
        return;
    hwtopo_dev *d = &out->dev[out->ndev++];
    memset(d, 0, sizeof *d);
    snprintf(d->kind, sizeof d->kind, "%s", kind);
    pci_addr(o, d->pci);
    hwloc_obj_t os = o->io_first_child; /* the OS device (cuda0, mlx5_0, eth0) names it best */
    snprintf(d->name, sizeof d->name, "%s", os && os->name ? os->name : o->name ? o->name : "");
    d->numa = numa_of(t, o);
    for (hwloc_obj_t p = o->parent; p && p->type == HWLOC_OBJ_BRIDGE; p = p->parent) {
        if (!d->depth && p->attr->bridge.upstream_type == HWLOC_OBJ_BRIDGE_PCI)
            pci_addr(p, d->parent);
        d->depth++;
    }
}

static void summarize(hwloc_topology_t t, hwtopo *out)
{
    out->numa_nodes = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE);
    out->packages = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PACKAGE);
    out->cores = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_CORE);
    out->pus = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU);
    hwloc_obj_t root = hwloc_get_root_obj(t);
    out->memory_bytes = (double)root->total_memory;
    for (hwloc_obj_t o = NULL; (o = hwloc_get_next_pcidev(t, o));) {
        const char *k = kind_of(o);
        if (k) {
            add_dev(t, o, k, out);
            out->gpus += strcmp(k, "gpu") == 0;
            out->nics += strcmp(k, "nic") == 0;
        }
    }
    for (hwloc_obj_t o = NULL; (o = hwloc_get_next_bridge(t, o));)
        if (o->attr->bridge.upstream_type == HWLOC_OBJ_BRIDGE_PCI) {
            out->bridges++;
            add_dev(t, o, "bridge", out);
        }
}

int hwtopo_load(const char *synthetic, hwtopo *out, cs_err *err)
{
    memset(out, 0, sizeof *out);
    hwloc_topology_t t;
    if (hwloc_topology_init(&t) != 0)
        return cs_fail(err, "hwloc: cannot initialise a topology");
    /* PCI devices come from Linux's sysfs; the libpciaccess plugin ("pci")
     * finds the same ones and leaks what it allocates. */
    int rc = synthetic ? hwloc_topology_set_synthetic(t, synthetic)
                       : hwloc_topology_set_io_types_filter(t, HWLOC_TYPE_FILTER_KEEP_IMPORTANT) ||
                             hwloc_topology_set_components(t, HWLOC_TOPOLOGY_COMPONENTS_FLAG_BLACKLIST, "pci");
    if (rc != 0 || hwloc_topology_load(t) != 0) {
        hwloc_topology_destroy(t);
        return synthetic ? cs_fail(err, "hwloc: '%s' is not a synthetic topology (e.g. "
                                        "\"pack:2 numa:1 core:8 pu:2\")", synthetic)
                         : cs_fail(err, "hwloc: cannot read this machine's topology");
    }
    summarize(t, out);
    hwloc_topology_destroy(t);
    if (synthetic)
        snprintf(out->host, sizeof out->host, "synthetic");
    else if (gethostname(out->host, sizeof out->host) != 0)
        snprintf(out->host, sizeof out->host, "unknown");
    out->host[sizeof out->host - 1] = 0;
    return 0;
}

void hwtopo_print(FILE *f, const hwtopo *t)
{
    fprintf(f, "host %s: %d packages, %d NUMA nodes, %d cores, %d PUs, %.1f GiB memory\n", t->host,
            t->packages, t->numa_nodes, t->cores, t->pus, t->memory_bytes / (1 << 30));
    fprintf(f, "%d GPUs, %d NICs, %d PCI bridges%s\n", t->gpus, t->nics, t->bridges,
            t->gpus ? "" : " (no GPU on this machine: calibration needs one; see docs/calibration.md)");
    for (int i = 0; i < t->ndev; i++)
        if (strcmp(t->dev[i].kind, "bridge") != 0)
            fprintf(f, "  %-4s %-16s pci %s numa %d, %d bridges from the host\n", t->dev[i].kind,
                    t->dev[i].name, t->dev[i].pci, t->dev[i].numa, t->dev[i].depth);
}

void hwtopo_write_lua(FILE *f, const hwtopo *t)
{
    fprintf(f, "-- The machine as hwloc saw it, written by 'clustersim topology' (docs/calibration.md).\n"
               "return {\n  host = \"%s\",\n  packages = %d,\n  numa_nodes = %d,\n  cores = %d,\n"
               "  pus = %d,\n  memory_bytes = %.0f,\n  gpus_per_node = %d,\n  nics = %d,\n  devices = {\n",
            t->host, t->packages, t->numa_nodes, t->cores, t->pus, t->memory_bytes, t->gpus, t->nics);
    for (int i = 0; i < t->ndev; i++) {
        const hwtopo_dev *d = &t->dev[i];
        fprintf(f, "    { kind = \"%s\", name = \"%s\", pci = \"%s\", numa = %d, depth = %d, "
                   "parent = \"%s\" },\n", d->kind, d->name, d->pci, d->numa, d->depth, d->parent);
    }
    fprintf(f, "  },\n}\n");
}
