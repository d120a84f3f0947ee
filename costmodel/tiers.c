/* tiers: host DRAM, CPUs and NVMe drives of the built-in nodes (see tiers.h).
 *
 * Every figure below is a vendor datasheet figure, a stated assumption or
 * (the NVMe links) a measurement its authors publish of that host; none is
 * fitted to an end-to-end training result.  DRAM bandwidth per
 * socket is the memory controller's peak: channels x MT/s x 8 bytes. */
#include "tiers.h"

#include <math.h>
#include <string.h>

#define GB 1e9
#define TB 1e12

/* Assumption: one core of a 2019-2023 server CPU streams 10-20 GB/s from
 * DRAM (single-thread STREAM triad is of that order on Skylake-SP, Zen 2,
 * Ice Lake and Sapphire Rapids); 12 GB/s is taken for every host.  It only
 * bounds the CPU optimizer when few cores serve a GPU: with the cores of
 * the hosts below, DRAM bandwidth is the bound. */
#define CORE_STREAM_BW (12 * GB)

void tiers_init_default(sys_tiers *t, double dram_bytes, double dram_bw_bytes_per_s)
{
    memset(t, 0, sizeof *t);
    t->host.sockets = 2;
    t->host.cores = 32;
    t->host.dram_bytes = dram_bytes;
    t->host.dram_bw_per_socket_bytes_per_s = dram_bw_bytes_per_s / 2;
    t->host.core_stream_bw_bytes_per_s = CORE_STREAM_BW;
    t->host.source = "assumption: a generic two-socket host of 32 cores";
    t->nvme.source = "none";
}

/* Samsung PM1733 3.84 TB U.2 (PCIe 4.0) datasheet: 7.0 GB/s sequential read,
 * 3.8 GB/s sequential write.  NVIDIA's DGX datasheets give the count and
 * size of the data drives but not the model; a PM1733-class Gen4 drive is
 * the assumption. */
#define GEN4_U2 7.0, 3.8, 3.84
#define GEN4_U2_SRC "drive: Samsung PM1733 datasheet (assumed model)"
/* Gen3 U.2 drive of the DGX-2 era: Micron 9200 PRO 3.84 TB datasheet,
 * 3.5 GB/s read, 1.9 GB/s write (assumption on the model, as above). */
#define GEN3_U2 3.5, 1.9, 3.84

