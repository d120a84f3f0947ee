/* schedule_vpattern: V-Half's and V-Min's unit orders built the way the
 * authors of "Pipeline Parallelism with Controllable Memory" (Qi et al.
 * 2024) build them (see schedule_vshape.h).
 *
 * Our own C rendering of sail-sg/zero-bubble-pipeline-parallelism,
 * megatron/core/pipeline_parallel/zerobubble/scheduler/zbv_greedy.py:
 *   1. the stable pattern (paper sec. 4): rank i runs F of chunk 0, F of
 *      chunk 1, B of chunk 1, B of chunk 0 of microbatch k in slots
 *      offset + 6 k, the four offsets of V-Min (interval 2 when 3 | p) or
 *      V-Half (interval 3 when 2 | p) below;
 *   2. W fill the free slots after their B;
 *   3. "squeeze" twice (with W placed, then without): in slot order, every
 *      unit before the turn of the V on rank 0 and after rank 0's last F
 *      moves to the earliest free slot after its inputs that keeps the
 *      rank's peak memory; then each rank's units run as early as their
 *      inputs let them (unit time 1);
 *   4. W placed again, one list per chunk, and the units run in slot order.
 * A rank's order is its units sorted by slot.
 *
 * Kinds as in zbv_greedy.py: 0 F chunk 0 (up the ranks), 1 F chunk 1
 * (down), 2 B chunk 1 (up), 3 B chunk 0 (down), 4 and 5 W. */
#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"
#include "rankheap.h"
#include "schedule_vshape.h"

enum { KINDS = 6 };

typedef struct plan {
    int kinds;        /* lists in use: 4, 5 (one W list) or 6 (W per chunk) */
    long *t[KINDS];   /* slots, ascending */
    int len[KINDS];
} plan;

typedef struct vp {
    int p, m;
    plan *s; /* [p] */
} vp;

static void push(plan *s, int k, long t) { s->t[k][s->len[k]++] = t; }

static long last_slot(const plan *s)
{
    long most = -1;
    for (int k = 0; k < s->kinds; k++)
        if (s->len[k] && s->t[k][s->len[k] - 1] > most)
            most = s->t[k][s->len[k] - 1];
    return most;
}

/* The list whose next unit (at ptr) comes first; -1 when all are done.
 * Ties go to the lower kind, as Python's min over (slot, kind). */
static int next_of(const plan *s, int kinds, const int *ptr)
{
    int at = -1;
    for (int k = 0; k < kinds; k++)
        if (ptr[k] < s->len[k] && (at < 0 || s->t[k][ptr[k]] < s->t[at][ptr[at]]))
            at = k;
    return at;
}

/* W into the free slots after their B (zbv_greedy.py put_w): one list, or
 * one per chunk (split), each W after as many B of its chunk. */
static void put_w(plan *s, int split)
{
    long bound = last_slot(s), i;
    int pending[2] = {0, 0}, ptr[4] = {0, 0, 0, 0};
    s->kinds = split ? 6 : 5;
    s->len[4] = s->len[5] = 0;
    for (i = 0; i <= bound; i++) {
        int k = next_of(s, 4, ptr);
        if (k >= 0 && s->t[k][ptr[k]] == i) {
            ptr[k]++;
            if (k >= 2)
                pending[split ? k - 2 : 0]++;
            continue;
        }
        for (int w = 0; w < 2; w++)
            if (pending[w]) {
                push(s, 4 + w, i);
                pending[w]--;
                break;
            }
    }
    i--;
    for (int w = 0; w < 2; w++)
        while (pending[w] > 0) {
            push(s, 4 + w, ++i);
            pending[w]--;
        }
}

/* A rank's activations slot by slot (zbv_greedy.py mem_of_stage): F adds
 * one, W takes one back; without W lists, each B's W runs in the next free
 * slot.  The squeeze asks, for each unit it moves, whether the rank's peak
 * stays within the bound; walking the whole plan each time made the search
 * of a 64-stage V-Half cost minutes.  So the walk is kept (occupant, live
 * activations and pending W after every slot) and a move is checked by
 * walking from its new slot until the state meets the kept one again: the
 * slots outside that window keep their values, which are within the bound
 * already, so the answer is the same as walking the whole plan. */
