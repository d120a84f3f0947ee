/* hwtopo: the machine clustersim runs on, as hwloc sees it.
 *
 * Owns loading the hardware topology (this machine, or a synthetic one
 * such as "pack:2 numa:1 core:8 pu:2" for tests) with its PCI devices,
 * summarising it (NUMA nodes, cores, GPUs, NICs, the PCIe tree between
 * them) and writing that as a Lua node description (docs/calibration.md). */
#ifndef CS_HWTOPO_H
#define CS_HWTOPO_H

#include <stdio.h>

#include "cs_error.h"

#define HWTOPO_MAX_DEV 64

typedef struct hwtopo_dev {
    char name[64];     /* hwloc's name of the device (or its OS device) */
    char pci[16];      /* domain:bus:dev.fn */
    char kind[8];      /* gpu, nic or bridge */
    int numa;          /* nearest NUMA node, -1 if unknown */
    int depth;         /* bridges between the device and the host */
    char parent[16];   /* PCI address of the upstream bridge, "" at the root */
} hwtopo_dev;

typedef struct hwtopo {
    char host[64];
    int numa_nodes, packages, cores, pus;
    double memory_bytes;
    int ndev, gpus, nics, bridges;
    hwtopo_dev dev[HWTOPO_MAX_DEV];
} hwtopo;

/* Loads this machine (synthetic NULL) or the synthetic description. */
int hwtopo_load(const char *synthetic, hwtopo *out, cs_err *err);

void hwtopo_write_lua(FILE *f, const hwtopo *t);
void hwtopo_print(FILE *f, const hwtopo *t);

#endif
