/* replay: finding the rank files, running the graph replay_build makes of
 * them, and reading back where each rank's time went (see replay.h). */
#include "replay.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cs_alloc.h"
#include "replay_private.h"
#include "units.h"

/* ---- finding the files -------------------------------------------------------- */

/* NAME.R.et: the prefix length and the rank, or -1. */
static int split_name(const char *file, size_t *prefix_len)
{
    size_t n = strlen(file);
    if (n < 6 || strcmp(file + n - 3, ".et") != 0)
        return -1;
    size_t end = n - 3, start = end;
    while (start > 0 && file[start - 1] >= '0' && file[start - 1] <= '9')
        start--;
    if (start == end || start < 2 || file[start - 1] != '.' || end - start > 6)
        return -1;
    *prefix_len = start - 1;
    return atoi(file + start);
}

static char *join_path(const char *dir, const char *name, size_t name_len)
{
    size_t n = strlen(dir) + name_len + 2;
    char *p = cs_xrealloc(NULL, n);
    snprintf(p, n, "%s/%.*s", dir, (int)name_len, name);
    return p;
}

/* The one prefix of dir's NAME.R.et files and the highest rank. */
static int scan_dir(const char *dir, char **prefix, int *ranks, cs_err *err)
{
    DIR *d = opendir(dir);
    if (!d)
        return cs_fail(err, "%s: cannot open the folder", dir);
    char *name = NULL;
    int max_rank = -1, rc = 0;
    struct dirent *e;
    while (rc == 0 && (e = readdir(d)) != NULL) {
        size_t plen;
        int r = split_name(e->d_name, &plen);
        if (r < 0)
            continue;
        if (!name) {
            name = cs_xrealloc(NULL, plen + 1);
            memcpy(name, e->d_name, plen);
            name[plen] = 0;
        } else if (strlen(name) != plen || strncmp(name, e->d_name, plen) != 0) {
            rc = cs_fail(err, "%s: traces of two names (%s.*.et and %.*s.*.et): give one prefix, "
                         "DIR/NAME", dir, name, (int)plen, e->d_name);
        }
        if (r > max_rank)
            max_rank = r;
    }
    closedir(d);
    if (rc == 0 && !name)
        rc = cs_fail(err, "%s: no Chakra trace files (NAME.RANK.et) in the folder", dir);
    if (rc == 0)
        *prefix = join_path(dir, name, strlen(name));
    free(name);
    *ranks = max_rank + 1;
    return rc;
}

/* A prefix DIR/NAME given directly: the ranks present from 0 up. */
static int scan_prefix(const char *where, char **prefix, int *ranks, cs_err *err)
{
    *prefix = cs_xrealloc(NULL, strlen(where) + 1);
    strcpy(*prefix, where);
    *ranks = 0;
    for (;;) {
        char path[4096];
        struct stat st;
        snprintf(path, sizeof path, "%s.%d.et", where, *ranks);
        if (stat(path, &st) != 0)
            break;
        ++*ranks;
    }
    if (*ranks == 0)
        return cs_fail(err, "%s: neither a folder nor the prefix of %s.0.et", where, where);
    return 0;
}

int replay_load(const char *where, replay_traces *out, cs_err *err)
{
    memset(out, 0, sizeof *out);
    struct stat st;
    int is_dir = stat(where, &st) == 0 && S_ISDIR(st.st_mode);
    int rc = is_dir ? scan_dir(where, &out->prefix, &out->ranks, err)
                    : scan_prefix(where, &out->prefix, &out->ranks, err);
    if (rc != 0)
        return -1;
    out->paths = calloc((size_t)out->ranks, sizeof *out->paths);
    out->rank = calloc((size_t)out->ranks, sizeof *out->rank);
    if (!out->paths || !out->rank)
        abort();
    for (int r = 0; r < out->ranks; r++) {
        size_t n = strlen(out->prefix) + 16;
        out->paths[r] = cs_xrealloc(NULL, n);
        snprintf(out->paths[r], n, "%s.%d.et", out->prefix, r);
        if (stat(out->paths[r], &st) != 0)
            return cs_fail(err, "%s: missing: the traces have ranks up to %d, rank %d has no file",
                           out->paths[r], out->ranks - 1, r);
        if (chakra_read(out->paths[r], &out->rank[r], err) != 0)
            return -1;
    }
    return 0;
}