typedef struct memtrack {
    long n;            /* slots 0 .. n-1: the plan's last slot and one more */
    int has_w;         /* W lists placed (otherwise pending W take free slots) */
    signed char *occ;  /* kind at each slot, -1 free */
    int *cur, *pend;   /* after each slot */
} memtrack;

static void mem_step(const memtrack *mt, int kind, int *cur, int *pend)
{
    static const int delta[5] = {1, 1, 0, 0, -1};
    if (kind >= 0) {
        *cur += delta[kind];
        *pend += !mt->has_w && (kind == 2 || kind == 3);
    } else if (!mt->has_w && *pend) {
        (*cur)--;
        (*pend)--;
    }
}

/* Builds the walk of plan s; returns its peak. */
static int mem_build(memtrack *mt, const plan *s)
{
    mt->n = last_slot(s) + 2;
    mt->has_w = s->kinds > 4;
    mt->occ = cs_xrealloc(NULL, (size_t)mt->n);
    mt->cur = cs_xrealloc(NULL, sizeof *mt->cur * (size_t)mt->n);
    mt->pend = cs_xrealloc(NULL, sizeof *mt->pend * (size_t)mt->n);
    memset(mt->occ, -1, (size_t)mt->n);
    for (int k = 0; k < s->kinds; k++)
        for (int j = 0; j < s->len[k]; j++)
            mt->occ[s->t[k][j]] = (signed char)k;
    int cur = 0, pend = 0, most = 0;
    for (long i = 0; i < mt->n; i++) {
        mem_step(mt, mt->occ[i], &cur, &pend);
        mt->cur[i] = cur, mt->pend[i] = pend;
        most = cur > most ? cur : most;
    }
    return most;
}

static void mem_free(memtrack *mt)
{
    free(mt->occ);
    free(mt->cur);
    free(mt->pend);
}

/* Whether the unit of kind k moved from slot `from` to the free slot `to`
 * (earlier) keeps every slot within `most`; with commit, the move is made
 * in the walk (the caller has checked it first). */
static int mem_move(memtrack *mt, int k, long from, long to, int most, int commit)
{
    int cur = to > 0 ? mt->cur[to - 1] : 0, pend = to > 0 ? mt->pend[to - 1] : 0;
    for (long i = to; i < mt->n; i++) {
        mem_step(mt, i == to ? k : i == from ? -1 : mt->occ[i], &cur, &pend);
        if (cur > most)
            return 0;
        if (i >= from && cur == mt->cur[i] && pend == mt->pend[i])
            break; /* the rest of the walk is the kept one */
        if (commit)
            mt->cur[i] = cur, mt->pend[i] = pend;
    }
    if (commit) {
        mt->occ[to] = (signed char)k;
        mt->occ[from] = -1;
    }
    return 1;
}

/* The earliest slot unit (r, k, mb) may take: after its inputs' slots. */
static long earliest(const vp *g, int r, int k, int mb)
{
    const plan *s = &g->s[r];
    long deps = -1;
    if ((k == 0 || k == 2) && r > 0)
        deps = g->s[r - 1].t[k][mb];
    if ((k == 1 || k == 3) && r + 1 < g->p && g->s[r + 1].t[k][mb] > deps)
        deps = g->s[r + 1].t[k][mb];
    if (k > 0 && k < 4 && s->t[k - 1][mb] > deps)
        deps = s->t[k - 1][mb];
    if (k == 4) { /* after the mb-th B of either chunk: both lists ascend */
        int i2 = 0, i3 = 0;
        long b = -1;
        for (int n = 0; n <= mb; n++)
            b = i3 >= s->len[3] || (i2 < s->len[2] && s->t[2][i2] < s->t[3][i3]) ? s->t[2][i2++]
                                                                               : s->t[3][i3++];
        deps = b > deps ? b : deps;
    }
    if (mb > 0 && s->t[k][mb - 1] > deps)
        deps = s->t[k][mb - 1];
    return deps + 1;
}

