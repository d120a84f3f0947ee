/* collsim: one task per collective, no dependencies, all at time 0. */
#include "collsim.h"

#include <math.h>

int collsim_run(topo *t, const coll_plan *const *plans, const uint64_t *size_bytes, int n,
                uint64_t *end_ps, exec_result *res, cs_err *err)
{
    exec_graph *g = exec_new();
    for (int i = 0; i < n; i++)
        exec_collective(g, -1, plans[i], size_bytes[i], coll_op_name(plans[i]->op));
    int rc = exec_run(g, t, res, err);
    for (int i = 0; rc == 0 && i < n; i++)
        end_ps[i] = exec_task_end_ps(g, i);
    exec_free(g);
    return rc;
}

int collsim_pick(const coll_plan *plans, const int *built, int n, uint64_t size_bytes)
{
    int best = -1;
    double best_s = INFINITY;
    for (int i = 0; i < n; i++) {
        if (!built[i])
            continue;
        double s = coll_time_s(&plans[i], size_bytes);
        if (best < 0 || s < best_s) {
            best = i;
            best_s = s;
        }
    }
    return best;
}
