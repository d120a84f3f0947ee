/* Unit tests: the layout search.
 *   a small space counted by hand: its size and what each rule removes;
 *   optima checked by hand: the memory objective puts 1F1B before GPipe
 *   and zero 3 before the lower stages; the best by time is the fastest of an
 *   independent estimate of every valid layout;
 *   the figures do not depend on the thread count;
 *   the Pareto front; a space where nothing fits; the stop flag (Ctrl-C);
 *   --fix parsing;
 *   the simulated finalists go through parmap: a fake backend (the items
 *   backwards, as MPI ranks would take them) gets the one map of K finalists
 *   and gives the same rows as 1 and 2 threads. */
#include <string.h>

#include "fixture.h"
#include "parmap.h"
#include "search.h"
#include "searchsim.h"

typedef struct search_fixture {
    sys_system sys;
    topo *t;
    model_desc m;
    opcost_eff eff;
    search_input in;
} search_fixture;

static void setup(search_fixture *s, const char *system, int nodes, int gpus, int gbs)
{
    CHECK(sys_from_catalog(system, nodes, &s->sys, NULL) == 0);
    CHECK(topo_build(&s->sys, &s->t, NULL) == 0);
    opcost_eff_default(&s->eff);
    s->in = (search_input){&s->m, s->t,  gpus, gbs,  MODEL_FP16,    1,   &s->eff,
                           {0},    1,     NULL, NULL, NULL, NULL, FRAMEWORK_CORE, 0, 0};
    search_fix_init(&s->in.space.fix);
}

/* 4 layers, 4 heads on 4 GPUs, gbs 4; mbs 1, no sp, no recompute, zero 0:
 * (tp, pp) in (1,1) (1,2) (1,4) (2,1) (2,2) (4,1), each with gpipe, 1f1b,
 * zb-h1, zb-h2, zb-auto and dualpipe at vpp 1 and interleaved, zbv, v-half
 * and v-min at vpp 2: 60.  pp 4 x vpp 2 does not divide 4 layers: 4;
 * interleaved with pp 1: 3; other rules: the V-shapes with pp 1 (9),
 * dualpipe with pp 1 (3) or m < 2 pp ((1,2) m 2, (1,4) m 4), zb-h2 with
 * m < 2 pp - 1 (the same two): 16; at pp 1 gpipe, zb-h1, zb-h2 and zb-auto
 * (never better than 1f1b there) in (1,1) (2,1) (4,1): 12.  25 remain. */
static void small_space_counted(void)
{
    search_fixture s;
    model_custom(&s.m, 4, 256, 4);
    setup(&s, "dgx-h100", 1, 4, 4);
    s.in.space.max_vpp = 2;
    search_fix *fx = &s.in.space.fix;
    fx->mbs = 1, fx->sp = 0, fx->recompute = LAYOUT_RECOMPUTE_NONE, fx->zero = 0;
    search_result r;
    CHECK(search_run(&s.in, &r, NULL) == 0);
    CHECK_EQ_INT(r.space, 60);
    CHECK_EQ_INT(r.removed[SEARCH_RULE_LAYERS], 4);
    CHECK_EQ_INT(r.removed[SEARCH_RULE_INTERLEAVED], 3);
    CHECK_EQ_INT(r.removed[SEARCH_RULE_ONE_STAGE], 12);
    CHECK_EQ_INT(r.removed[SEARCH_RULE_OTHER], 16);
    CHECK_EQ_INT(r.valid, 25);
    CHECK_EQ_INT(r.evaluated, 25);
    CHECK_EQ_INT(r.fitting, 25);
    CHECK_EQ_INT(r.interrupted, 0);
    search_result_free(&r);
    topo_free(s.t);
}