/* Global slot order: (slot, rank, kind, microbatch), as zbv_greedy.py's
 * min.  The ranks sit in a heap by their next unit's slot; a walk takes the
 * top, works on that unit (advancing its list, perhaps moving it to another
 * slot) and asks again, which refreshes only that rank: the other ranks'
 * next units are untouched. */
typedef struct gorder {
    const vp *g;
    int kinds, last;      /* the rank given out last, -1 before the first */
    int *const *ptr;      /* [p][kind]: the next unit of each list */
    rankheap h;
} gorder;

/* Rank r's next unit into the heap (or out, when its lists are done). */
static void go_head(gorder *o, int r)
{
    int k = next_of(&o->g->s[r], o->kinds, o->ptr[r]);
    if (k < 0)
        rankheap_remove(&o->h, r);
    else /* slots are far below 2^53: exact as doubles */
        rankheap_set(&o->h, r, (double)o->g->s[r].t[k][o->ptr[r][k]]);
}

static void go_init(gorder *o, const vp *g, int kinds, int *const *ptr)
{
    *o = (gorder){.g = g, .kinds = kinds, .last = -1, .ptr = ptr};
    rankheap_init(&o->h, g->p);
    for (int r = 0; r < g->p; r++)
        go_head(o, r);
}

/* The next unit's kind and *rank; -1 when every list is done. */
static int go_next(gorder *o, int *rank)
{
    if (o->last >= 0) /* the top was given out: its rank moves on */
        go_head(o, o->last);
    int r = rankheap_top(&o->h);
    o->last = r;
    if (r < 0)
        return -1;
    *rank = r;
    return next_of(&o->g->s[r], o->kinds, o->ptr[r]);
}

static int **pointers(int p)
{
    int **ptr = cs_xrealloc(NULL, sizeof *ptr * (size_t)p);
    for (int r = 0; r < p; r++)
        ptr[r] = calloc(KINDS, sizeof **ptr);
    return ptr;
}

static void free_pointers(int **ptr, int p)
{
    for (int r = 0; r < p; r++)
        free(ptr[r]);
    free(ptr);
}

/* Runs every unit as early as its inputs and its rank let it, in slot
 * order, with unit time 1; each unit's slot becomes its start; and
 * out[r] (when given) gets rank r's units in that order. */
static void run_eager(vp *g, schedule_unit *out)
{
    int p = g->p, kinds = g->s[0].kinds, **ptr = pointers(p);
    size_t per = (size_t)2 * g->m;
    long *end = cs_xrealloc(NULL, sizeof *end * (size_t)p * KINDS * per);
    long *rank_free = calloc((size_t)p, sizeof *rank_free);
    int *n_out = calloc((size_t)p, sizeof *n_out);
#define END(r, k, mb) end[((size_t)(r) * KINDS + (size_t)(k)) * per + (size_t)(mb)]
    int r, k;
    gorder o;
    go_init(&o, g, kinds, ptr);
    while ((k = go_next(&o, &r)) >= 0) {
        int mb = ptr[r][k]++;
        long t = rank_free[r];
        if ((k == 0 || k == 2) && r > 0 && END(r - 1, k, mb) > t)
            t = END(r - 1, k, mb);
        if ((k == 1 || k == 3) && r + 1 < p && END(r + 1, k, mb) > t)
            t = END(r + 1, k, mb);
        if (k > 0 && k < 4 && END(r, k - 1, mb) > t)
            t = END(r, k - 1, mb);
        if (mb > 0 && END(r, k, mb - 1) > t)
            t = END(r, k, mb - 1);
        END(r, k, mb) = rank_free[r] = t + 1;
        g->s[r].t[k][mb] = t;
        if (out) {
            int cat = k / 2, lane = k % 2, chunk = cat == 0 ? lane : 1 - lane;
            out[(size_t)r * 3 * per + (size_t)n_out[r]++] = (schedule_unit){
                cat == 0 ? SCHEDULE_F : cat == 1 ? SCHEDULE_B : SCHEDULE_W, mb, chunk, 0};
        }
    }
#undef END
    rankheap_free(&o.h);
    free(end);
    free(rank_free);
    free(n_out);
    free_pointers(ptr, p);
}

