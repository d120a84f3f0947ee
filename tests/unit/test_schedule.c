/* Unit tests: pipeline schedule orders.  Every unit exactly once; a
 * microbatch's backward after its forward; 1F1B's warm-up and in-flight
 * bound; GPipe's all-forwards-first; Megatron's interleaved order on a
 * small case written out by hand. */
#include <stdlib.h>

#include "schedule.h"
#include "tap.h"

static layout_desc pipe(int pp, int vpp, int m, layout_schedule s)
{
    layout_desc l;
    layout_init(&l, NULL);
    l.pp = pp;
    l.vpp = vpp;
    l.gbs = m;
    l.schedule = s;
    return l;
}

/* Each (pass, microbatch, chunk) once; forward before backward; returns the
 * most forward units in flight at once. */
static int check_order(const layout_desc *l, int stage)
{
    int n = schedule_units(l), m = layout_microbatches(l);
    schedule_unit *u = malloc(sizeof *u * (size_t)n);
    int *seen = calloc((size_t)(2 * m * l->vpp), sizeof *seen);
    schedule_order(l, stage, u);
    int in_flight = 0, peak = 0;
    for (int i = 0; i < n; i++) {
        int slot = (u[i].backward * m + u[i].microbatch) * l->vpp + u[i].chunk;
        CHECK(u[i].microbatch >= 0 && u[i].microbatch < m);
        CHECK(u[i].chunk >= 0 && u[i].chunk < l->vpp);
        seen[slot]++;
        if (u[i].backward)
            CHECK(seen[(0 * m + u[i].microbatch) * l->vpp + u[i].chunk] == 1);
        in_flight += u[i].backward ? -1 : 1;
        peak = in_flight > peak ? in_flight : peak;
    }
    for (int i = 0; i < 2 * m * l->vpp; i++)
        CHECK_EQ_INT(seen[i], 1);
    free(u);
    free(seen);
    return peak;
}

static void one_f_one_b(void)
{
    layout_desc l = pipe(4, 1, 8, LAYOUT_SCHEDULE_1F1B);
    for (int s = 0; s < 4; s++)
        CHECK_EQ_INT(check_order(&l, s), 4 - s); /* min(pp - s, m) in flight */
    schedule_unit u[16];
    schedule_order(&l, 1, u);
    /* stage 1: two warm-up forwards, then F2 B0 F3 B1 ... */
    CHECK(!u[0].backward && !u[1].backward && !u[2].backward && u[3].backward);
    CHECK_EQ_INT(u[2].microbatch, 2);
    CHECK_EQ_INT(u[3].microbatch, 0);
}

static void gpipe(void)
{
    layout_desc l = pipe(4, 1, 6, LAYOUT_SCHEDULE_GPIPE);
    CHECK_EQ_INT(check_order(&l, 3), 6);
    schedule_unit u[12];
    schedule_order(&l, 3, u);
    for (int i = 0; i < 6; i++)
        CHECK(!u[i].backward && u[i + 6].backward);
}

/* pp 2, vpp 2, m 4 on stage 0: warm-up 2 (pp - 1) + (vpp - 1) pp = 4 forwards:
 * F(mb0,c0) F(mb1,c0) F(mb0,c1) F(mb1,c1), then F(mb2,c0) B(mb0,c1) ... */
static void interleaved_by_hand(void)
{
    layout_desc l = pipe(2, 2, 4, LAYOUT_SCHEDULE_INTERLEAVED);
    CHECK_EQ_INT(check_order(&l, 0), 5);
    CHECK_EQ_INT(check_order(&l, 1), 3);
    schedule_unit u[16];
    schedule_order(&l, 0, u);
    static const int want[][3] = {{0, 0, 0}, {0, 1, 0}, {0, 0, 1}, {0, 1, 1}, {0, 2, 0},
                                  {1, 0, 1}, {0, 3, 0}, {1, 1, 1}, {0, 2, 1}, {1, 0, 0}};
    for (int i = 0; i < 10; i++) {
        CHECK_EQ_INT(u[i].backward, want[i][0]);
        CHECK_EQ_INT(u[i].microbatch, want[i][1]);
        CHECK_EQ_INT(u[i].chunk, want[i][2]);
    }
}

/* Fewer microbatches than stages: warm-up is capped by m. */
static void few_microbatches(void)
{
    layout_desc l = pipe(8, 1, 2, LAYOUT_SCHEDULE_1F1B);
    CHECK_EQ_INT(check_order(&l, 0), 2);
}

TAP_MAIN({"one_f_one_b", one_f_one_b}, {"gpipe", gpipe},
         {"interleaved_by_hand", interleaved_by_hand}, {"few_microbatches", few_microbatches})
