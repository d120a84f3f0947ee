/* offload_private: what offload_time.c (DeepSpeed's engines) and
 * offload_fuyou.c (Fuyou's pipeline and placement) share: the bytes one GPU
 * moves per iteration, the time a phase takes with its resources
 * overlapped, and the busy times and phases the report carries. */
#ifndef CS_OFFLOAD_PRIVATE_H
#define CS_OFFLOAD_PRIVATE_H

#include "offload.h"

/* Bytes one GPU moves per iteration, each way and to each tier. */
typedef struct offload_traffic {
    double h2d_fwd, h2d_bwd;  /* host -> GPU during forward, during backward */
    double d2h_fwd, d2h_bwd;  /* GPU -> host */
    double h2d_step;          /* after the CPU step, before the next forward */
    double d2h_step;          /* after a GPU step: the updated partition back to the host */
    double nvme_read_fwd, nvme_read_bwd, nvme_write_fwd, nvme_write_bwd;
    double nvme_read_step, nvme_write_step;
    double h2d_bwd_grads;     /* of h2d_bwd: gradients back up (v0.9.3's fp16 round trip) */
} offload_traffic;

/* Seconds the drives take to read and write (one after the other: they
 * share the drives' channels). */
double offload_nvme_s(double read, double write, const offload_bw *bw);

/* The longest of a phase's resources: overlapped work ends with the busiest. */
double offload_phase_s(double gpu_s, double h2d, double d2h, double nr, double nw, double cpu_s,
                       const offload_bw *bw);

/* The report's traffic, CPU step and busy seconds per resource over the
 * iteration; adam_p parameters updated on the CPU. */
void offload_fill_busy(const offload_traffic *t, const offload_base *b, double cpu_s,
                       double adam_p, const offload_bw *bw, offload_report *r);

/* Appends a phase of dur_s seconds (none under a nanosecond) in which the
 * resources are busy busy_s[k] seconds; its start follows the last phase. */
void offload_phase_add(offload_report *r, const char *name, double dur_s,
                       const double busy_s[OFFLOAD_NRES]);

/* busy_s of a phase that moves h2d, d2h, nr, nw bytes, computes gpu_s and
 * runs cpu_s of CPU Adam over adam_p parameters. */
void offload_phase_busy(double gpu_s, double h2d, double d2h, double nr, double nw, double cpu_s,
                        double adam_p, const offload_bw *bw, double busy_s[OFFLOAD_NRES]);

/* deepspeed-2021 (offload_coord.c, zero3_coord.h): the parameters DeepSpeed
 * v0.3.13's coordinator fetches for one microbatch of one tensor rank and,
 * on one GPU, the passes' time with the fetches (there each gather is the
 * parameter's copy up: _allgather_param at world size 1) in its windows. */
typedef struct offload_coord {
    double fwd_elems, bwd_elems; /* a microbatch's mean: gathered in the forward; after */
    double outside_elems;        /* outside the trace (the final norm): fetched once a pass */
    int windowed;                /* one GPU with its parameters on the host: fwd_s, bwd_s hold */
    double fwd_s, bwd_s;         /* all microbatches, compute and the copies' waits */
} offload_coord;

void offload_coord_of(const layout_desc *l, const offload_base *b, const offload_bw *bw,
                      offload_coord *out);

/* Fuyou (offload_fuyou.c): fills r's traffic, busy times, phases and
 * placement; returns the iteration.  p parameters of the GPU. */
double offload_fuyou_apply(const offload_base *b, const offload_bw *bw, double cpu_s,
                           offload_report *r);

#endif