/* The squeeze (zbv_greedy.py reorder): units outside the steady middle move
 * to the earliest free slot after their inputs that keeps the peak memory,
 * then run_eager compacts every rank. */
static void squeeze(vp *g, int with_w)
{
    int p = g->p, most = 0;
    memtrack *mt = cs_xrealloc(NULL, sizeof *mt * (size_t)p);
    for (int r = 0; r < p; r++) {
        if (with_w)
            put_w(&g->s[r], 0);
        int mem = mem_build(&mt[r], &g->s[r]);
        most = mem > most ? mem : most;
    }
    int kinds = g->s[0].kinds, **ptr = pointers(p), phase = 0, r, k;
    char **busy = cs_xrealloc(NULL, sizeof *busy * (size_t)p);
    for (int i = 0; i < p; i++)
        busy[i] = calloc((size_t)last_slot(&g->s[i]) + 2, 1);
    gorder o;
    go_init(&o, g, kinds, ptr);
    while ((k = go_next(&o, &r)) >= 0) {
        plan *s = &g->s[r];
        int mb = ptr[r][k]++;
        long slot = s->t[k][mb];
        if (k == 3 && r == 0 && phase == 0)
            phase = 1; /* the turn of the V reached rank 0 */
        int keep = phase == 1 || (phase == 0 && !with_w);
        if (phase == 1 && k == 0 && mb == g->s[0].len[0] - 1)
            phase = 2; /* rank 0's last F: the cool-down begins */
        if (!keep)
            for (long t = earliest(g, r, k, mb); t < slot; t++)
                if (!busy[r][t] && mem_move(&mt[r], k, slot, t, most, 0)) {
                    mem_move(&mt[r], k, slot, t, most, 1);
                    s->t[k][mb] = t;
                    break;
                }
        busy[r][s->t[k][mb]] = 1;
    }
    rankheap_free(&o.h);
    for (int i = 0; i < p; i++) {
        free(busy[i]);
        mem_free(&mt[i]);
    }
    free(busy);
    free(mt);
    free_pointers(ptr, p);
    for (int i = 0; i < p; i++)
        if (!with_w)
            put_w(&g->s[i], 0);
    run_eager(g, NULL);
}

/* Slots of microbatch 0's four units on rank i (the paper's stable
 * patterns, as zbv_greedy.py writes them). */
static void pattern(layout_schedule s, int p, int i, long off[4])
{
    if (s == LAYOUT_SCHEDULE_V_MIN) {
        long gap = p % 3 == 0 ? 2 : 0;
        off[0] = i, off[1] = 2L * p - i - 1, off[2] = 2L * p + gap + i;
        off[3] = 4L * p + gap - i - 1;
    } else {
        long gap = p % 2 == 0 ? 3 : 0;
        off[0] = 2L * i, off[1] = 3L * p - i - 2, off[2] = 3L * p + gap + 2L * i - 1;
        off[3] = 6L * p + gap - i - 2;
    }
}

void schedule_vpattern_orders(const layout_desc *l, schedule_unit *out)
{
    vp g = {.p = l->pp, .m = layout_microbatches(l)};
    g.s = calloc((size_t)g.p, sizeof *g.s);
    for (int r = 0; r < g.p; r++) {
        long off[4];
        pattern(l->schedule, g.p, r, off);
        g.s[r].kinds = 4;
        for (int k = 0; k < KINDS; k++)
            g.s[r].t[k] = cs_xrealloc(NULL, sizeof(long) * 2 * (size_t)g.m);
        for (int k = 0; k < 4; k++)
            for (int mb = 0; mb < g.m; mb++)
                push(&g.s[r], k, off[k] + 6L * mb);
    }
    squeeze(&g, 1);
    for (int r = 0; r < g.p; r++)
        g.s[r].kinds = 4; /* W decided again below */
    squeeze(&g, 0);
    for (int r = 0; r < g.p; r++) {
        g.s[r].kinds = 4;
        put_w(&g.s[r], 1);
    }
    run_eager(&g, out);
    for (int r = 0; r < g.p; r++)
        for (int k = 0; k < KINDS; k++)
            free(g.s[r].t[k]);
    free(g.s);
}