/* The HSDP shard group goes to the zero >= 1 layouts; where it does not
 * divide dp the rule removes them.  llama2-7b, pp 2, 1f1b on 8 GPUs with a
 * group of 4: tp 1 (dp 4) keeps zero 0-3, tp 2 (dp 2) zero 0 only (the
 * group rule removes 1-3), tp 4 (dp 1) zero 0 only (the dp rule first). */
static void hsdp_group_rule(void)
{
    search_fixture s;
    CHECK(model_find("llama2-7b", &s.m, NULL) == 0);
    setup(&s, "dgx-h100", 1, 8, 64);
    search_fix *fx = &s.in.space.fix;
    fx->pp = 2, fx->vpp = 1, fx->mbs = 1, fx->sp = 0, fx->recompute = LAYOUT_RECOMPUTE_NONE;
    fx->schedule = LAYOUT_SCHEDULE_1F1B;
    s.in.space.shard_group = 4;
    search_result r;
    CHECK(search_run(&s.in, &r, NULL) == 0);
    CHECK_EQ_INT(r.removed[SEARCH_RULE_HSDP], 3);
    CHECK_EQ_INT(r.removed[SEARCH_RULE_ZERO], 3);
    CHECK_EQ_INT(r.valid, 6);
    for (int i = 0; i < r.ncands; i++) {
        const layout_desc *l = &r.cands[i].layout;
        CHECK_EQ_INT(l->shard_group, l->zero ? 4 : 0);
    }
    search_result_free(&r);
    topo_free(s.t);
}

static void memory_objective_by_hand(void)
{
    search_fixture s;
    CHECK(model_find("llama2-7b", &s.m, NULL) == 0);
    setup(&s, "dgx-h100", 1, 8, 64);
    search_fix *fx = &s.in.space.fix;
    fx->tp = 2, fx->pp = 2, fx->vpp = 1, fx->mbs = 1, fx->sp = 0;
    fx->recompute = LAYOUT_RECOMPUTE_NONE;
    search_result r;
    CHECK(search_run(&s.in, &r, NULL) == 0);
    CHECK_EQ_INT(r.valid, 24); /* gpipe, 1f1b, zb-h1, zb-h2, zb-auto, dualpipe x zero 0-3 */
    int order[24];
    CHECK_EQ_INT(search_rank(&r, SEARCH_MEMORY, order, 24), r.fitting);
    if (r.fitting >= 4) {
        /* 1F1B holds pp - s, not m = 16; zb-h1 (and zb-auto) the same 1x */
        const layout_desc *best = &r.cands[order[0]].layout;
        CHECK(best->schedule == LAYOUT_SCHEDULE_1F1B || best->schedule == LAYOUT_SCHEDULE_ZB_H1 ||
              best->schedule == LAYOUT_SCHEDULE_ZB_AUTO);
        CHECK_EQ_INT(best->zero, 3); /* everything sharded over dp 2 */
        CHECK_REL(r.cands[order[0]].peak_mem_bytes, r.cands[order[2]].peak_mem_bytes, 1e-12);
        CHECK(r.cands[order[2]].peak_mem_bytes < r.cands[order[3]].peak_mem_bytes);
    }
    search_result_free(&r);
    topo_free(s.t);
}

/* The best by time is the minimum of estimate_analytic over the valid
 * layouts, each estimated on its own (groups built per layout). */
static void best_time_is_the_fastest(void)
{
    search_fixture s;
    CHECK(model_find("megatron-1.7b", &s.m, NULL) == 0);
    setup(&s, "dgx-a100-80g", 2, 16, 64);
    s.in.space.max_vpp = 2;
    search_result r;
    CHECK(search_run(&s.in, &r, NULL) == 0);
    double best = 1e300;
    int best_i = -1;
    for (int i = 0; i < r.ncands; i++) {
        estimate_input ei = {&s.m, &r.cands[i].layout, s.t, 16, &s.eff};
        estimate_result e;
        CHECK(estimate_analytic(&ei, &e, NULL) == 0);
        CHECK_REL(r.cands[i].iteration_s, e.iteration_s, 1e-12);
        if (e.fits && e.iteration_s < best)
            best = e.iteration_s, best_i = i;
        estimate_result_free(&e);
    }
    int order[1];
    CHECK_EQ_INT(search_rank(&r, SEARCH_TIME, order, 1), 1);
    CHECK_EQ_INT(order[0], best_i);
    search_result_free(&r);
    topo_free(s.t);
}