void replay_traces_free(replay_traces *t)
{
    for (int r = 0; r < t->ranks; r++) {
        if (t->paths)
            free(t->paths[r]);
        if (t->rank)
            chakra_free(&t->rank[r]);
    }
    free(t->paths);
    free(t->rank);
    free(t->prefix);
    memset(t, 0, sizeof *t);
}

/* ---- where each rank's time went ---------------------------------------------- */

typedef struct span {
    uint64_t start, end;
} span;

static int by_start(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->start < y->start ? -1 : x->start > y->start;
}

/* Merges spans in place into disjoint ones; returns how many. */
static int merge(span *s, int n)
{
    if (n > 1)
        qsort(s, (size_t)n, sizeof *s, by_start);
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (m > 0 && s[i].start <= s[m - 1].end) {
            if (s[i].end > s[m - 1].end)
                s[m - 1].end = s[i].end;
        } else {
            s[m++] = s[i];
        }
    }
    return m;
}

static uint64_t length(const span *s, int n)
{
    uint64_t t = 0;
    for (int i = 0; i < n; i++)
        t += s[i].end - s[i].start;
    return t;
}

/* Length of a's disjoint spans not covered by b's. */
static uint64_t uncovered(const span *a, int na, const span *b, int nb)
{
    uint64_t t = 0;
    int j = 0;
    for (int i = 0; i < na; i++) {
        uint64_t at = a[i].start;
        while (j < nb && b[j].end <= at)
            j++;
        for (int k = j; k < nb && b[k].start < a[i].end && at < a[i].end; k++) {
            if (b[k].start > at)
                t += b[k].start - at;
            if (b[k].end > at)
                at = b[k].end;
        }
        if (at < a[i].end)
            t += a[i].end - at;
    }
    return t;
}

typedef struct spans {
    span *s[3]; /* GPU operators, communication, everything */
    int n[3], cap[3];
} spans;

static void push(spans *sp, int which, span v)
{
    CS_GROW(sp->s[which], sp->cap[which], sp->n[which] + 1);
    sp->s[which][sp->n[which]++] = v;
}

static void read_rank(const replay_graph *rg, const int *tasks, int ntasks, replay_rank *out)
{
    spans sp;
    memset(&sp, 0, sizeof sp);
    memset(out, 0, sizeof *out);
    uint64_t end = 0;
    double sum[RR_P2P + 1] = {0};
    for (int k = 0; k < ntasks; k++) {
        int t = tasks[k];
        span v = {exec_task_start_ps(rg->g, t), exec_task_end_ps(rg->g, t)};
        int role = rg->role[t];
        end = v.end > end ? v.end : end;
        sum[role] += units_ps_to_s(v.end - v.start);
        if (role == RR_GPU)
            push(&sp, 0, v);
        if (role == RR_COLL || role == RR_P2P)
            push(&sp, 1, v);
        push(&sp, 2, v);
    }
    int ngpu = merge(sp.s[0], sp.n[0]), ncomm = merge(sp.s[1], sp.n[1]);
    int nall = merge(sp.s[2], sp.n[2]);
    out->end_s = units_ps_to_s(end);
    out->compute_s = sum[RR_GPU];
    out->cpu_s = sum[RR_CPU];
    out->memory_s = sum[RR_MEMORY];
    out->comm_s = units_ps_to_s(length(sp.s[1], ncomm));
    out->exposed_comm_s = units_ps_to_s(uncovered(sp.s[1], ncomm, sp.s[0], ngpu));
    out->idle_s = out->end_s - units_ps_to_s(length(sp.s[2], nall));
    for (int w = 0; w < 3; w++)
        free(sp.s[w]);
}

