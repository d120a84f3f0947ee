/* offload_phase: the time a phase of the offloaded iteration takes with its
 * resources overlapped, their busy seconds and the phases the report
 * carries (offload_private.h), shared by DeepSpeed's engines
 * (offload_time.c) and Fuyou's (offload_fuyou.c). */
#include <math.h>
#include <stdio.h>

#include "offload_private.h"

double offload_nvme_s(double read, double write, const offload_bw *bw)
{
    return (read > 0 ? read / bw->nvme_read : 0) + (write > 0 ? write / bw->nvme_write : 0);
}

double offload_phase_s(double gpu_s, double h2d, double d2h, double nr, double nw, double cpu_s,
                      const offload_bw *bw)
{
    double s = fmax(gpu_s, fmax(h2d / bw->h2d, d2h / bw->d2h));
    return fmax(s, fmax(offload_nvme_s(nr, nw, bw), cpu_s));
}

void offload_fill_busy(const offload_traffic *t, const offload_base *b, double cpu_s,
                       double adam_p, const offload_bw *bw, offload_report *r)
{
    r->h2d_bytes = t->h2d_fwd + t->h2d_bwd + t->h2d_step;
    r->d2h_bytes = t->d2h_fwd + t->d2h_bwd + t->d2h_step;
    r->nvme_read_bytes = t->nvme_read_fwd + t->nvme_read_bwd + t->nvme_read_step;
    r->nvme_write_bytes = t->nvme_write_fwd + t->nvme_write_bwd + t->nvme_write_step;
    r->cpu_step_s = cpu_s;
    r->busy_s[OFFLOAD_RES_GPU] = b->fwd_s + b->bwd_s;
    r->busy_s[OFFLOAD_RES_PCIE_H2D] = r->h2d_bytes / bw->h2d;
    r->busy_s[OFFLOAD_RES_PCIE_D2H] = r->d2h_bytes / bw->d2h;
    r->busy_s[OFFLOAD_RES_NVME] = offload_nvme_s(r->nvme_read_bytes, r->nvme_write_bytes, bw);
    /* every byte in or out of the GPU or the drives, and Adam's, crosses DRAM */
    double dram_bytes = r->h2d_bytes + r->d2h_bytes + r->nvme_read_bytes + r->nvme_write_bytes +
                        adam_p * OFFLOAD_ADAM_BYTES_PER_PARAM;
    r->busy_s[OFFLOAD_RES_DRAM] = dram_bytes / bw->dram;
    r->busy_s[OFFLOAD_RES_CPU] = cpu_s;
}

void offload_phase_busy(double gpu_s, double h2d, double d2h, double nr, double nw, double cpu_s,
                        double adam_p, const offload_bw *bw, double busy_s[OFFLOAD_NRES])
{
    busy_s[OFFLOAD_RES_GPU] = gpu_s;
    busy_s[OFFLOAD_RES_PCIE_H2D] = h2d / bw->h2d;
    busy_s[OFFLOAD_RES_PCIE_D2H] = d2h / bw->d2h;
    busy_s[OFFLOAD_RES_NVME] = offload_nvme_s(nr, nw, bw);
    /* as over the iteration (offload_fill_busy): every byte crosses DRAM */
    busy_s[OFFLOAD_RES_DRAM] =
        (h2d + d2h + nr + nw + adam_p * OFFLOAD_ADAM_BYTES_PER_PARAM) / bw->dram;
    busy_s[OFFLOAD_RES_CPU] = cpu_s;
}

void offload_phase_add(offload_report *r, const char *name, double dur_s,
                       const double busy_s[OFFLOAD_NRES])
{
    /* under a nanosecond: the rounding of a difference, not a phase */
    if (dur_s <= 1e-9 || r->nphases >= OFFLOAD_MAX_PHASES)
        return;
    offload_phase *ph = &r->phases[r->nphases];
    const offload_phase *prev = r->nphases > 0 ? &r->phases[r->nphases - 1] : NULL;
    snprintf(ph->name, sizeof ph->name, "%s", name);
    ph->start_s = prev ? prev->start_s + prev->dur_s : 0;
    ph->dur_s = dur_s;
    /* a phase lasts as long as its busiest resource, so each fraction is at
     * most 1 but for DPU's step spread over the phases it hides behind */
    for (int k = 0; k < OFFLOAD_NRES; k++)
        ph->util[k] = fmin(1, busy_s[k] / dur_s);
    r->nphases++;
}