static void threads_do_not_change_figures(void)
{
    search_fixture s;
    CHECK(model_find("megatron-18.4b", &s.m, NULL) == 0);
    setup(&s, "dgx-a100-80g", 8, 64, 512);
    search_result one, two;
    CHECK(search_run(&s.in, &one, NULL) == 0);
    s.in.threads = 2;
    CHECK(search_run(&s.in, &two, NULL) == 0);
    CHECK_EQ_INT(one.ncands, two.ncands);
    int same = one.ncands == two.ncands;
    for (int i = 0; same && i < one.ncands; i++)
        same = memcmp(&one.cands[i].layout, &two.cands[i].layout, sizeof(layout_desc)) == 0 &&
               one.cands[i].iteration_s == two.cands[i].iteration_s &&
               one.cands[i].peak_mem_bytes == two.cands[i].peak_mem_bytes &&
               one.cands[i].fits == two.cands[i].fits;
    CHECK(same);
    CHECK(one.ncands > 100);
    search_result_free(&one);
    search_result_free(&two);
    topo_free(s.t);
}

static void pareto_front(void)
{
    search_candidate c[5] = {0};
    double t[5] = {1.0, 2.0, 1.5, 3.0, 1.0}, mem[5] = {10, 5, 7, 6, 12};
    for (int i = 0; i < 5; i++)
        c[i] = (search_candidate){.evaluated = 1, .fits = 1, .iteration_s = t[i],
                                  .peak_mem_bytes = mem[i]};
    search_result r = {.cands = c, .ncands = 5};
    int front[5];
    search_pareto(&r, front);
    int want[5] = {1, 1, 1, 0, 0}; /* (3, 6) is beaten by (2, 5); (1, 12) by (1, 10) */
    for (int i = 0; i < 5; i++)
        CHECK_EQ_INT(front[i], want[i]);
}

static void nothing_fits(void)
{
    search_fixture s;
    CHECK(model_find("gpt3-175b", &s.m, NULL) == 0);
    setup(&s, "dgx-a100-80g", 1, 8, 8);
    search_result r;
    CHECK(search_run(&s.in, &r, NULL) == 0);
    CHECK(r.valid > 0);
    CHECK_EQ_INT(r.fitting, 0);
    int closest = search_closest_miss(&r);
    CHECK(closest >= 0);
    for (int i = 0; closest >= 0 && i < r.ncands; i++)
        CHECK(r.cands[i].peak_mem_bytes >= r.cands[closest].peak_mem_bytes);
    int order[1];
    CHECK_EQ_INT(search_rank(&r, SEARCH_TIME, order, 1), 0);
    search_result_free(&r);
    topo_free(s.t);
}

/* A layout that does not fit is timed only when asked (time_misfits, for
 * `search --csv`): its memory and verdict are the same either way, the
 * fitting ones' figures and the ranking too, and without the flag its time
 * is 0 (not computed).  Megatron-18.4B on 16 GPUs: some layouts fit, some
 * do not. */
