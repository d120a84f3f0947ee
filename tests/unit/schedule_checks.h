/* Helpers the schedule tests share (test_schedule_memo.c,
 * test_schedule_scratch.c). */
#ifndef CS_TEST_SCHEDULE_CHECKS_H
#define CS_TEST_SCHEDULE_CHECKS_H

#include <stddef.h>

#include "schedule.h"

/* 1 when the n units of a and b are the same, field for field. */
static inline int same_units(const schedule_unit *a, const schedule_unit *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].backward != b[i].backward || a[i].microbatch != b[i].microbatch ||
            a[i].chunk != b[i].chunk || a[i].overlap != b[i].overlap)
            return 0;
    return 1;
}

#endif
