/* collsim: simulating collectives on their own, as flows on the engine.
 *
 * Owns the small drivers the collective command, the benchmarks and the
 * tests share: one collective alone on an idle network, or several started
 * together so that they contend. */
#ifndef CS_COLLSIM_H
#define CS_COLLSIM_H

#include <stdint.h>

#include "collective.h"
#include "exec.h"

/* Simulates the plans together (all start at time 0) with size_bytes each;
 * end_ps[i] receives when plan i finished.  Returns 0 or -1 with err. */
int collsim_run(topo *t, const coll_plan *const *plans, const uint64_t *size_bytes, int n,
                uint64_t *end_ps, exec_result *res, cs_err *err);

/* Picks, among the algorithms op supports, the plan with the smallest closed-
 * form time at size_bytes (first on ties).  plans[i] may have nphases 0 when
 * not built; built[i] says which are usable. */
int collsim_pick(const coll_plan *plans, const int *built, int n, uint64_t size_bytes);

#endif