static const struct builtin {
    const char *node;
    int sockets, cores;
    double dram_tb;
    int channels;             /* per socket */
    double mts;               /* DIMM transfer rate, MT/s */
    const char *host_source;
    int drives;
    double read_gbs, write_gbs, cap_tb; /* per drive */
    const char *nvme_source;
} builtins[] = {
    {"dgx-a100-80g", 2, 128, 2, 8, 3200,
     "DGX A100 datasheet: 2x AMD EPYC 7742 (64 cores), 2 TB; EPYC 7742: 8 channels DDR4-3200 "
     "per socket", 8, GEN4_U2, "DGX A100 datasheet: 30 TB in 8x 3.84 TB U.2 NVMe; " GEN4_U2_SRC},
    {"dgx-h100", 2, 112, 2, 8, 4800,
     "DGX H100 datasheet: 2x Xeon Platinum 8480C (56 cores), 2 TB; 8 channels DDR5-4800 per "
     "socket", 8, GEN4_U2, "DGX H100 datasheet: 30 TB in 8x 3.84 TB U.2 NVMe; " GEN4_U2_SRC},
    {"dgx-h200", 2, 112, 2, 8, 4800,
     "DGX H200 datasheet: 2x Xeon Platinum 8480C (56 cores), 2 TB; 8 channels DDR5-4800 per "
     "socket", 8, GEN4_U2, "DGX H200 datasheet: 30 TB in 8x 3.84 TB U.2 NVMe; " GEN4_U2_SRC},
    {"dgx2-v100", 2, 48, 1.5, 6, 2666,
     "DGX-2 datasheet: 2x Xeon Platinum 8168 (24 cores), 1.5 TB; 6 channels DDR4-2666 per "
     "socket (Intel ARK)", 8, GEN3_U2,
     "DGX-2 datasheet: 30 TB in 8x 3.84 TB NVMe; drive: Micron 9200 PRO datasheet (assumed "
     "model)"},
    {"dgx2h-v100", 2, 48, 1.5, 6, 2666,
     "the DGX-2's (DGX-2 datasheet: 2x Xeon Platinum 8168, 1.5 TB, 6 channels DDR4-2666 per "
     "socket): the DGX-2H's own host is not in the references", 8, GEN3_U2,
     "the DGX-2's (DGX-2 datasheet: 30 TB in 8x 3.84 TB NVMe; drive: Micron 9200 PRO datasheet, "
     "assumed model)"},
    {"rtx4090-box", 1, 16, 0.256, 8, 3200,
     "assumption: a one-socket workstation, AMD EPYC 7313P class (16 cores, 8 channels "
     "DDR4-3200, AMD datasheet), 256 GB", 2, 6.5, 3.4, 3.84,
     "2x Intel SSD D7-P5510 3.84 TB (PCIe 4.0), Intel ARK: 6.5 GB/s sequential read, 3.4 GB/s "
     "write (Fuyou's drive model; the count is the issue's 1-2 SSD box)"},
    /* Fuyou's testbed as its authors publish it (arXiv 2403.06504's artifact,
     * github.com/Crispig/Ratel evaluation_data.md, commit 6d1baa6): "Dual
     * Intel Xeon Gold 5320", "768 GB 3200 MHz DDR4 (16 channels in total)",
     * "12x D7-P5510 3.84 TB SSD" in one RAID 0 (its make_raid.sh).  Intel ARK,
     * Xeon Gold 5320: 26 cores, 8 channels, DDR4-2933 at most, so the
     * 3200 MT/s DIMMs run at 2933. */
    {"fuyou-server", 2, 52, 0.768, 8, 2933,
     "Fuyou's artifact (Crispig/Ratel evaluation_data.md): 2x Xeon Gold 5320, 768 GB DDR4 in 16 "
     "channels; Intel ARK: 26 cores and DDR4-2933 per socket", 12, 6.5, 3.4, 3.84,
     "Fuyou's artifact (Crispig/Ratel evaluation_data.md): 12x Intel SSD D7-P5510 3.84 TB in RAID "
     "0; Intel ARK: 6.5 GB/s sequential read, 3.4 GB/s write each"},
};

/* Measured limits of the path between a built-in node's drives and host
 * memory (tier_nvme.link_bw_bytes_per_s).  Ratel (ICDE 2025; Fuyou's later
 * version) marks its testbed's links on Fig. 1 with bandwidths "obtained
 * on our evaluation server with 12 SSDs": 21 GB/s on the GPU's (BW_G, per
 * direction by Table I, taken in system.c) and 32 GB/s on the SSDs'.  Its
 * Sec. IV-D calls that link simplex ("the GPU-CPU PCIe link is duplex,
 * while the SSD is simplex"): reads and writes take turns on it, so each
 * is at most 32 GB/s and their times add, as the model adds them.  That
 * the 32 is the profiling stage's BW_S2M / BW_M2S (Sec. IV-B: measured
 * from the PCIe traffic of a run through the SSDs) is an inference; the
 * figure does not name it.  The twelve drives' datasheet sums (78 read,
 * 40.8 write) are not reached through it. */
static const struct builtin_link {
    const char *node;
    double gbs;
    const char *source;
} builtin_links[] = {
    {"fuyou-server", 32,
     "Ratel (ICDE 2025, arXiv 2403.06504's later version) Fig. 1: the SSDs' link on the "
     "testbed, 32 GB/s; Sec. IV-D: simplex, reads and writes take turns on it"},
};

static void nvme_link_of_builtin(const char *name, tier_nvme *n)
{
    n->link_bw_bytes_per_s = 0;
    n->link_source = NULL;
    for (size_t i = 0; i < sizeof builtin_links / sizeof builtin_links[0]; i++)
        if (strcmp(name, builtin_links[i].node) == 0) {
            n->link_bw_bytes_per_s = builtin_links[i].gbs * GB;
            n->link_source = builtin_links[i].source;
            return;
        }
}

