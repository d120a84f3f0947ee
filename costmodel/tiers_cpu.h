/* tiers_cpu: the CPU optimizer's rates of the built-in hosts (issue 17):
 * DeepSpeed's measured CPUAdam and gradient pass on the DGX-2, carried to
 * another Intel AVX-512 part by cores x clock x FMA units (Intel ARK).
 *
 * Owns the parts' ARK figures, the one measurement and the carrying rule;
 * fills the rate fields of tier_host (tiers.h), with each rate's kind and,
 * for a carried rate, its range between the parts' base and maximum turbo
 * clocks (ARK publishes no all-core AVX-512 clock, so neither end is known
 * to be the one that runs). */
#ifndef CS_TIERS_CPU_H
#define CS_TIERS_CPU_H

#include "tiers.h"

/* Fills h's CPU rates, kinds, ranges and sources for the built-in node type
 * node_name: measured on the DGX-2, derived on the hosts of another part,
 * 0 (the DRAM bound alone, offload.c) elsewhere. */
void tiers_cpu_rates(const char *node_name, tier_host *h);

#endif