static void misfits_timed_only_when_asked(void)
{
    search_fixture s;
    CHECK(model_find("megatron-18.4b", &s.m, NULL) == 0);
    setup(&s, "dgx-a100-80g", 2, 16, 64);
    search_result lean, full;
    CHECK(search_run(&s.in, &lean, NULL) == 0);
    s.in.time_misfits = 1;
    CHECK(search_run(&s.in, &full, NULL) == 0);
    CHECK_EQ_INT(lean.ncands, full.ncands);
    CHECK(lean.fitting > 0 && lean.fitting < lean.ncands);
    CHECK_EQ_INT(lean.fitting, full.fitting);
    int same = lean.ncands == full.ncands, misfits = 0;
    for (int i = 0; same && i < lean.ncands; i++) {
        const search_candidate *a = &lean.cands[i], *b = &full.cands[i];
        same = a->evaluated && b->evaluated && a->fits == b->fits &&
               a->peak_mem_bytes == b->peak_mem_bytes &&
               (a->fits ? a->iteration_s == b->iteration_s && a->mfu == b->mfu
                        : a->iteration_s == 0 && b->iteration_s > 0);
        misfits += !a->fits;
    }
    CHECK(same);
    CHECK(misfits > 0);
    int o1[5], o2[5];
    int n1 = search_rank(&lean, SEARCH_TIME, o1, 5), n2 = search_rank(&full, SEARCH_TIME, o2, 5);
    CHECK_EQ_INT(n1, n2);
    CHECK(memcmp(o1, o2, sizeof(int) * (size_t)n1) == 0);
    CHECK_EQ_INT(search_closest_miss(&lean), search_closest_miss(&full));
    search_result_free(&lean);
    search_result_free(&full);
    topo_free(s.t);
}

/* Ctrl-C sets the stop flag: the workers stop before the next layout and
 * what was evaluated is kept (here nothing, the flag being set first). */
static void stop_flag_stops(void)
{
    search_fixture s;
    CHECK(model_find("megatron-1.7b", &s.m, NULL) == 0);
    setup(&s, "dgx-a100-80g", 2, 16, 64);
    volatile sig_atomic_t stop = 1;
    s.in.stop = &stop;
    search_result r;
    CHECK(search_run(&s.in, &r, NULL) == 0);
    CHECK(r.valid > 0);
    CHECK_EQ_INT(r.evaluated, 0);
    CHECK_EQ_INT(r.interrupted, 1);
    search_result_free(&r);
    topo_free(s.t);
}

