/* offload_print: see offload_print.h. */
#include "offload_print.h"

#define GIB (1024.0 * 1024 * 1024)

static void tier_line(FILE *f, const char *name, double bytes, double cap, int fits)
{
    fprintf(f, "  %-18s %10.2f GiB of %10.2f GiB  %5.1f%%  %s\n", name, bytes / GIB, cap / GIB,
            cap > 0 ? 100 * bytes / cap : 0.0, fits ? "fits" : "DOES NOT FIT");
}

void offload_print_table(FILE *f, const layout_desc *l, const offload_report *r)
{
    if (!r->active)
        return;
    fprintf(f, "\noffload            %s to %s (%s%s)\n", offload_what_name(l->offload),
            offload_to_name(l->offload_to), offload_engine_name(l->offload_engine),
            l->offload_dpu ? ", delayed parameter update" : "");
    tier_line(f, "hbm (one GPU)", r->gpu_bytes, r->gpu_capacity_bytes, r->fits_hbm);
    tier_line(f, "host dram (node)", r->dram_bytes, r->dram_capacity_bytes, r->fits_dram);
    if (r->nvme_capacity_bytes > 0 || r->nvme_bytes > 0)
        tier_line(f, "nvme (node)", r->nvme_bytes, r->nvme_capacity_bytes, r->fits_nvme);
    fprintf(f, "  traffic per GPU    h2d %.2f GB, d2h %.2f GB, nvme read %.2f GB, write %.2f GB\n",
            r->h2d_bytes / 1e9, r->d2h_bytes / 1e9, r->nvme_read_bytes / 1e9,
            r->nvme_write_bytes / 1e9);
    fprintf(f, "  cpu step           %.4f s (gradient pass, adam); offload adds %.4f s to the "
               "iteration\n",
            r->cpu_step_s, r->exposed_s);
    fprintf(f, "  busy / iteration  ");
    for (int k = 0; k < OFFLOAD_NRES; k++)
        fprintf(f, " %s %.1f%%", offload_res_name(k), 100 * r->util[k]);
    fprintf(f, "\n  bottleneck tier    %s (%.1f%% busy)\n", offload_res_name(r->bottleneck),
            100 * r->util[r->bottleneck]);
    if (l->offload_engine == OFFLOAD_ENGINE_FUYOU) /* its placement (offload_fuyou.c) */
        fprintf(f, "  fuyou placement    activations of %d layers in hbm, %d swapped, %d "
                    "recomputed%s; parameters of %d layers kept in hbm\n",
                r->fuyou_act_gpu_layers, r->fuyou_act_swap_layers,
                r->fuyou_act_recompute_layers,
                l->recompute == LAYOUT_RECOMPUTE_FULL ? " (every checkpoint to host memory)" : "",
                r->fuyou_param_gpu_layers);
}
