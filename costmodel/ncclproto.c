/* ncclproto: NCCL's tuner latencies and protocol efficiencies (see ncclproto.h).
 *
 * Every constant below is NVIDIA/nccl src/graph/tuning.cc at commit 5067397c
 * (ncclTunerConstantsDefaults, ncclTopoTuneModel, ncclTopoGetAlgoTime),
 * in the units of that file: microseconds. */
#include "ncclproto.h"

#include <math.h>

/* baseLatencies[Tree|Ring][LL, LL128, Simple]: the fixed cost of one call. */
static const double base_us[2][NCCLPROTO_COUNT] = {
    [NCCLPROTO_TREE] = {6.8, 14.0, 8.4},
    [NCCLPROTO_RING] = {6.6, 14.0, 8.4},
};

/* hwLatencies per step, by the link a step crosses: NVLink, PCIe, network. */
enum { HW_NVLINK, HW_PCI, HW_NET };
static const double hw_us[3][2][NCCLPROTO_COUNT] = {
    [HW_NVLINK] = {[NCCLPROTO_TREE] = {0.6, 1.25, 4.0}, [NCCLPROTO_RING] = {0.6, 1.9, 3.4}},
    [HW_PCI] = {[NCCLPROTO_TREE] = {1.0, 1.9, 4.0}, [NCCLPROTO_RING] = {1.0, 2.5, 5.7}},
    [HW_NET] = {[NCCLPROTO_TREE] = {5.0, 8.5, 14.0}, [NCCLPROTO_RING] = {2.7, 4.0, 14.0}},
};

/* getNetOverhead: the CPU proxy's cost to post a network step (Intel 1 us,
 * AMD 2 us), x3 for Simple; it bounds an inter-node ring's intra-node steps
 * from below. */
#define NET_OVERHEAD_INTEL_US 1.0
#define NET_OVERHEAD_AMD_US 2.0
#define NET_OVERHEAD_SIMPLE_FACTOR 3.0

/* ncclTopoGetAlgoTime: "plateau effect of ring" on multi-node Simple
 * all-reduces once each channel's share per rank reaches 64 bytes. */
#define RING_PLATEAU_MIN_BYTES 64.0
#define RING_PLATEAU_AMPERE 1.4
#define RING_PLATEAU_VOLTA 1.9

/* treeCorrectionFactor[protocol][log2(bytes / 64)], 64 B to 256 MB: NCCL's
 * static correction of the tree's bandwidth at medium sizes. */
static const double tree_correction[NCCLPROTO_COUNT][24] = {
    {1.0, 1.0, 1.0, 1.0, .9, .8, .7, .7, .7, .7, .6, .5, .4, .4, .5, .6, .7, .8, .9, 1.0, 1.0, 1.0,
     1.0, 1.0},
    {1.0, 1.0, 1.0, 1.0, 1.0, .9, .8, .8, .8, .7, .6, .6, .6, .6, .6, .6, .8, .9, .9, .9, .9, 1.0,
     1.0, 1.0},
    {.9, .9, .9, .9, .9, .9, .9, .8, .7, .6, .6, .5, .5, .5, .5, .6, .7, .8, .7, .7, .8, .9, .9,
     .9},
};

static int log2_floor(double x)
{
    int l = 0;
    while (x >= 2.0) {
        x /= 2.0;
        l++;
    }
    return l;
}

static double ring_latency_us(const ncclproto_shape *s, ncclproto_proto p, double size_bytes,
                              int channels)
{
    int allreduce = s->op == NCCLPROTO_ALLREDUCE;
    int nsteps = allreduce ? 2 * (s->nranks - 1) : s->nranks - 1;
    int ninter = s->nnodes == 1 ? 0 : allreduce ? 2 * (s->nnodes - 1) : s->nnodes - 1;
    double intra = hw_us[s->intra_nvlink ? HW_NVLINK : HW_PCI][NCCLPROTO_RING][p];
    /* one GPU per node: every step is exposed, NCCL takes the tree's network latency */
    int ppn_one = s->nranks == s->nnodes;
    double inter = hw_us[HW_NET][ppn_one ? NCCLPROTO_TREE : NCCLPROTO_RING][p];
    if (s->nnodes > 1) {
        double overhead = (s->cpu_amd ? NET_OVERHEAD_AMD_US : NET_OVERHEAD_INTEL_US) *
                          (p == NCCLPROTO_SIMPLE ? NET_OVERHEAD_SIMPLE_FACTOR : 1);
        intra = fmax(intra, overhead);
    }
    double lat = base_us[NCCLPROTO_RING][p] + (nsteps - ninter) * intra + ninter * inter;
    if (p == NCCLPROTO_SIMPLE && s->nnodes > 1 && allreduce &&
        size_bytes / ((double)channels * s->nranks) >= RING_PLATEAU_MIN_BYTES)
        lat *= s->arch == NCCLPROTO_VOLTA ? RING_PLATEAU_VOLTA : RING_PLATEAU_AMPERE;
    return lat;
}