static void fix_parsing(void)
{
    search_fix fx;
    cs_err err;
    search_fix_init(&fx);
    CHECK(search_fix_parse("tp=8,pp=4,sp=1,recompute=selective,schedule=1f1b", &fx, &err) == 0);
    CHECK_EQ_INT(fx.tp, 8);
    CHECK_EQ_INT(fx.pp, 4);
    CHECK_EQ_INT(fx.sp, 1);
    CHECK_EQ_INT(fx.recompute, LAYOUT_RECOMPUTE_SELECTIVE);
    CHECK_EQ_INT(fx.schedule, LAYOUT_SCHEDULE_1F1B);
    CHECK_EQ_INT(fx.zero, -1);
    CHECK(search_fix_parse("tp_size=8", &fx, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "unknown knob 'tp_size'");
    CHECK(search_fix_parse("tp=eight", &fx, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "--fix tp");
    CHECK(search_fix_parse("tp", &fx, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "KNOB=VALUE");
    CHECK(search_fix_parse("sp=2", &fx, &err) != 0);
    search_fix_init(&fx);
    CHECK(search_fix_parse("zero=3", &fx, &err) == 0);
    CHECK_EQ_INT(fx.zero, 3);
    CHECK(search_fix_parse("zero=4", &fx, &err) != 0);
    CHECK_STR_CONTAINS(err.msg, "--fix zero");
}

static long finalist_maps, finalist_items;

static void backwards(const parmap_job *job, void *outs)
{
    if (strcmp(job->what, "search finalist") == 0)
        finalist_maps++, finalist_items += job->n;
    for (long i = job->n - 1; i >= 0; i--)
        parmap_run_item(job, i, (char *)outs + (size_t)i * job->out_size);
    for (long i = 0; job->commit && i < job->n; i++)
        job->commit(job->ctx, i, (char *)outs + (size_t)i * job->out_size);
}

static void share_nothing(void *buf, size_t bytes) { (void)buf, (void)bytes; }

enum { TOP = 4 };

static int top_rows(search_fixture *s, int threads, searchsim_row *rows)
{
    search_result r;
    CHECK(search_run(&s->in, &r, NULL) == 0);
    s->in.threads = threads;
    int n = 0;
    CHECK(searchsim_top(&s->in, &r, SEARCH_TIME, TOP, rows, &n, NULL) == 0);
    search_result_free(&r);
    return n;
}

static int same_rows(const searchsim_row *a, const searchsim_row *b, int n)
{
    int same = 1;
    for (int i = 0; i < n; i++)
        same &= a[i].index == b[i].index && a[i].sim.iteration_s == b[i].sim.iteration_s &&
                a[i].sim.peak_mem_bytes == b[i].sim.peak_mem_bytes &&
                a[i].analytic_s == b[i].analytic_s && a[i].diff_percent == b[i].diff_percent &&
                strcmp(a[i].note, b[i].note) == 0;
    return same;
}

static void finalists_through_parmap(void)
{
    search_fixture s;
    CHECK(model_find("megatron-1.7b", &s.m, NULL) == 0);
    setup(&s, "dgx-a100-80g", 2, 16, 64);
    searchsim_row one[TOP], two[TOP], ranks[TOP];
    int n1 = top_rows(&s, 1, one), n2 = top_rows(&s, 2, two);
    static const parmap_backend b = {backwards, share_nothing, 0, 2};
    parmap_set_backend(&b);
    int nr = top_rows(&s, 1, ranks);
    parmap_set_backend(NULL);
    CHECK_EQ_INT(n1, TOP);
    CHECK_EQ_INT(n2, TOP);
    CHECK_EQ_INT(nr, TOP);
    CHECK_EQ_INT((int)finalist_maps, 1);
    CHECK_EQ_INT((int)finalist_items, TOP);
    CHECK(same_rows(one, two, TOP));
    CHECK(same_rows(one, ranks, TOP));
    CHECK(one[0].sim.iteration_s > 0 && one[0].sim.stages == NULL);
    searchsim_rows_free(one, n1);
    searchsim_rows_free(two, n2);
    searchsim_rows_free(ranks, nr);
    topo_free(s.t);
}

/* The finalists' work is bounded before the search: top x GPUs (--top
 * 10000 on 1,024 GPUs ran for hours); the message names the top that fits. */
static void top_times_gpus_bounded(void)
{
    search_input in = {0};
    in.gpus = 1024;
    cs_err err;
    long fit = SEARCHSIM_MAX_GPU_FINALISTS / 1024;
    CHECK(searchsim_check_top(&in, (int)fit, &err) == 0);
    CHECK(searchsim_check_top(&in, (int)fit + 1, &err) != 0);
    char want[96];
    snprintf(want, sizeof want, "top %ld or less on this job", fit);
    CHECK_STR_CONTAINS(err.msg, want);
    in.gpus = 65536; /* the default top on the largest job simulated */
    CHECK(searchsim_check_top(&in, 20, &err) == 0);
}

TAP_MAIN({"HSDP shard group rule", hsdp_group_rule},
         {"top x GPUs bounded before the search", top_times_gpus_bounded},
         {"small_space_counted", small_space_counted},
         {"memory_objective_by_hand", memory_objective_by_hand},
         {"best_time_is_the_fastest", best_time_is_the_fastest},
         {"threads_do_not_change_figures", threads_do_not_change_figures},
         {"pareto_front", pareto_front}, {"nothing_fits", nothing_fits},
         {"layouts that do not fit are timed only when asked", misfits_timed_only_when_asked},
         {"stop_flag_stops", stop_flag_stops}, {"fix_parsing", fix_parsing},
         {"finalists_through_parmap", finalists_through_parmap})
