/* Unit tests: stragglers with every rank simulated.
 *   Without stragglers every iteration is the baseline and nobody held the
 *   others up; a GPU at half speed doubles its own compute, slows the step,
 *   and is named; iterations outside its range are the baseline again; slow
 *   links slow the step without naming a GPU, and the topology is restored;
 *   random stragglers are reproducible from the seed; bad specs and ranks
 *   out of range are refused, each straggler's check naming the field; the
 *   summary counts culprits most often first, ties by rank. */
#include <limits.h>

#include "fixture.h"
#include "stragglers.h"
#include "trainsim.h"

static void setup(fixture *f)
{
    fixture_setup(f, "dgx-h100", 4, "llama2-7b", 4, 2, 4, 32);
}

static void none_is_the_baseline(void)
{
    fixture f;
    setup(&f);
    straggler_plan p = {5, NULL, 0, 0, 1, 1, NULL, NULL};
    straggler_result r;
    CHECK(straggler_run(&f.in, &p, &r, NULL) == 0);
    CHECK_EQ_INT(r.simulations, 1);
    for (int i = 0; i < r.n; i++)
        CHECK(r.iters[i].iteration_s == r.baseline_s && r.iters[i].held_up_by == -1);
    straggler_result_free(&r);
    topo_free(f.t);
}

static void half_speed_gpu(void)
{
    fixture f;
    setup(&f);
    straggler s = {STRAGGLER_GPU, 5, 2, 2, 3};
    straggler_plan p = {6, &s, 1, 0, 1, 1, NULL, NULL};
    straggler_result r;
    CHECK(straggler_run(&f.in, &p, &r, NULL) == 0);
    const straggler_iter *slow = &r.iters[2];
    printf("# baseline %.4f s; GPU 5 at half speed: %.4f s, its compute %.4f s (was %.4f)\n",
           r.baseline_s, slow->iteration_s, slow->busiest_s, slow->base_busy_s);
    CHECK_EQ_INT(slow->held_up_by, 5);
    CHECK_REL(slow->busiest_s, 2 * slow->base_busy_s, 1e-6);
    CHECK(slow->iteration_s > r.baseline_s + 0.5 * slow->base_busy_s);
    CHECK(slow->iteration_s <= r.baseline_s + slow->base_busy_s * (1 + 1e-6));
    CHECK(r.iters[3].iteration_s == slow->iteration_s && r.iters[3].gpus_slowed == 1);
    CHECK(r.iters[1].iteration_s == r.baseline_s && r.iters[4].iteration_s == r.baseline_s);
    CHECK_EQ_INT(r.simulations, 3); /* baseline, the slow pair, back to normal */
    straggler_result_free(&r);
    topo_free(f.t);
}

static void slow_links_restored(void)
{
    fixture f;
    setup(&f);
    straggler s = {STRAGGLER_LINK, 1, 8, 0, INT_MAX};
    straggler_plan p = {2, &s, 1, 0, 1, 1, NULL, NULL};
    straggler_result r;
    CHECK(straggler_run(&f.in, &p, &r, NULL) == 0);
    printf("# node 1's NICs at 1/8: %.4f s against %.4f s\n", r.iters[0].iteration_s, r.baseline_s);
    CHECK(r.iters[0].iteration_s > r.baseline_s * 1.01);
    CHECK_EQ_INT(r.iters[0].held_up_by, -1);
    CHECK_EQ_INT(r.iters[0].links_slowed, 1);
    estimate_result e;
    CHECK(trainsim_run(&f.in, TRAINSIM_ALL_RANKS, &e, NULL, NULL) == 0);
    CHECK(e.iteration_s == r.baseline_s); /* the links are back */
    estimate_result_free(&e);
    straggler_result_free(&r);
    topo_free(f.t);
}

static void random_is_seeded(void)
{
    fixture f;
    setup(&f);
    straggler_plan p = {8, NULL, 0, 0.05, 1.5, 7, NULL, NULL};
    straggler_result a, b;
    CHECK(straggler_run(&f.in, &p, &a, NULL) == 0);
    CHECK(straggler_run(&f.in, &p, &b, NULL) == 0);
    int slowed = 0, same = 1;
    for (int i = 0; i < a.n; i++) {
        slowed += a.iters[i].gpus_slowed;
        same &= a.iters[i].iteration_s == b.iters[i].iteration_s;
    }
    CHECK(same);
    CHECK(slowed > 0 && slowed < 8 * 32);
    straggler_result_free(&a);
    straggler_result_free(&b);
    topo_free(f.t);
}

