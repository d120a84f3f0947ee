/* schedule_memo: split-backward schedules' unit orders kept once built.
 *
 * Orders built from equal unit times (every schedule but zb-auto, which is
 * built from the layout's measured times) depend on the schedule, pp, vpp
 * and the number of microbatches only, yet a search builds them for every
 * layout it prices, and the closed form once for the time and once for the
 * memory: at pp 64 and 512 microbatches that repeated work was most of a 1T
 * model's search.  The memo keeps the last few orders, packed 4 bytes a unit
 * (at most SCHEDULE_MEMO_ENTRIES and MEMO_BYTES in all, the oldest dropped first),
 * behind a read-write lock, for the threads of a search; a hit copies the very orders
 * a build would give, so answers do not depend on what was kept.
 *
 * Owns its entries for the life of the process. */
#ifndef CS_SCHEDULE_MEMO_H
#define CS_SCHEDULE_MEMO_H

#include <stddef.h>
#include <stdint.h>

#include "schedule.h"

/* Orders the memo keeps at most (schedule_memo.c says why so many). */
enum { SCHEDULE_MEMO_ENTRIES = 1024 };

/* Copies the kept orders of (schedule, pp, vpp, m), n units in all, into out;
 * 0 when none are kept. */
int schedule_memo_get(layout_schedule s, int pp, int vpp, int m, schedule_unit *out, size_t n);

/* Keeps a copy of orders (n units) for (schedule, pp, vpp, m). */
void schedule_memo_put(layout_schedule s, int pp, int vpp, int m, const schedule_unit *orders, size_t n);

/* Every rank's equal-time orders of l, what schedule_orders(l, NULL, out)
 * fills, in this thread's scratch (cs_scratch.h): built or copied from the
 * memo only when (schedule, pp, vpp, microbatches) differ from the thread's
 * previous call, since the layouts a search prices in turn mostly share
 * them (schedule_view.c).  Read-only, valid until the thread's next call. */
const schedule_unit *schedule_orders_view(const layout_desc *l);

/* The orders schedule_orders(l, c, out) fills from measured times (zb-auto),
 * in this thread's scratch: rebuilt only when the key or any of c's f_s,
 * b_s, w_s, p2p_s differ from the thread's previous call.  Read-only, valid
 * until the thread's next call. */
const schedule_unit *schedule_orders_timed_view(const layout_desc *l, const schedule_costs *c);

/* A unit in 4 bytes as the memo keeps it: 0, or -1 when a field is outside
 * what the split-backward schedules use (chunk or overlap above 1, a kind
 * other than F, B, W, a microbatch at or over 2^28); unpack gives it back. */
int schedule_memo_pack(const schedule_unit *u, uint32_t *out);
schedule_unit schedule_memo_unpack(uint32_t packed);

#endif
