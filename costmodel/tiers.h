/* tiers: the memory tiers behind a node's GPUs: host DRAM (capacity,
 * bandwidth per socket, NUMA domains), the host CPUs that run an offloaded
 * optimizer, and NVMe drives (count, read and write bandwidth each,
 * capacity).  The PCIe tree the tiers share with the GPUs and NICs is the
 * topology's (topo.h: GPU -> PCIe switch -> CPU -> DRAM); the NVMe drives
 * sit behind host DRAM, as DeepSpeed's swap_tensor and Fuyou both stage
 * every SSD transfer through pinned host buffers.
 *
 * Owns sys_tiers (embedded at the end of sys_node_type), the datasheet
 * figures of the built-in systems with their sources, and the checks; the
 * CPU optimizer's rates of the built-in hosts are tiers_cpu.h's. */
#ifndef CS_TIERS_H
#define CS_TIERS_H

#include "cs_error.h"

/* How a host's CPU rate was obtained (tiers_cpu.h). */
typedef enum tier_rate_kind {
    TIER_RATE_NONE = 0, /* no rate: the bandwidth bound alone */
    TIER_RATE_MEASURED, /* a published measurement on this host */
    TIER_RATE_DERIVED,  /* another host's measurement carried by a published proportion */
    TIER_RATE_ASSUMED,  /* carried by a proportion the sources do not show to bind */
} tier_rate_kind;

typedef struct tier_host {
    int sockets;                      /* CPU sockets, one NUMA domain each */
    int cores;                        /* physical cores per node, all sockets */
    double dram_bytes;                /* per node */
    double dram_bw_per_socket_bytes_per_s; /* channels x transfer rate x 8 bytes */
    /* Streaming bandwidth one core can draw from DRAM: the CPU optimizer is
     * memory bound (see offload.h), so its throughput is
     * min(cores x this, DRAM bandwidth) over the bytes Adam touches per
     * parameter. */
    double core_stream_bw_bytes_per_s;
    const char *source;
    /* CPU Adam measured on this host, or derived from the measurement of
     * another (issue 17, tiers_cpu.c): DeepSpeedCPUAdam's parameters per
     * second for the whole node, 0 where neither is known (the bandwidth
     * bound above is used alone); such a rate replaces the bound when lower. */
    double cpu_adam_params_per_s;
    const char *cpu_adam_source;
    /* The CPU pass over the fp32 gradients before the step (issue 17,
     * offload.h: OFFLOAD_GRAD_PASS_BYTES_PER_PARAM), measured on this host:
     * parameters per second for the node, 0 where unknown (the bound). */
    double cpu_grad_pass_params_per_s;
    const char *cpu_grad_pass_source;
    /* The CPU rates' kind and uncertainty (issue 17 review, tiers_cpu.h):
     * how each rate above was obtained, and for a carried one the range it
     * spans between the parts' base and maximum turbo clocks (the rate
     * above is the low end); both ends 0 for a measured rate. */
    tier_rate_kind cpu_adam_kind, cpu_grad_pass_kind;
    double cpu_adam_range_params_per_s[2];      /* low, high */
    double cpu_grad_pass_range_params_per_s[2]; /* low, high */
} tier_host;

typedef struct tier_nvme {
    int drives;                       /* per node; 0: none */
    double read_bw_bytes_per_s;       /* per drive, sequential */
    double write_bw_bytes_per_s;      /* per drive, sequential */
    double capacity_bytes;            /* per drive */
    const char *source;
    /* The most the path between the drives and host memory carried, as
     * measured on the host (issue 17): 0 where no measurement is published
     * (the drives' sums are the rates); else the node reads and writes at
     * most this, whatever the drive count (an assumption: the sources do
     * not say what limits it).  Reads and writes take turns on it, as on
     * the drives (offload_nvme_s adds their times). */
    double link_bw_bytes_per_s;
    const char *link_source;
} tier_nvme;

typedef struct sys_tiers {
    tier_host host;
    tier_nvme nvme;
} sys_tiers;

/* A generic two-socket host of dram_bytes and total bandwidth dram_bw (the
 * node's host_mem figures), 32 cores, no NVMe. */
void tiers_init_default(sys_tiers *t, double dram_bytes, double dram_bw_bytes_per_s);

/* Fills the datasheet tiers of a built-in node type by its name (the CPU
 * optimizer's rates are tiers_cpu_rates's, called after it); returns 0
 * when it knows the name, -1 (t unchanged) when not. */
int tiers_of_builtin(const char *node_name, sys_tiers *t);

double tiers_dram_bw(const sys_tiers *t);       /* all sockets */
/* All drives, at most the measured link (tier_nvme.link_bw_bytes_per_s). */
double tiers_nvme_read_bw(const sys_tiers *t);
double tiers_nvme_write_bw(const sys_tiers *t);
double tiers_nvme_bytes(const sys_tiers *t);

/* The tiers to use: t itself, or when it was left all zero (a node
 * described field by field without sys_node_init) the default host of
 * host_mem_bytes and host_mem_bw with no NVMe. */
sys_tiers tiers_effective(const sys_tiers *t, double host_mem_bytes, double host_mem_bw);

/* An all-zero t (not described) passes.  Impossible values: sockets < 1,
 * cores < 1, non-positive capacity or bandwidth, drives < 0, drives without
 * bandwidth or capacity, a negative or non-finite NVMe link, a link
 * without drives. */
int tiers_validate(const sys_tiers *t, const char *node_name, cs_err *err);

#endif