static void bad_input(void)
{
    straggler s;
    cs_err err;
    CHECK(straggler_parse("gpu:3:1.5:2-9", &s, &err) == 0 && s.target == 3 && s.from_iter == 2 &&
          s.to_iter == 9 && s.factor == 1.5);
    CHECK(straggler_parse("link:1:2", &s, &err) == 0 && s.kind == STRAGGLER_LINK);
    CHECK(straggler_parse("disk:1:2", &s, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "'disk' is not gpu or link");
    CHECK(straggler_parse("gpu:x:2", &s, &err) != 0);
    CHECK(straggler_parse("gpu:1:0.5", &s, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "factor must be a number >= 1");
    CHECK(straggler_parse("gpu:1:2:5-3", &s, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "FROM-TO");
    fixture f;
    setup(&f);
    s = (straggler){STRAGGLER_GPU, 32, 2, 0, 1};
    straggler_plan p = {2, &s, 1, 0, 1, 1, NULL, NULL};
    straggler_result r;
    CHECK(straggler_run(&f.in, &p, &r, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "GPU 32 does not exist; the job has 32");
    topo_free(f.t);
}

/* What a straggler given field by field (stragglers{} in Lua) can get wrong. */
static void check_names_the_field(void)
{
    fixture f;
    setup(&f);
    cs_err err;
    straggler ok = {STRAGGLER_LINK, 3, 2, 0, 5};
    CHECK(straggler_check(&f.in, &ok, &err) == 0);
    straggler node = {STRAGGLER_LINK, 4, 2, 0, 5};
    CHECK(straggler_check(&f.in, &node, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "node 4 does not exist; the job has 4 (0 to 3)");
    straggler zero = {STRAGGLER_GPU, 1, 0, 0, 5};
    CHECK(straggler_check(&f.in, &zero, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "factor 0 is below 1");
    straggler back = {STRAGGLER_GPU, 1, 2, 7, 3};
    CHECK(straggler_check(&f.in, &back, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "from 7 is after to 3");
    straggler_plan p = {2, &back, 1, 0, 1, 1, NULL, NULL};
    straggler_result r;
    CHECK(straggler_run(&f.in, &p, &r, &err) != 0); /* the run checks the same */
    CHECK_STR_CONTAINS(err.msg, "stragglers: from 7 is after to 3");
    topo_free(f.t);
}

/* The work is bounded before any simulation: distinct iterations x GPUs,
 * counting every random iteration but only the stretches given stragglers
 * make.  100,000 random iterations on 16 GPUs took 94 s. */
static void work_is_bounded(void)
{
    straggler s[2] = {{STRAGGLER_GPU, 1, 2, 3, 5}, {STRAGGLER_GPU, 2, 2, 4, 4}};
    straggler_plan given = {100000, s, 2, 0, 1, 1, NULL, NULL};
    CHECK_EQ_INT(straggler_max_simulations(&given), 6); /* 5 stretches and the baseline */
    given.iterations = 3;
    CHECK_EQ_INT(straggler_max_simulations(&given), 4);
    straggler_plan random = {100000, NULL, 0, 0.5, 2, 1, NULL, NULL};
    CHECK_EQ_INT(straggler_max_simulations(&random), 100001);
    fixture f;
    setup(&f); /* 32 GPUs */
    cs_err err;
    straggler_result r;
    CHECK(straggler_run(&f.in, &random, &r, &err) != 0);
    char want[160];
    snprintf(want, sizeof want, "the limit is %ld: at most %ld iterations on this job",
             (long)STRAGGLER_MAX_GPU_ITERATIONS, (long)STRAGGLER_MAX_GPU_ITERATIONS / 32 - 1);
    CHECK_STR_CONTAINS(err.msg, want);
    random.iterations = 3; /* well within: runs */
    CHECK(straggler_run(&f.in, &random, &r, &err) == 0);
    CHECK_EQ_INT(r.n, 3);
    straggler_result_free(&r);
    topo_free(f.t);
}

static void summary_ranks_culprits(void)
{
    straggler_iter it[6] = {{0}};
    const int held[6] = {7, -1, 2, 7, 2, 9};
    for (int i = 0; i < 6; i++)
        it[i] = (straggler_iter){1.0 + i, held[i], 0, 0, 0, 0};
    straggler_result r = {1.0, it, 6, 1};
    straggler_summary s;
    straggler_summarize(&r, &s);
    CHECK(s.min_s == 1 && s.max_s == 6 && s.median_s == 3.5 && s.mean_s == 3.5);
    CHECK_EQ_INT(s.nculprits, 3);
    CHECK(s.culprits[0].gpu == 2 && s.culprits[0].iterations == 2); /* a tie: the lower rank */
    CHECK(s.culprits[1].gpu == 7 && s.culprits[1].iterations == 2);
    CHECK(s.culprits[2].gpu == 9 && s.culprits[2].iterations == 1);
    CHECK_EQ_INT(s.none, 1);
    straggler_summary_free(&s);
    layout_desc l = {0};
    l.tp = 4, l.dp = 2;
    straggler_place at = straggler_place_of(&l, 13); /* 13 = 4 tp x 2 dp x stage 1 + 4 + 1 */
    CHECK(at.stage == 1 && at.dp == 1 && at.tp == 1);
}

TAP_MAIN({"none_is_the_baseline", none_is_the_baseline}, {"half_speed_gpu", half_speed_gpu},
         {"slow_links_restored", slow_links_restored}, {"random_is_seeded", random_is_seeded},
         {"bad_input", bad_input}, {"check_names_the_field", check_names_the_field},
         {"work_is_bounded", work_is_bounded},
         {"summary_ranks_culprits", summary_ranks_culprits})
