/* tiers_cpu: the CPU optimizer's rates of the built-in hosts (see tiers.h):
 * measured where a measurement is published, derived from it where the
 * same code runs on another Intel AVX-512 part, 0 (the DRAM bound alone,
 * offload.c) elsewhere.
 *
 * The one measurement is DeepSpeed's own, on a DGX-2 (below).  Fuyou's
 * artifact (github.com/Crispig/Ratel, commit 6d1baa6) runs the same kernel:
 * main.py builds op_ds/ops/CPUAdam.py's DeepSpeedCPUAdam (DeepSpeed's
 * csrc/adam/cpu_adam_impl.cpp, Step_8 over AVX-512 under "#pragma omp
 * parallel for" with OpenMP's default thread count, every core), in its own
 * process fed by queues while the backward runs (run.sh: --is_mp 1).  That
 * kernel is not bound by DRAM on the DGX-2 (1.62e9 x 28 B = 45 GB/s of the
 * node's 256), so its rate is carried to another part as the cores' vector
 * issue rate: cores x clock x AVX-512 FMA units, each from Intel ARK. */
#include "tiers.h"

#include <string.h>

/* DeepSpeedCPUAdam measured on a DGX-2 (2x Xeon Platinum 8168): DeepSpeed's
 * ZeRO-Offload tutorial (microsoft/DeepSpeed docs/_tutorials/zero-offload.md)
 * shows its training log (docs/assets/images/zero_offload_dp1_10B_log.png,
 * 2020-09-10) for the 10B GPT-2 (50 layers, hidden 4096: 10.28e9 parameters
 * with the 50304-row padded vocabulary and 1024 positions) on one V100:
 * optimizer_step 6478.57 and 6217.36 ms in iterations 8 and 9, 6.348 s on
 * average: 10.28e9 / 6.348 = 1.619e9 parameters/s for the node (one
 * process; the log does not give its thread count).  A component timer,
 * not the iteration: the DRAM bound (255.9 GB/s over 28 B) would be 9.1e9. */
#define DGX2_CPU_ADAM (10.28e9 / 6.348)
#define DGX2_CPU_ADAM_SRC "DeepSpeed ZeRO-Offload tutorial log (10B GPT-2, one V100 of a DGX-2, " \
                          "2020-09-10): optimizer_step 6.35 s for 10.28e9 parameters"

/* The same log's optimizer_gradients timer, 1113.12 and 1160.46 ms (1.137 s
 * on average): in stage2.py of the time (DeepSpeed v0.3, 7baf3c3) the
 * gradient norm from the per-parameter norms, then unscale_and_clip_grads'
 * grad.mul_ over the 10.28e9 fp32 gradients in host DRAM, on the CPU.
 * 9.04e9 parameters/s for the node; the DRAM bound (255.9 GB/s over 8 B)
 * would be 32e9. */
#define DGX2_CPU_GRAD_PASS (10.28e9 / 1.1368)
#define DGX2_CPU_GRAD_PASS_SRC "DeepSpeed ZeRO-Offload tutorial log (10B GPT-2, one V100 of a " \
                               "DGX-2, 2020-09-10): optimizer_gradients 1.14 s for 10.28e9 " \
                               "parameters"

/* A host's CPU part as Intel ARK publishes it.  The clock is ARK's base
 * frequency, the one it guarantees with every core busy: ARK gives no
 * all-core AVX-512 clock, and Intel's specification updates that tabulate
 * one were not found (validate/offload.md, fifth pass; with the parts'
 * maximum turbo clocks instead, 3.7 and 3.4 GHz, the ratio below is 0.996
 * instead of 0.883). */
typedef struct cpu_part {
    const char *node;
    int cores;       /* per node, both sockets */
    double base_ghz; /* Intel ARK: processor base frequency */
    int fma_units;   /* Intel ARK: # of AVX-512 FMA units per core */
    const char *adam_source, *pass_source; /* derived parts: what is printed */
} cpu_part;

/* Intel ARK, Xeon Platinum 8168: 24 cores, 2.70 GHz base, 2 AVX-512 FMA units */
static const cpu_part dgx2_part = {"dgx2-v100", 48, 2.70, 2, DGX2_CPU_ADAM_SRC,
                                   DGX2_CPU_GRAD_PASS_SRC};

#define DERIVED_FROM(what, rate) \
    "derived: the DGX-2's measured " what " (DeepSpeed's tutorial log, " rate " params/s) x " \
    "cores x base clock x AVX-512 FMA units, "
/* Hosts whose CPU optimizer is carried from the DGX-2's measurement. */
static const cpu_part derived_parts[] = {
    /* Intel ARK, Xeon Gold 5320: 26 cores, 2.20 GHz base, 2 AVX-512 FMA units */
    {"fuyou-server", 52, 2.20, 2,
     DERIVED_FROM("CPUAdam", "1.62e9") "2x Xeon Gold 5320 (26 cores, 2.20 GHz, 2 FMA; Intel ARK) "
                                       "over 2x Platinum 8168 (24, 2.70, 2)",
     DERIVED_FROM("gradient pass", "9.04e9") "2x Xeon Gold 5320 over 2x Platinum 8168 (Intel "
                                             "ARK), as CPUAdam"},
};

static double issue_rate(const cpu_part *c) { return c->cores * c->base_ghz * c->fma_units; }

static const cpu_part *derived_part(const char *node_name)
{
    for (size_t i = 0; i < sizeof derived_parts / sizeof derived_parts[0]; i++)
        if (strcmp(node_name, derived_parts[i].node) == 0)
            return &derived_parts[i];
    return NULL;
}

double tiers_cpu_scale(const char *node_name)
{
    const cpu_part *c = derived_part(node_name);
    return c ? issue_rate(c) / issue_rate(&dgx2_part) : 0;
}

void tiers_cpu_rates(const char *node_name, tier_host *h)
{
    h->cpu_adam_params_per_s = 0;
    h->cpu_adam_source = NULL;
    h->cpu_grad_pass_params_per_s = 0;
    h->cpu_grad_pass_source = NULL;
    if (strcmp(node_name, dgx2_part.node) == 0) { /* the one host with a measurement */
        h->cpu_adam_params_per_s = DGX2_CPU_ADAM;
        h->cpu_adam_source = dgx2_part.adam_source;
        h->cpu_grad_pass_params_per_s = DGX2_CPU_GRAD_PASS;
        h->cpu_grad_pass_source = dgx2_part.pass_source;
        return;
    }
    const cpu_part *c = derived_part(node_name);
    if (!c)
        return;
    double scale = issue_rate(c) / issue_rate(&dgx2_part);
    h->cpu_adam_params_per_s = DGX2_CPU_ADAM * scale;
    h->cpu_adam_source = c->adam_source;
    /* the gradient pass is DeepSpeed's (its engines' unscale_and_clip_grads
     * on the CPU; Fuyou's step has none, offload_time.c): carried the same way */
    h->cpu_grad_pass_params_per_s = DGX2_CPU_GRAD_PASS * scale;
    h->cpu_grad_pass_source = c->pass_source;
}
