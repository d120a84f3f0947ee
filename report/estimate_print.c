/* estimate_print: table and CSV forms of an estimate (see estimate_print.h). */
#include "estimate_print.h"

#include "layout_ep.h"

#include "memory.h"
#include "offload_print.h"

#define GIB (1024.0 * 1024 * 1024)

void estimate_print_csv_header(FILE *f)
{
    fprintf(f, "model,system,gpus,tp,pp,dp,vpp,mbs,gbs,seq,schedule,recompute,sp,zero,dtype,"
               "mode,iteration_s,tokens_per_s,model_tflops_per_gpu,hw_tflops_per_gpu,mfu,hfu,"
               "peak_mem_gib,peak_stage,fits\n");
}

void estimate_print_csv_row(FILE *f, const estimate_input *in, const estimate_label *lab,
                            const estimate_result *r)
{
    const layout_desc *l = in->layout;
    fprintf(f, "%s,%s,%ld,%d,%d,%d,%d,%d,%d,%d,%s,%s,%d,%d,%s,%s,%.6f,%.1f,%.2f,%.2f,%.4f,%.4f,"
               "%.3f,%d,%s\n",
            in->model->name, lab->system, lab->gpus, l->tp, l->pp, l->dp, l->vpp, l->mbs, l->gbs,
            in->model->seq_len, layout_schedule_name(l->schedule),
            layout_recompute_name(l->recompute), l->sp, l->zero, model_dtype_name(l->dtype),
            lab->mode, r->iteration_s, r->tokens_per_s, r->model_tflops_per_gpu,
            r->hw_tflops_per_gpu, r->mfu, r->hfu, r->peak_mem_bytes / GIB, r->peak_stage,
            r->fits ? "true" : "false");
}

/* Context parallelism's exchanges, on the stage that exposes the most:
 * nothing when cp is 1 (the table is then as before). */
static void estimate_print_cp(FILE *f, const estimate_input *in, const estimate_result *r)
{
    const layout_desc *l = in->layout;
    if (layout_cp_of(l) == 1)
        return;
    int worst = 0;
    for (int s = 1; s < r->pp; s++)
        if (r->stages[s].cp_exposed_s > r->stages[worst].cp_exposed_s)
            worst = s;
    fprintf(f, "context parallel   cp%d %s: %.4f s exposed, %.4f s hidden under attention "
               "(stage %d, per iteration)\n",
            l->cp, layout_cp_comm_name(l->cp_comm), r->stages[worst].cp_exposed_s,
            r->stages[worst].cp_hidden_s, worst);
}

static void print_stage(FILE *f, int s, const estimate_stage *st)
{
    fprintf(f, "%5d %10.4f %10.4f %10.4f %10.4f %10.4f %10.4f %10.4f %10.2f\n", s, st->compute_s,
            st->recompute_s, st->tp_comm_s, st->dp_exposed_s, st->p2p_s, st->bubble_s,
            st->optimizer_s, st->peak_mem_bytes / GIB);
}

/* ZeRO-2/3 and HSDP: the sharded data-parallel traffic of the stage with
 * the most exposed, what the compute hid and what it did not (it is in
 * dp_exp_s). */
static void print_sharding(FILE *f, const layout_desc *l, const estimate_result *r)
{
    if (l->zero < 2 || layout_dp_cp(l) < 2)
        return;
    int worst = 0;
    for (int s = 1; s < r->pp; s++)
        if (r->stages[s].shard_exposed_s > r->stages[worst].shard_exposed_s)
            worst = s;
    const estimate_stage *st = &r->stages[worst];
    fprintf(f, "\nsharded dp traffic (zero %d%s), stage %d: %.4f s exposed (in dp_exp_s), "
               "%.4f s hidden under compute\n",
            l->zero, l->shard_group ? ", HSDP" : "", worst, st->shard_exposed_s,
            st->shard_hidden_s);
}

/* Expert parallelism: the exposed all-to-all time of the stage that waits
 * most (inside the stage's busy time, beside compute), and the slowest
 * expert rank's load (layout_ep.h); nothing for a layout without ep. */
static void print_ep_line(FILE *f, const estimate_input *in, const estimate_result *r)
{
    if (layout_ep_of(in->layout) < 2)
        return;
    int worst = 0;
    for (int s = 1; s < r->pp; s++)
        if (r->stages[s].ep_comm_s > r->stages[worst].ep_comm_s)
            worst = s;
    fprintf(f, "ep all-to-all      %.4f s exposed on stage %d (dispatch and combine, %s%s); "
               "slowest expert rank x%.3f of the even load\n",
            r->stages[worst].ep_comm_s, worst, in->layout->ep_a2a_hier ? "hierarchical" : "flat",
            in->layout->ep_overlap ? ", overlapped" : "",
            layout_ep_imbalance(in->model, in->layout));
}

void estimate_print_table(FILE *f, const estimate_input *in, const estimate_label *lab,
                          const estimate_result *r, int max_stages)
{
    char desc[160];
    const layout_desc *l = in->layout;
    double usable = memory_usable_bytes(estimate_device(in->topology));
    fprintf(f, "model              %s (seq %d)\n", in->model->name, in->model->seq_len);
    fprintf(f, "system             %s, %ld GPUs\n", lab->system, lab->gpus);
    fprintf(f, "layout             %s\n", layout_describe(l, desc, sizeof desc));
    fprintf(f, "mode               %s\n", lab->mode);
    fprintf(f, "iteration          %.4f s\n", r->iteration_s);
    fprintf(f, "tokens/s           %.0f\n", r->tokens_per_s);
    fprintf(f, "model TFLOP/s/GPU  %.1f   (MFU %.1f%%)\n", r->model_tflops_per_gpu, 100 * r->mfu);
    fprintf(f, "hw TFLOP/s/GPU     %.1f   (HFU %.1f%%)\n", r->hw_tflops_per_gpu, 100 * r->hfu);
    fprintf(f, "peak memory        %.2f GiB on stage %d of %.2f GiB usable: %s\n",
            r->peak_mem_bytes / GIB, r->peak_stage, usable / GIB,
            r->fits ? "fits" : "DOES NOT FIT");
    offload_print_table(f, l, &r->offload);
    estimate_print_cp(f, in, r);
    print_ep_line(f, in, r);
    fprintf(f, "\nper stage, seconds per iteration on one GPU:\n");
    fprintf(f, "%5s %10s %10s %10s %10s %10s %10s %10s %10s\n", "stage", "compute_s",
            "recomp_s", "tp_comm_s", "dp_exp_s", "p2p_s", "bubble_s", "optim_s", "mem_GiB");
    int elided = 0;
    for (int s = 0; s < r->pp; s++) {
        int shown = r->pp <= max_stages || s == 0 || s == r->pp - 1 || s == r->peak_stage;
        if (shown)
            print_stage(f, s, &r->stages[s]);
        else if (!elided++)
            fprintf(f, "  ... (%d stages; --stages all shows every one)\n", r->pp);
    }
    print_sharding(f, l, r);
}