/* Each rank's tasks, then its breakdown. */
static void read_ranks(const replay_graph *rg, replay_result *out)
{
    int ranks = out->ranks;
    int *count = calloc((size_t)ranks + 1, sizeof *count), *first = calloc((size_t)ranks + 2, sizeof *first);
    if (!count || !first)
        abort();
    for (int i = 0; i < rg->nranks_used; i++)
        first[rg->ranks[i] + 1]++;
    for (int r = 0; r < ranks; r++)
        first[r + 1] += first[r];
    int *tasks = cs_xrealloc(NULL, sizeof *tasks * (size_t)(rg->nranks_used + 1));
    for (int t = 0; t < rg->ntasks; t++)
        for (int i = rg->ranks_first[t]; i < rg->ranks_first[t + 1]; i++) {
            int r = rg->ranks[i];
            tasks[first[r] + count[r]++] = t;
        }
    out->rank = calloc((size_t)ranks, sizeof *out->rank);
    if (!out->rank)
        abort();
    for (int r = 0; r < ranks; r++)
        read_rank(rg, tasks + first[r], count[r], &out->rank[r]);
    free(count), free(first), free(tasks);
}

/* ---- the timeline --------------------------------------------------------------- */

static tl_kind kind_of(int role)
{
    switch (role) {
    case RR_COLL: return TL_COLLECTIVE;
    case RR_P2P: return TL_P2P;
    case RR_MEMORY: return TL_MEMORY_OP;
    default: return TL_COMPUTE;
    }
}

static void record(const replay_graph *rg, int ranks, uint64_t makespan_ps, timeline *tl)
{
    timeline_init(tl, 1, 1, 1);
    snprintf(tl->title, sizeof tl->title, "Chakra replay, %d ranks", ranks);
    tl->gpus = ranks;
    tl->makespan_ps = makespan_ps;
    int nstreams = exec_stream_count(rg->g);
    int *track = cs_xrealloc(NULL, sizeof *track * (size_t)(nstreams + ranks + 1));
    for (int s = 0; s < nstreams; s++)
        track[s] = timeline_add_track(tl, exec_stream_gpu(rg->g, s), 0, exec_stream_label(rg->g, s));
    for (int r = 0; r < ranks; r++)
        track[nstreams + r] = -1; /* comm tracks, added when first used */
    for (int t = 0; t < rg->ntasks; t++) {
        int s = exec_task_stream(rg->g, t);
        tl_slice sl = {-1, kind_of(rg->role[t]), 0, -1, -1, -1, -1, exec_task_start_ps(rg->g, t),
                       exec_task_end_ps(rg->g, t), "", 0};
        snprintf(sl.name, sizeof sl.name, "%s", exec_task_name(rg->g, t));
        if (s >= 0) {
            sl.track = track[s];
            timeline_add_slice(tl, &sl);
            continue;
        }
        if (rg->role[t] == RR_NONE)
            continue;
        for (int i = rg->ranks_first[t]; i < rg->ranks_first[t + 1]; i++) {
            int r = rg->ranks[i];
            if (track[nstreams + r] < 0)
                track[nstreams + r] = timeline_add_track(tl, r, 0, "comm");
            sl.track = track[nstreams + r];
            timeline_add_slice(tl, &sl);
        }
    }
    free(track);
}

int replay_run(const replay_traces *tr, const replay_input *in, replay_result *out, timeline *tl,
               cs_err *err)
{
    memset(out, 0, sizeof *out);
    if (tl)
        memset(tl, 0, sizeof *tl);
    replay_graph rg;
    int rc = replay_build(tr, in, &rg, out, err);
    exec_result res = {0};
    if (rc == 0 && exec_run(rg.g, in->topology, &res, err) != 0)
        rc = cs_fail_prefix(err, "%s: the traces deadlock: ", tr->prefix);
    if (rc == 0) {
        out->iteration_s = units_ps_to_s(res.makespan_ps);
        out->ranks = tr->ranks;
        out->tasks = res.tasks;
        out->events = res.events;
        read_ranks(&rg, out);
        if (tl)
            record(&rg, tr->ranks, res.makespan_ps, tl);
    }
    replay_graph_free(&rg);
    return rc;
}

void replay_result_free(replay_result *r)
{
    free(r->rank);
    memset(r, 0, sizeof *r);
}