static double tree_latency_us(const ncclproto_shape *s, ncclproto_proto p)
{
    double intra = hw_us[s->intra_nvlink ? HW_NVLINK : HW_PCI][NCCLPROTO_TREE][p];
    double inter = hw_us[HW_NET][NCCLPROTO_TREE][p];
    int ppn = s->nranks / (s->nnodes > 0 ? s->nnodes : 1);
    return base_us[NCCLPROTO_TREE][p] +
           2 * ((ppn - 1) * intra + log2_floor((double)s->nnodes) * inter);
}

/* hwLatencies[NVLINK][NVLS][Simple]; NVLS's base latency is 0 and it runs
 * Simple only (ncclTopoTuneModel skips LL and LL128 for it). */
#define NVLS_LATENCY_US 25.0

double ncclproto_latency_us(const ncclproto_shape *s, ncclproto_proto p, double size_bytes,
                            int channels)
{
    if (s->nranks <= 1)
        return 0;
    if (s->algo == NCCLPROTO_NVLS)
        return p == NCCLPROTO_SIMPLE ? NVLS_LATENCY_US : INFINITY;
    if (channels < 1)
        channels = 1;
    return s->algo == NCCLPROTO_TREE ? tree_latency_us(s, p)
                                     : ring_latency_us(s, p, size_bytes, channels);
}

/* The tree's medium-size correction for protocol p at size_bytes (1 outside
 * the table's 64 B to 256 MB, as ncclTopoGetAlgoTime applies it). */
static double tree_size_correction(ncclproto_proto p, double size_bytes)
{
    if (size_bytes < 64)
        return 1.0;
    int l = log2_floor(size_bytes / 64);
    return l < 23 ? tree_correction[p][l] : 1.0;
}

double ncclproto_bw_fraction(const ncclproto_shape *s, ncclproto_proto p, double size_bytes)
{
    if (s->algo == NCCLPROTO_RING)
        return p == NCCLPROTO_LL ? 0.5 : p == NCCLPROTO_LL128 ? 0.92 : 1.0;
    if (s->algo == NCCLPROTO_NVLS) /* a measured figure, not tuning.cc's */
        return p == NCCLPROTO_SIMPLE && s->nvls_share > 0 ? s->nvls_share : 1e-9;
    double tree = 0.92 * tree_size_correction(p, size_bytes); /* every tree all-reduce */
    if (p == NCCLPROTO_LL)
        return tree / 3.8;
    if (p == NCCLPROTO_LL128)
        return tree * (s->nnodes == 1 ? 7.0 / 9.0 : 120.0 / 128.0);
    return tree;
}

/* llMaxBws[index1][index2] in GB/s: index1 the GPU generation in one node
 * (Volta, Ampere, Hopper), or across nodes the host CPU (Intel 0, AMD 1);
 * index2 the node count (1, 2, more). */
static const double ll_max_gbs[3][3] = {
    {39.0, 39.0, 20.4},
    {87.7, 22.5, 19.0},
    {141.0, 45.0, 35.0},
};

double ncclproto_cap_s(const ncclproto_shape *s, ncclproto_proto p, double size_bytes)
{
    if (p != NCCLPROTO_LL || s->nranks <= 1)
        return 0;
    int index1 = s->nnodes == 1 ? s->arch : s->cpu_amd ? 1 : 0;
    int index2 = s->nnodes <= 2 ? s->nnodes - 1 : 2;
    int nsteps = s->op == NCCLPROTO_ALLREDUCE ? 2 * (s->nranks - 1) : s->nranks - 1;
    double ratio = s->algo == NCCLPROTO_RING ? (double)s->nranks / nsteps : 0.5;
    return size_bytes / (ll_max_gbs[index1][index2] * 1e9 * ratio);
}

const char *ncclproto_name(ncclproto_proto p)
{
    static const char *names[] = {"LL", "LL128", "Simple"};
    return names[p];
}
