/* tiers_cpu: the CPU optimizer's rates of the built-in hosts (see
 * tiers_cpu.h): measured where a measurement is published, derived from it
 * where the same code runs on another Intel AVX-512 part, 0 (the DRAM bound
 * alone, offload.c) elsewhere.
 *
 * The one measurement is DeepSpeed's own, on a DGX-2 (below).  Fuyou's
 * artifact (github.com/Crispig/Ratel, commit 6d1baa6) runs the same kernel:
 * main.py builds op_ds/ops/CPUAdam.py's DeepSpeedCPUAdam (DeepSpeed's
 * csrc/adam/cpu_adam_impl.cpp, Step_8 over AVX-512 under "#pragma omp
 * parallel for" with OpenMP's default thread count, every core), in its own
 * process fed by queues while the backward runs (run.sh: --is_mp 1).  That
 * kernel is not bound by DRAM on the DGX-2 (1.62e9 x 28 B = 45 GB/s of the
 * node's 256), so its rate is carried to another part as the cores' vector
 * issue rate: cores x clock x AVX-512 FMA units, each from Intel ARK.  The
 * clock that runs is not published (validate/offload.md, fifth pass), so a
 * carried rate spans the parts' base clocks (the rate used) to their
 * maximum turbo clocks. */
#include "tiers_cpu.h"

#include <string.h>

#define STR_(x) #x
#define STR(x) STR_(x) /* a number's literal, for the printed sources */

/* DeepSpeedCPUAdam measured on a DGX-2 (2x Xeon Platinum 8168): DeepSpeed's
 * ZeRO-Offload tutorial (microsoft/DeepSpeed docs/_tutorials/zero-offload.md)
 * shows its training log (docs/assets/images/zero_offload_dp1_10B_log.png,
 * 2020-09-10) for the 10B GPT-2 (50 layers, hidden 4096: 10.28e9 parameters
 * with the 50304-row padded vocabulary and 1024 positions) on one V100:
 * optimizer_step 6478.57 and 6217.36 ms in iterations 8 and 9, 6.348 s on
 * average: 1.619e9 parameters/s for the node (one process; the log does not
 * give its thread count).  A component timer, not the iteration: the DRAM
 * bound (255.9 GB/s over 28 B) would be 9.1e9. */
#define LOG_PARAMS 10.28e9
#define LOG_ADAM_S 6.348
/* The same log's optimizer_gradients timer, 1113.12 and 1160.46 ms (1.1368 s
 * on average): in stage2.py of the time (DeepSpeed v0.3, 7baf3c3) the
 * gradient norm from the per-parameter norms, then unscale_and_clip_grads'
 * grad.mul_ over the 10.28e9 fp32 gradients in host DRAM, on the CPU.
 * 9.04e9 parameters/s for the node; the DRAM bound (255.9 GB/s over 8 B)
 * would be 32e9: the pass ran at about a quarter of it. */
#define LOG_GRAD_PASS_S 1.1368
#define LOG_SRC "DeepSpeed ZeRO-Offload tutorial log (10B GPT-2, one V100 of a DGX-2, 2020-09-10)"
#define LOG_ADAM "optimizer_step " STR(LOG_ADAM_S) " s for " STR(LOG_PARAMS) " parameters"
#define LOG_PASS "optimizer_gradients " STR(LOG_GRAD_PASS_S) " s for " STR(LOG_PARAMS) " parameters"

/* The parts, Intel ARK's figures each (name, sockets per node, cores per
 * socket, base and maximum turbo clock in GHz, AVX-512 FMA units per core),
 * written once: F is PART_FIELDS (the numbers) or PART_DESC (their text). */
#define PLATINUM_8168(F) F("Xeon Platinum 8168", 2, 24, 2.70, 3.70, 2)
#define GOLD_5320(F) F("Xeon Gold 5320", 2, 26, 2.20, 3.40, 2)
#define PART_FIELDS(name, sockets, cores, base, turbo, fma) sockets, cores, base, turbo, fma
#define PART_DESC(name, sockets, cores, base, turbo, fma) \
    #sockets "x " name " (" #cores " cores, " #base " GHz base, " #turbo " GHz max turbo, " #fma \
             " AVX-512 FMA units; Intel ARK)"

typedef struct cpu_part {
    const char *node;
    int sockets, cores_per_socket;
    double base_ghz, turbo_ghz; /* Intel ARK: processor base, max turbo frequency */
    int fma_units;              /* Intel ARK: # of AVX-512 FMA units per core */
    const char *adam_source, *pass_source; /* what is printed */
} cpu_part;

