/* parmap: the one place where independent pieces of work (Monte Carlo runs,
 * search layouts, sweep points) are spread over threads or MPI ranks.
 *
 * A map over item indices 0..n-1: item(ctx, i, out) fills out_size bytes
 * for item i from i alone, so the results, stored by index, are the same
 * however the items were divided.  Callers reduce the results in index order
 * afterwards: a floating-point sum is then the same bytes on 1 thread, 4
 * threads or 4 ranks.  Items are handed out dynamically (a thread or rank
 * that finishes early takes the next ones).
 *
 * Without a backend the items run on `threads` threads of this process.  A
 * backend (sim/par_mpi under mpirun) divides them over ranks instead: every
 * rank runs the same command (SPMD), calls parmap_run at the same points
 * with the same arguments, and receives every result (gathered on rank 0,
 * then broadcast), so all ranks go on identically; only rank 0 commits.
 * A parmap_run inside an item (a sweep point that runs a Monte Carlo study)
 * runs its items on the calling thread: the outer map already keeps every
 * thread or rank busy. */
#ifndef CS_PARMAP_H
#define CS_PARMAP_H

#include <stddef.h>

typedef void (*parmap_item_fn)(void *ctx, long index, void *out);
/* Called on rank 0 only, from the calling thread, in index order, as soon
 * as every item before index has finished too. */
typedef void (*parmap_commit_fn)(void *ctx, long index, const void *out);
/* Names item index for a message when the rank running it dies. */
typedef void (*parmap_label_fn)(void *ctx, long index, char *buf, size_t n);

typedef struct parmap_job {
    long n;                   /* items */
    size_t out_size;          /* bytes of one item's result */
    parmap_item_fn item;
    void *ctx;
    parmap_commit_fn commit;  /* may be NULL */
    parmap_label_fn label;    /* may be NULL: the index names the item */
    const char *what;         /* "faults run", "sweep point", ... */
    int threads;              /* without a backend; 0: parmap_default_threads() */
    int chunk_max;            /* items handed out at once at most; 0: no limit */
} parmap_job;

/* Runs the map; outs holds n * out_size bytes (zeroed before each item). */
void parmap_run(const parmap_job *job, void *outs);

/* A backend that divides the items over processes. */
typedef struct parmap_backend {
    void (*run)(const parmap_job *job, void *outs);
    void (*share)(void *buf, size_t bytes); /* rank 0's bytes to every rank */
    int rank, size;
} parmap_backend;

/* Set once at start-up, before any map (NULL: threads). */
void parmap_set_backend(const parmap_backend *b);
/* This process's rank and the number of ranks (0 and 1 without a backend). */
int parmap_rank(void);
int parmap_size(void);
/* Every rank receives rank 0's buf (something only rank 0 may read, such as
 * a file it is about to write); nothing without a backend. */
void parmap_share(void *buf, size_t bytes);
/* 1 while this thread runs an item of a map. */
int parmap_nested(void);

/* Threads when a job gives none (set once at start-up; default 1). */
void parmap_set_default_threads(int threads);
int parmap_default_threads(void);

/* For backends: runs items of job on this thread, marking nesting. */
void parmap_run_item(const parmap_job *job, long index, void *out);

#endif
