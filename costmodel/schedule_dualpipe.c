/* schedule_dualpipe: DualPipe's unit order as dualpipe.py's step() emits
 * it, and its overlapped F&B unit (see schedule_dualpipe.h). */
#include "schedule_dualpipe.h"

#include <math.h>
#include <stdlib.h>

/* One rank's order being written. */
typedef struct dp_rank {
    const layout_desc *l;
    int second_half;     /* dualpipe.py's is_in_second_half: phases swap */
    int half_m;          /* microbatches per direction */
    int next_f[2], next_b[2]; /* per chunk: the next microbatch, counted from its first */
    schedule_unit *out;
    int n;
    schedule_unit *wqueue; /* deferred W, first in first out */
    int wq_head, wq_tail;
} dp_rank;

static int chunk_of(const dp_rank *d, int phase) { return phase ^ d->second_half; }

static void put(dp_rank *d, int kind, int mb, int chunk, int overlap)
{
    d->out[d->n++] = (schedule_unit){kind, mb, chunk, overlap};
}

static void forward(dp_rank *d, int phase, int overlap)
{
    int c = chunk_of(d, phase);
    put(d, SCHEDULE_F, c * d->half_m + d->next_f[c]++, c, overlap);
}

/* A backward: its W at once (full) or deferred to the queue (zero bubble). */
static void backward(dp_rank *d, int phase, int defer_w, int overlap)
{
    int c = chunk_of(d, phase), mb = c * d->half_m + d->next_b[c]++;
    put(d, SCHEDULE_B, mb, c, overlap);
    if (defer_w)
        d->wqueue[d->wq_tail++] = (schedule_unit){SCHEDULE_W, mb, c, 0};
    else
        put(d, SCHEDULE_W, mb, c, overlap);
}

static void weight(dp_rank *d)
{
    if (d->wq_head == d->wq_tail)
        abort(); /* dualpipe.py pops only after a deferred backward */
    d->out[d->n++] = d->wqueue[d->wq_head++];
}

/* _forward_backward_chunk(phase0, phase1): F of one direction with the
 * full backward of the other, one overlapped unit. */
static void forward_backward(dp_rank *d, int phase_f, int phase_b)
{
    forward(d, phase_f, 1);
    backward(d, phase_b, 0, 1);
}

/* Steps 6 to 8: the cool-down (dualpipe.py's enable_zb switch by parity). */
static void cool_down(dp_rank *d, int half_ranks, int half_rank)
{
    int step6 = half_rank + 1, zb = 0;
    for (int i = 0; i < step6; i++) {
        if (i == step6 / 2 && half_rank % 2 == 1)
            zb = 1;
        backward(d, 1, zb, 0);
        if (i == step6 / 2 && half_rank % 2 == 0)
            zb = 1;
        backward(d, 0, zb, 0);
    }
    for (int i = 0; i < half_ranks - half_rank - 1; i++) {
        weight(d);
        backward(d, 0, 1, 0);
    }
    for (int i = 0; i < half_rank + 1; i++)
        weight(d);
}

static void rank_order(const layout_desc *l, int r, schedule_unit *out, schedule_unit *wqueue)
{
    int pp = l->pp, half = pp / 2, hr = r < pp - 1 - r ? r : pp - 1 - r;
    int middle = r == half - 1 || r == half;
    dp_rank d = {.l = l, .second_half = r >= half, .half_m = layout_microbatches(l) / 2,
                 .out = out, .wqueue = wqueue};
    for (int i = 0; i < 2 * (half - hr - 1); i++) /* step 1: nF0 */
        forward(&d, 0, 0);
    for (int i = 0; i < hr + 1; i++) { /* step 2: nF0F1 */
        forward(&d, 0, 0);
        forward(&d, 1, 0);
    }
    for (int i = 0; i < half - hr - 1; i++) { /* step 3: nB1W1F1 */
        backward(&d, 1, 1, 0);
        weight(&d);
        forward(&d, 1, 0);
    }
    for (int i = 0; i < d.half_m - pp + hr + 1; i++) { /* step 4: nF0B1F1B0 */
        if (i == 0 && middle) { /* not overlapped, "to further reduce bubble size" */
            forward(&d, 0, 0);
            backward(&d, 1, 0, 0);
        } else {
            forward_backward(&d, 0, 1);
        }
        forward_backward(&d, 1, 0);
    }
    for (int i = 0; i < half - hr - 1; i++) { /* step 5: nB1F1B0 */
        backward(&d, 1, 0, 0);
        forward_backward(&d, 1, 0);
    }
    cool_down(&d, half, hr);
    if (d.n != schedule_units(l) || d.wq_head != d.wq_tail)
        abort(); /* dualpipe.py asserts the queue empty; every unit once */
}

void schedule_dualpipe_orders(const layout_desc *l, schedule_unit *out)
{
    int n = schedule_units(l);
    schedule_unit *wqueue = malloc(sizeof *wqueue * (size_t)n);
    if (!wqueue)
        abort();
    for (int r = 0; r < l->pp; r++)
        rank_order(l, r, out + (size_t)r * (size_t)n, wqueue);
    free(wqueue);
}

/* One half of the unit: communication comm_s beside compute compute_s. */
static double overlapped_half_s(double comm_s, double compute_s, double sm_share)
{
    return fmax(comm_s, compute_s + sm_share * comm_s);
}

double schedule_dualpipe_fb_s(double f_compute_s, double f_comm_s, double b_compute_s,
                              double b_comm_s, double sm_share)
{
    return overlapped_half_s(f_comm_s, b_compute_s, sm_share) +
           overlapped_half_s(b_comm_s, f_compute_s, sm_share);
}
