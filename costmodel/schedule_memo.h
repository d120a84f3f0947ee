/* schedule_memo: split-backward schedules' unit orders kept once built.
 *
 * Orders built from equal unit times (every schedule but zb-auto, which is
 * built from the layout's measured times) depend on the schedule, pp, vpp
 * and the number of microbatches only, yet a search builds them for every
 * layout it prices, and the closed form once for the time and once for the
 * memory: at pp 64 and 512 microbatches that repeated work was most of a 1T
 * model's search.  The memo keeps the last few orders
 * (at most MEMO_ENTRIES and MEMO_BYTES in all, the oldest dropped first),
 * behind a read-write lock, for the threads of a search; a hit copies the very orders
 * a build would give, so answers do not depend on what was kept.
 *
 * Owns its entries for the life of the process. */
#ifndef CS_SCHEDULE_MEMO_H
#define CS_SCHEDULE_MEMO_H

#include <stddef.h>

#include "schedule.h"

/* Copies the kept orders of (schedule, pp, vpp, m), n units in all, into out;
 * 0 when none are kept. */
int schedule_memo_get(layout_schedule s, int pp, int vpp, int m, schedule_unit *out, size_t n);

/* Keeps a copy of orders (n units) for (schedule, pp, vpp, m). */
void schedule_memo_put(layout_schedule s, int pp, int vpp, int m, const schedule_unit *orders, size_t n);

#endif
