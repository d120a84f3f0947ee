/* placerun: preprocessing, placement, replay and simulation in sequence. */
#include "placerun.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "report.h"

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

placesim_cfg placerun_sim_cfg(const placerun_input *in)
{
    return (placesim_cfg){in->spec.ndev, in->spec.latency_us, in->spec.bytes_per_us,
                          in->spec.channels, in->t, NULL};
}

typedef struct eval_ctx {
    const opgraph *g;
    placesim_cfg cfg;
} eval_ctx;

static int eval_sim(void *vctx, const int *op_dev, double *step_us, cs_err *err)
{
    eval_ctx *c = vctx;
    placesim_result r;
    if (placesim_run(c->g, op_dev, &c->cfg, &r, NULL, err) != 0)
        return -1;
    *step_us = r.step_us;
    return 0;
}

int placerun(const placerun_input *in, placerun_output *out, cs_err *err)
{
    memset(out, 0, sizeof *out);
    double t0 = wall_s();
    if (place_prepare(in->g, in->coplace, in->fuse, &out->prep, err) != 0)
        return -1;
    double t1 = wall_s();
    out->prep_s = t1 - t0;
    int rc;
    if (in->algo == PLACE_AUTO) {
        eval_ctx c = {in->g, placerun_sim_cfg(in)};
        c.cfg.fused_of = out->prep.fused_of;
        rc = place_auto(in->g, &out->prep, &in->spec, eval_sim, &c, in->max_evals, &out->res,
                        &out->auto_info, err);
    } else
        rc = place_run(in->g, &out->prep, &in->spec, in->algo, &out->res, err);
    out->place_s = wall_s() - t1;
    if (rc != 0)
        return -1;
    place_replay_memory(in->g, out->prep.fused_of, out->res.op_dev, in->spec.ndev,
                        out->need_bytes);
    if (place_check_memory(&in->spec, out->need_bytes, err) != 0)
        return -1;
    placesim_cfg cfg = placerun_sim_cfg(in);
    cfg.fused_of = out->prep.fused_of;
    return placesim_run(in->g, out->res.op_dev, &cfg, &out->sim, NULL, err);
}

void placerun_free(placerun_output *out)
{
    place_prep_free(&out->prep);
    place_result_free(&out->res);
}

int placerun_write_csv(const char *path, const opgraph *g, const int *op_dev, cs_err *err)
{
    const char *name;
    report_set *r = report_for_path(path, &name);
    FILE *f = report_begin(r, name, err);
    int rc = f ? 0 : -1;
    if (f) {
        fprintf(f, "id,name,device\n");
        for (int v = 0; v < g->n; v++) {
            fprintf(f, "%d,", v);
            report_csv_field(f, opg_name(g, v));
            fprintf(f, ",%d\n", op_dev[v]);
        }
        rc = report_commit(r, err);
    }
    report_free(r);
    return rc;
}
