/* offload_print: the memory tiers' verdict and the offload's traffic and
 * utilisation, printed under an estimate's table (issue 17). */
#ifndef CS_OFFLOAD_PRINT_H
#define CS_OFFLOAD_PRINT_H

#include <stdio.h>

#include "estimate.h"

/* Nothing when the layout offloads nothing. */
void offload_print_table(FILE *f, const layout_desc *l, const offload_report *r);

#endif