int tiers_of_builtin(const char *name, sys_tiers *t)
{
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        const struct builtin *b = &builtins[i];
        if (strcmp(name, b->node) != 0)
            continue;
        t->host.sockets = b->sockets;
        t->host.cores = b->cores;
        t->host.dram_bytes = b->dram_tb * TB;
        t->host.dram_bw_per_socket_bytes_per_s = b->channels * b->mts * 1e6 * 8;
        t->host.core_stream_bw_bytes_per_s = CORE_STREAM_BW;
        t->host.source = b->host_source;
        t->nvme.drives = b->drives;
        t->nvme.read_bw_bytes_per_s = b->read_gbs * GB;
        t->nvme.write_bw_bytes_per_s = b->write_gbs * GB;
        t->nvme.capacity_bytes = b->cap_tb * TB;
        t->nvme.source = b->nvme_source;
        nvme_link_of_builtin(name, &t->nvme);
        return 0;
    }
    return -1;
}

double tiers_dram_bw(const sys_tiers *t)
{
    return t->host.sockets * t->host.dram_bw_per_socket_bytes_per_s;
}
/* The drives' sum, capped by the link where one was measured. */
static double through_link(const tier_nvme *n, double sum_bytes_per_s)
{
    return n->link_bw_bytes_per_s > 0 ? fmin(sum_bytes_per_s, n->link_bw_bytes_per_s)
                                      : sum_bytes_per_s;
}
double tiers_nvme_read_bw(const sys_tiers *t)
{
    return through_link(&t->nvme, t->nvme.drives * t->nvme.read_bw_bytes_per_s);
}
double tiers_nvme_write_bw(const sys_tiers *t)
{
    return through_link(&t->nvme, t->nvme.drives * t->nvme.write_bw_bytes_per_s);
}
double tiers_nvme_bytes(const sys_tiers *t) { return t->nvme.drives * t->nvme.capacity_bytes; }

static int positive(double v) { return isfinite(v) && v > 0; }

sys_tiers tiers_effective(const sys_tiers *t, double host_mem_bytes, double host_mem_bw)
{
    sys_tiers e = *t;
    if (t->host.sockets == 0 && t->host.cores == 0 && t->host.dram_bytes == 0)
        tiers_init_default(&e, host_mem_bytes, host_mem_bw);
    return e;
}

int tiers_validate(const sys_tiers *t, const char *node_name, cs_err *err)
{
    if (!(t->nvme.link_bw_bytes_per_s >= 0) || !isfinite(t->nvme.link_bw_bytes_per_s))
        return cs_fail(err, "node type '%s': the NVMe link's bandwidth must be >= 0 (0: none "
                            "measured)",
                       node_name);
    if (t->nvme.link_bw_bytes_per_s > 0 && t->nvme.drives == 0)
        return cs_fail(err, "node type '%s': an NVMe link needs NVMe drives behind it",
                       node_name);
    if (t->host.sockets == 0 && t->host.cores == 0 && t->host.dram_bytes == 0 &&
        t->nvme.drives == 0)
        return 0; /* not described: tiers_effective fills the default */
    if (t->host.sockets < 1 || t->host.cores < t->host.sockets)
        return cs_fail(err, "node type '%s': host tier needs >= 1 socket and >= 1 core per "
                            "socket (sockets %d, cores %d)",
                       node_name, t->host.sockets, t->host.cores);
    if (!positive(t->host.dram_bytes) || !positive(t->host.dram_bw_per_socket_bytes_per_s) ||
        !positive(t->host.core_stream_bw_bytes_per_s))
        return cs_fail(err, "node type '%s': host DRAM capacity and bandwidths must be > 0",
                       node_name);
    if (t->nvme.drives < 0 || t->nvme.drives > 64)
        return cs_fail(err, "node type '%s': %d NVMe drives; valid: 0 to 64", node_name,
                       t->nvme.drives);
    if (t->nvme.drives > 0 &&
        (!positive(t->nvme.read_bw_bytes_per_s) || !positive(t->nvme.write_bw_bytes_per_s) ||
         !positive(t->nvme.capacity_bytes)))
        return cs_fail(err, "node type '%s': NVMe drives need read and write bandwidth and "
                            "capacity > 0",
                       node_name);
    return 0;
}
