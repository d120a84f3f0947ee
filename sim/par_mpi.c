/* par_mpi: parmap over MPI ranks (see par_mpi.h). */
#include "par_mpi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Launched by mpirun or srun with more than one rank? */
static int launched_ranks(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE",
                                       "MPI_LOCALNRANKS"};
    for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
        const char *v = getenv(vars[i]);
        if (v && atoi(v) > 1)
            return atoi(v);
    }
    return getenv("PMIX_RANK") ? 2 : 1; /* srun --mpi=pmix sets the rank, maybe not the size */
}

#ifndef CS_HAVE_MPI

int par_mpi_built(void) { return 0; }

int par_mpi_start(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    if (launched_ranks() <= 1)
        return 0;
    const char *rank = getenv("OMPI_COMM_WORLD_RANK") ? getenv("OMPI_COMM_WORLD_RANK")
                       : getenv("PMIX_RANK")          ? getenv("PMIX_RANK")
                                                      : getenv("PMI_RANK");
    if (!rank || atoi(rank) == 0)
        fprintf(stderr, "clustersim: built without MPI (meson -Dmpi=disabled, or no Open MPI "
                        "when it was configured): run it without mpirun; it uses threads\n");
    return -1;
}

int par_mpi_finish(int rc) { return rc; }

#else

#include <mpi.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "cs_alloc.h"
#include "parmap.h"

enum { TAG_WORK = 1, TAG_RESULT = 2 };
#define LABEL_MAX 200
#define CHUNK_BYTES (16L << 20) /* one message's results at most */

static parmap_backend mpi_backend;
static int started;
static int stderr_fd = 2;              /* the real stderr, kept for the messages below */
static char current[LABEL_MAX + 64];   /* what this rank runs, for a fatal signal */
static char *assigned;                 /* rank 0: per rank, what it was given */
static int nranks;

int par_mpi_built(void) { return 1; }

static void say(int fd, const char *s)
{
    ssize_t r = write(fd, s, strlen(s));
    (void)r;
}

/* A rank that crashes names the item it was on, then dies as it would have. */
static char fatal_head[96];             /* "clustersim: rank R died on " */

static void on_fatal(int sig)
{
    say(stderr_fd, fatal_head);
    say(stderr_fd, current[0] ? current : "no item (between maps)");
    say(stderr_fd, "\n");
    signal(sig, SIG_DFL);
    raise(sig);
}