static const cpu_part dgx2_part = {"dgx2-v100", PLATINUM_8168(PART_FIELDS), LOG_SRC ": " LOG_ADAM,
                                   LOG_SRC ": " LOG_PASS};

#define CARRIED(part) \
    " x cores x clock x AVX-512 FMA units of " part " over " PLATINUM_8168(PART_DESC) \
    "; the base clocks give the rate, the turbo clocks the range's high end"
/* Hosts whose CPU optimizer is carried from the DGX-2's measurement.  The
 * gradient pass (grad.mul_, a streaming op) is carried the same way but
 * labelled assumed: the FMA units need not bind it, and the DRAM bound is
 * not taken instead because the DGX-2's own pass ran far below its bound. */
static const cpu_part derived_parts[] = {
    {"fuyou-server", GOLD_5320(PART_FIELDS),
     "derived: the DGX-2's measured CPUAdam (" LOG_ADAM ")" CARRIED(GOLD_5320(PART_DESC)),
     "assumed: the DGX-2's measured gradient pass (" LOG_PASS "), a streaming op, carried as "
     "CPUAdam" CARRIED(GOLD_5320(PART_DESC))},
};

/* The part's AVX-512 issue rate at clock_ghz, in FMA-unit GHz per node. */
static double issue_rate(const cpu_part *c, double clock_ghz)
{
    return c->sockets * c->cores_per_socket * clock_ghz * c->fma_units;
}

static const cpu_part *derived_part(const char *node_name)
{
    for (size_t i = 0; i < sizeof derived_parts / sizeof derived_parts[0]; i++)
        if (strcmp(node_name, derived_parts[i].node) == 0)
            return &derived_parts[i];
    return NULL;
}

/* A measured rate carried to part c: rate, range at base and turbo clocks. */
static void carry(const cpu_part *c, double measured, double *rate, double range[2])
{
    double at_base = measured * issue_rate(c, c->base_ghz) / issue_rate(&dgx2_part, dgx2_part.base_ghz);
    double at_turbo =
        measured * issue_rate(c, c->turbo_ghz) / issue_rate(&dgx2_part, dgx2_part.turbo_ghz);
    *rate = at_base;
    range[0] = at_base < at_turbo ? at_base : at_turbo;
    range[1] = at_base < at_turbo ? at_turbo : at_base;
}

void tiers_cpu_rates(const char *node_name, tier_host *h)
{
    memset(h->cpu_adam_range_params_per_s, 0, sizeof h->cpu_adam_range_params_per_s);
    memset(h->cpu_grad_pass_range_params_per_s, 0, sizeof h->cpu_grad_pass_range_params_per_s);
    h->cpu_adam_params_per_s = h->cpu_grad_pass_params_per_s = 0;
    h->cpu_adam_source = h->cpu_grad_pass_source = NULL;
    h->cpu_adam_kind = h->cpu_grad_pass_kind = TIER_RATE_NONE;
    if (strcmp(node_name, dgx2_part.node) == 0) { /* the one host with a measurement */
        h->cpu_adam_params_per_s = LOG_PARAMS / LOG_ADAM_S;
        h->cpu_adam_source = dgx2_part.adam_source;
        h->cpu_grad_pass_params_per_s = LOG_PARAMS / LOG_GRAD_PASS_S;
        h->cpu_grad_pass_source = dgx2_part.pass_source;
        h->cpu_adam_kind = h->cpu_grad_pass_kind = TIER_RATE_MEASURED;
        return;
    }
    const cpu_part *c = derived_part(node_name);
    if (!c)
        return;
    carry(c, LOG_PARAMS / LOG_ADAM_S, &h->cpu_adam_params_per_s, h->cpu_adam_range_params_per_s);
    h->cpu_adam_source = c->adam_source;
    h->cpu_adam_kind = TIER_RATE_DERIVED;
    /* the gradient pass is DeepSpeed's (its engines' unscale_and_clip_grads
     * on the CPU; Fuyou's step has none, offload_time.c) */
    carry(c, LOG_PARAMS / LOG_GRAD_PASS_S, &h->cpu_grad_pass_params_per_s,
          h->cpu_grad_pass_range_params_per_s);
    h->cpu_grad_pass_source = c->pass_source;
    h->cpu_grad_pass_kind = TIER_RATE_ASSUMED;
}
