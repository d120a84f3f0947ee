/* parmap: items over threads, or over ranks through a backend (parmap.h). */
#include "parmap.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"

/* Process-wide, set once at start-up before any map runs (main). */
static const parmap_backend *backend;
static int default_threads = 1;
static _Thread_local int depth; /* items of maps this thread is inside */

void parmap_set_backend(const parmap_backend *b) { backend = b; }
int parmap_rank(void) { return backend ? backend->rank : 0; }
int parmap_size(void) { return backend ? backend->size : 1; }
void parmap_share(void *buf, size_t bytes)
{
    if (backend && backend->size > 1 && depth == 0)
        backend->share(buf, bytes);
}
int parmap_nested(void) { return depth > 0; }
void parmap_set_default_threads(int threads) { default_threads = threads > 0 ? threads : 1; }
int parmap_default_threads(void) { return default_threads; }

void parmap_run_item(const parmap_job *job, long index, void *out)
{
    memset(out, 0, job->out_size);
    depth++;
    job->item(job->ctx, index, out);
    depth--;
}

static char *out_of(const parmap_job *job, void *outs, long i)
{
    return (char *)outs + (size_t)i * job->out_size;
}

/* ---- on this thread ---- */

static void run_serial(const parmap_job *job, void *outs)
{
    for (long i = 0; i < job->n; i++) {
        parmap_run_item(job, i, out_of(job, outs, i));
        if (job->commit)
            job->commit(job->ctx, i, out_of(job, outs, i));
    }
}

/* ---- over threads: each takes the next item; the caller commits ---- */

typedef struct pool {
    const parmap_job *job;
    void *outs;
    long next;
    unsigned char *done;
    pthread_mutex_t mu;
    pthread_cond_t cv;
} pool;

static void *pool_worker(void *arg)
{
    pool *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        long i = p->next < p->job->n ? p->next++ : -1;
        pthread_mutex_unlock(&p->mu);
        if (i < 0)
            return NULL;
        parmap_run_item(p->job, i, out_of(p->job, p->outs, i));
        pthread_mutex_lock(&p->mu);
        p->done[i] = 1;
        pthread_cond_signal(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
}

/* Commits finished items in order until all n are; waits on the pool. */
static void pool_commit_all(pool *p)
{
    const parmap_job *job = p->job;
    pthread_mutex_lock(&p->mu);
    for (long c = 0; c < job->n; c++) {
        while (!p->done[c])
            pthread_cond_wait(&p->cv, &p->mu);
        if (job->commit) {
            pthread_mutex_unlock(&p->mu); /* a commit may write a file: let workers go on */
            job->commit(job->ctx, c, out_of(job, p->outs, c));
            pthread_mutex_lock(&p->mu);
        }
    }
    pthread_mutex_unlock(&p->mu);
}

static void run_threads(const parmap_job *job, void *outs, int nthreads)
{
    pool p = {job, outs, 0, calloc((size_t)job->n, 1), PTHREAD_MUTEX_INITIALIZER,
              PTHREAD_COND_INITIALIZER};
    pthread_t *ts = cs_xrealloc(NULL, sizeof *ts * (size_t)nthreads);
    if (!p.done) {
        fprintf(stderr, "clustersim: out of memory\n");
        abort();
    }
    for (int k = 0; k < nthreads; k++)
        if (pthread_create(&ts[k], NULL, pool_worker, &p) != 0) {
            fprintf(stderr, "clustersim: cannot start a thread\n");
            abort();
        }
    pool_commit_all(&p);
    for (int k = 0; k < nthreads; k++)
        pthread_join(ts[k], NULL);
    pthread_mutex_destroy(&p.mu);
    pthread_cond_destroy(&p.cv);
    free(ts);
    free(p.done);
}

void parmap_run(const parmap_job *job, void *outs)
{
    if (job->n <= 0)
        return;
    if (depth > 0) {
        run_serial(job, outs);
        return;
    }
    if (backend && backend->size > 1) {
        backend->run(job, outs);
        return;
    }
    int threads = job->threads > 0 ? job->threads : default_threads;
    if (threads > job->n)
        threads = (int)job->n;
    if (threads <= 1)
        run_serial(job, outs);
    else
        run_threads(job, outs, threads);
}