/* mpirun stops every rank when one dies: rank 0 says what each rank had. */
static void on_term(int sig)
{
    say(stderr_fd, "clustersim: the job was stopped (a rank died or was killed); the ranks were "
                   "on:\n");
    if (current[0]) {
        say(stderr_fd, "  rank 0: ");
        say(stderr_fd, current);
        say(stderr_fd, "\n");
    }
    for (int r = 0; assigned && r < nranks; r++) {
        const char *a = assigned + (size_t)r * (LABEL_MAX + 64);
        if (a[0]) {
            say(stderr_fd, "  ");
            say(stderr_fd, a);
            say(stderr_fd, "\n");
        }
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

static void describe(const parmap_job *job, long first, long count, char *buf, size_t n)
{
    char label[LABEL_MAX] = "";
    if (job->label)
        job->label(job->ctx, first, label, sizeof label);
    const char *what = job->what ? job->what : "item";
    if (count > 1)
        snprintf(buf, n, "%ss %ld-%ld (%s %ld%s%s)", what, first + 1, first + count, what,
                 first + 1, label[0] ? ": " : "", label);
    else
        snprintf(buf, n, "%s %ld%s%s", what, first + 1, label[0] ? ": " : "", label);
}

static void run_one(const parmap_job *job, long i, void *out)
{
    describe(job, i, 1, current, sizeof current);
    parmap_run_item(job, i, out);
    current[0] = '\0';
}

/* ---- rank 0: a local thread runs items while the main thread dispatches ---- */

typedef struct master {
    const parmap_job *job;
    char *outs;
    long next;                 /* the first item nobody has */
    unsigned char *done;
    pthread_mutex_t mu;
} master;

static char *out_at(const master *m, long i) { return m->outs + (size_t)i * m->job->out_size; }

static void *local_worker(void *arg)
{
    master *m = arg;
    for (;;) {
        pthread_mutex_lock(&m->mu);
        long i = m->next < m->job->n ? m->next++ : -1;
        pthread_mutex_unlock(&m->mu);
        if (i < 0)
            return NULL;
        run_one(m->job, i, out_at(m, i));
        pthread_mutex_lock(&m->mu);
        m->done[i] = 1;
        pthread_mutex_unlock(&m->mu);
    }
}

/* Guided self-scheduling: a share of what is left, smaller as it runs out. */
static long take_chunk(master *m, long *first)
{
    const parmap_job *job = m->job;
    pthread_mutex_lock(&m->mu);
    long left = job->n - m->next, count = left / (2L * nranks);
    long cap = CHUNK_BYTES / (long)(job->out_size ? job->out_size : 1);
    if (job->chunk_max > 0 && cap > job->chunk_max)
        cap = job->chunk_max;
    count = count < 1 ? 1 : count > cap ? cap : count;
    count = count > left ? left : count;
    *first = m->next;
    m->next += count;
    pthread_mutex_unlock(&m->mu);
    return count;
}

/* A worker's results (maybe none: its first request); sends it more or stop. */
static int serve(master *m, int src)
{
    MPI_Status st;
    int bytes;
    MPI_Probe(src, TAG_RESULT, MPI_COMM_WORLD, &st);
    MPI_Get_count(&st, MPI_BYTE, &bytes);
    char *msg = cs_xrealloc(NULL, (size_t)bytes);
    MPI_Recv(msg, bytes, MPI_BYTE, src, TAG_RESULT, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    long hdr[2];
    memcpy(hdr, msg, sizeof hdr);
    memcpy(out_at(m, hdr[0]), msg + sizeof hdr, (size_t)hdr[1] * m->job->out_size);
    free(msg);
    pthread_mutex_lock(&m->mu);
    memset(m->done + hdr[0], 1, (size_t)hdr[1]);
    pthread_mutex_unlock(&m->mu);
    long work[2];
    work[1] = take_chunk(m, &work[0]);
    char *slot = assigned + (size_t)src * (LABEL_MAX + 64);
    int n = snprintf(slot, LABEL_MAX + 64, "rank %d: ", src);
    if (work[1])
        describe(m->job, work[0], work[1], slot + n, (size_t)(LABEL_MAX + 64 - n));
    else
        slot[0] = '\0';
    MPI_Send(work, 2, MPI_LONG, src, TAG_WORK, MPI_COMM_WORLD);
    return work[1] > 0;
}

static void commit_ready(master *m, long *committed)
{
    for (;;) {
        pthread_mutex_lock(&m->mu);
        int ready = *committed < m->job->n && m->done[*committed];
        pthread_mutex_unlock(&m->mu);
        if (!ready)
            return;
        if (m->job->commit)
            m->job->commit(m->job->ctx, *committed, out_at(m, *committed));
        (*committed)++;
    }
}

static void run_master(const parmap_job *job, void *outs)
{
    master m = {job, outs, 0, calloc((size_t)job->n, 1), PTHREAD_MUTEX_INITIALIZER};
    if (!m.done)
        abort();
    pthread_t local;
    if (pthread_create(&local, NULL, local_worker, &m) != 0)
        abort();
    int active = nranks - 1;
    long committed = 0;
    while (committed < job->n || active > 0) {
        int flag = 0;
        MPI_Status st;
        MPI_Iprobe(MPI_ANY_SOURCE, TAG_RESULT, MPI_COMM_WORLD, &flag, &st);
        if (flag && !serve(&m, st.MPI_SOURCE))
            active--;
        commit_ready(&m, &committed);
        if (!flag) { /* poll gently: rank 0's own items share this core */
            struct timespec t = {0, 200000};
            nanosleep(&t, NULL);
        }
    }
    pthread_join(local, NULL);
    pthread_mutex_destroy(&m.mu);
    free(m.done);
}

/* Waits for a request without spinning: a rank that waits (for work, for the
 * broadcast at the end) would otherwise busy-poll a core that another rank
 * on the same machine could compute on. */
static void wait_gently(MPI_Request *req)
{
    int done = 0;
    for (;;) {
        MPI_Test(req, &done, MPI_STATUS_IGNORE);
        if (done)
            return;
        struct timespec t = {0, 100000};
        nanosleep(&t, NULL);
    }
}

/* ---- ranks 1..N-1 ---- */

static void run_worker(const parmap_job *job)
{
    long hdr[2] = {0, 0};
    char *msg = cs_xrealloc(NULL, sizeof hdr);
    memcpy(msg, hdr, sizeof hdr);
    for (;;) {
        MPI_Send(msg, (int)(sizeof hdr + (size_t)hdr[1] * job->out_size), MPI_BYTE, 0, TAG_RESULT,
                 MPI_COMM_WORLD);
        MPI_Request req;
        MPI_Irecv(hdr, 2, MPI_LONG, 0, TAG_WORK, MPI_COMM_WORLD, &req);
        wait_gently(&req);
        if (hdr[1] == 0)
            break;
        msg = cs_xrealloc(msg, sizeof hdr + (size_t)hdr[1] * job->out_size);
        memcpy(msg, hdr, sizeof hdr);
        for (long i = 0; i < hdr[1]; i++)
            run_one(job, hdr[0] + i, msg + sizeof hdr + (size_t)i * job->out_size);
    }
    free(msg);
}

/* Every rank leaves with every result. */
static void broadcast(void *outs, size_t bytes)
{
    for (size_t at = 0; at < bytes; at += (size_t)CHUNK_BYTES) {
        size_t n = bytes - at < (size_t)CHUNK_BYTES ? bytes - at : (size_t)CHUNK_BYTES;
        MPI_Request req;
        MPI_Ibcast((char *)outs + at, (int)n, MPI_BYTE, 0, MPI_COMM_WORLD, &req);
        wait_gently(&req);
    }
}

static void mpi_run(const parmap_job *job, void *outs)
{
    if (mpi_backend.rank == 0)
        run_master(job, outs);
    else
        run_worker(job);
    broadcast(outs, (size_t)job->n * job->out_size);
}

/* Ranks other than 0 print nothing: their stdout and stderr go nowhere (the
 * real stderr stays open for a dying rank's message). */
static void quiet_other_ranks(void)
{
    stderr_fd = dup(2);
    if (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr))
        stderr_fd = 2;
}

int par_mpi_start(int *argc, char ***argv)
{
    if (launched_ranks() <= 1)
        return 0;
    int provided;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        fprintf(stderr, "clustersim: MPI_Init failed\n");
        return -1;
    }
    started = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &mpi_backend.rank);
    MPI_Comm_size(MPI_COMM_WORLD, &mpi_backend.size);
    nranks = mpi_backend.size;
    snprintf(fatal_head, sizeof fatal_head, "clustersim: rank %d died on ", mpi_backend.rank);
    mpi_backend.run = mpi_run;
    mpi_backend.share = broadcast;
    parmap_set_backend(&mpi_backend);
    static const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
        signal(fatal[i], on_fatal);
    if (mpi_backend.rank == 0) {
        assigned = calloc((size_t)nranks, LABEL_MAX + 64);
        signal(SIGTERM, on_term);
    } else {
        quiet_other_ranks();
    }
    return 0;
}

int par_mpi_finish(int rc)
{
    if (started) {
        fflush(stdout);
        MPI_Finalize();
        free(assigned);
        assigned = NULL;
    }
    return rc;
}

#endif
