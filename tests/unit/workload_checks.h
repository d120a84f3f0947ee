/* Helpers shared by the unit tests of the framework profiles
 * (test_framework.c, test_framework_dtype.c). */
#ifndef CS_TEST_WORKLOAD_CHECKS_H
#define CS_TEST_WORKLOAD_CHECKS_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "devkernel.h"
#include "tap.h"
#include "workload.h"

/* |a - b| within abs_tol, for differences that may be exactly zero. */
static inline void check_near(double a, double b, double abs_tol, const char *what)
{
    if (!(fabs(a - b) <= abs_tol)) {
        printf("# %s: %.9g, expected %.9g within %g\n", what, a, b, abs_tol);
        tap_case_failed = 1;
    }
}

/* The op named `name` of a layer's operators. */
static inline const workload_op *op_named(const workload_op *ops, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(ops[i].name, name) == 0)
            return &ops[i];
    CHECK(0 && "op not found");
    return &ops[0];
}

/* The device's memory-bound rate, bytes per second: its datasheet bandwidth
 * at its devkernel efficiency (the bytes, not this figure, are what the
 * tests pin). */
static inline double hbm_rate(const dev_type *dev)
{
    return dev->hbm_bw_bytes_per_s * dev_kernel_of(dev)->hbm_eff;
}

#endif
