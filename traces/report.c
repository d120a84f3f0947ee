/* report: staged output files (see report.h). */
#include "report.h"

#include <csv.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cs_alloc.h"
#include "parmap.h"

typedef struct staged {
    char *name, *tmp, *final;
    FILE *f;
} staged;

struct report_set {
    char *dir;
    int created_dir;
    int committed; /* report_commit succeeded: the folder is the run's output */
    staged *files;
    int n, cap;
};

/* ---- interrupted runs: the temporaries still staged, their folders ----
 * A signal handler may only call async-signal-safe functions: it reads
 * these fixed tables (filled and emptied by the main flow), unlinks the
 * temporaries and removes the output folders this process created and has
 * not committed into (rmdir only takes an empty one), so an interrupted
 * run leaves neither a temporary nor an empty folder behind. */
#define REPORT_MAX_LIVE 1024
#define REPORT_MAX_LIVE_DIRS 64
static char *volatile live_tmp[REPORT_MAX_LIVE];
static char *volatile live_dir[REPORT_MAX_LIVE_DIRS];

/* Lists p in table (on: once, in the first free slot) or takes every
 * entry of it out (off). */
static void live_set(char *volatile *table, int n, char *p, int on)
{
    for (int i = 0; i < n; i++)
        if (table[i] == p) {
            if (on)
                return; /* listed once: a folder made again is the same name */
            table[i] = NULL;
        }
    for (int i = 0; on && i < n; i++)
        if (!table[i]) {
            table[i] = p;
            return;
        }
}

static void live_add(char *tmp) { live_set(live_tmp, REPORT_MAX_LIVE, tmp, 1); }
static void live_remove(char *tmp) { live_set(live_tmp, REPORT_MAX_LIVE, tmp, 0); }
static void live_dir_set(char *dir, int on) { live_set(live_dir, REPORT_MAX_LIVE_DIRS, dir, on); }

/* The handlers installed before ours (sim/par_mpi's, which names what each
 * rank was on when mpirun stops the job; libFuzzer's, which prints its
 * final statistics when a campaign is stopped): called after the files
 * are gone, with the arguments they were installed to take. */
static const int cleanup_sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGPIPE};
#define NCLEANUP_SIGS (sizeof cleanup_sigs / sizeof cleanup_sigs[0])
static struct sigaction before[NCLEANUP_SIGS];
static volatile sig_atomic_t installed; /* once per process: see report_cleanup_on_signals */

void report_remove_staged(void)
{
    for (int i = 0; i < REPORT_MAX_LIVE; i++)
        if (live_tmp[i])
            unlink(live_tmp[i]);
    for (int i = 0; i < REPORT_MAX_LIVE_DIRS; i++) {
        char *dir = live_dir[i]; /* read once: the main flow may clear it */
        if (dir)
            rmdir(dir); /* async-signal-safe; fails on a folder with files */
    }
}

static void on_signal(int sig, siginfo_t *info, void *context)
{
    report_remove_staged();
    for (size_t i = 0; i < NCLEANUP_SIGS; i++) {
        const struct sigaction *b = &before[i];
        if (cleanup_sigs[i] != sig)
            continue;
        if (b->sa_flags & SA_SIGINFO) {
            if (b->sa_sigaction && b->sa_sigaction != on_signal)
                b->sa_sigaction(sig, info, context); /* libFuzzer's: stats, then _Exit */
        } else if (b->sa_handler != SIG_DFL && b->sa_handler != SIG_IGN) {
            b->sa_handler(sig); /* it ends the process as it would have */
        }
        break;
    }
    signal(sig, SIG_DFL); /* then die of it, so the caller sees the signal */
    raise(sig);
}

/* Installed once: a second call (a fuzzing harness runs main once per
 * input) would find our own handler in place and keep it as the one
 * "before" it, and the first one (libFuzzer's, which stops a campaign with
 * its final statistics) would never run again. */
void report_cleanup_on_signals(void)
{
    if (installed)
        return;
    installed = 1;
    for (size_t i = 0; i < NCLEANUP_SIGS; i++) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_signal;
        sa.sa_flags = SA_SIGINFO;
        sigemptyset(&sa.sa_mask);
        sigaction(cleanup_sigs[i], &sa, &before[i]);
    }
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = cs_xrealloc(NULL, n);
    memcpy(d, s, n);
    return d;
}

static char *join(const char *dir, const char *a, const char *b)
{
    size_t n = strlen(dir) + strlen(a) + strlen(b) + 2;
    char *p = cs_xrealloc(NULL, n);
    snprintf(p, n, "%s/%s%s", dir, a, b);
    return p;
}

report_set *report_new(const char *dir)
{
    report_set *r = calloc(1, sizeof *r);
    if (!r)
        abort();
    r->dir = dup_str(dir);
    return r;
}

static int check_name(const char *name, cs_err *err)
{
    for (const char *c = name; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            return cs_fail(err, "report name: character %d at %d is a control character (a "
                                "newline?); give a plain file name such as 'summary.csv'",
                           (unsigned char)*c, (int)(c - name) + 1);
    if (!*name || name[0] == '.' || strchr(name, '/') || strlen(name) > 200)
        return cs_fail(err, "report name '%s': give a plain file name such as 'summary.csv' "
                            "(no '/', not starting with '.'); it is written into the output folder",
                       name);
    return 0;
}

/* A folder where the file should go: said before anything is written. */
static int check_final(const char *final, cs_err *err)
{
    struct stat st;
    if (stat(final, &st) == 0 && S_ISDIR(st.st_mode))
        return cs_fail(err, "'%s' is a folder; give a file name to write", final);
    return 0;
}

static int ensure_dir(report_set *r, cs_err *err)
{
    struct stat st;
    if (stat(r->dir, &st) == 0)
        return S_ISDIR(st.st_mode) ? 0 : cs_fail(err, "output folder '%s' is a file", r->dir);
    if (mkdir(r->dir, 0777) != 0)
        return errno == EEXIST ? 0 /* another MPI rank made it just now */
                               : cs_fail(err, "cannot create output folder '%s': %s", r->dir,
                                         strerror(errno));
    r->created_dir = 1;
    live_dir_set(r->dir, 1);
    return 0;
}

static void close_staged(staged *s)
{
    if (s->f)
        fclose(s->f);
    s->f = NULL;
}

static void drop_staged(staged *s)
{
    close_staged(s);
    unlink(s->tmp);
    live_remove(s->tmp);
    free(s->name);
    free(s->tmp);
    free(s->final);
}

FILE *report_begin(report_set *r, const char *name, cs_err *err)
{
    if (check_name(name, err) != 0 || ensure_dir(r, err) != 0)
        return NULL;
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->files[i].name, name) == 0) { /* replaced: drop the earlier one */
            drop_staged(&r->files[i]);
            r->files[i] = r->files[--r->n];
            break;
        }
    size_t n = strlen(r->dir) + strlen(name) + 40;
    staged s = {dup_str(name), cs_xrealloc(NULL, n), join(r->dir, name, ""), NULL};
    snprintf(s.tmp, n, "%s/.%s.tmp-%ld", r->dir, name, (long)getpid());
    live_add(s.tmp); /* before it exists: a signal in between finds nothing to remove */
    int bad = check_final(s.final, err) != 0;
    if (!bad && !(s.f = fopen(s.tmp, "w")))
        bad = cs_fail(err, "cannot write '%s': %s", s.tmp, strerror(errno));
    if (bad) {
        live_remove(s.tmp);
        free(s.name), free(s.tmp), free(s.final);
        return NULL;
    }
    CS_GROW(r->files, r->cap, r->n + 1);
    r->files[r->n++] = s;
    return s.f;
}

int report_end(report_set *r, FILE *f, cs_err *err)
{
    for (int i = 0; i < r->n; i++) {
        staged *s = &r->files[i];
        if (s->f != f)
            continue;
        int bad = fflush(s->f) != 0 || ferror(s->f);
        close_staged(s);
        return bad ? cs_fail(err, "writing '%s' failed", s->final) : 0;
    }
    return 0;
}

int report_commit(report_set *r, cs_err *err)
{
    if (parmap_rank() != 0) { /* under MPI rank 0 writes the files; the others' copies go */
        live_dir_set(r->dir, 0); /* rank 0 renames into it */
        for (int i = 0; i < r->n; i++)
            close_staged(&r->files[i]), unlink(r->files[i].tmp);
        r->committed = 1;
        return 0;
    }
    for (int i = 0; i < r->n; i++) {
        staged *s = &r->files[i];
        int bad = s->f && (fflush(s->f) != 0 || ferror(s->f));
        close_staged(s);
        if (bad)
            return cs_fail(err, "writing '%s' failed", s->final);
    }
    for (int i = 0; i < r->n; i++) {
        if (rename(r->files[i].tmp, r->files[i].final) != 0)
            return cs_fail(err, "cannot rename '%s' to '%s': %s", r->files[i].tmp,
                           r->files[i].final, strerror(errno));
        live_remove(r->files[i].tmp);
    }
    live_dir_set(r->dir, 0); /* committed: the folder holds the run's output */
    r->committed = 1;
    return 0;
}

/* The folder this set made for files never committed: removed (only when
 * empty) and out of the signal handlers' table. */
static void forget_dir(report_set *r)
{
    if (r->created_dir && !r->committed)
        rmdir(r->dir);
    r->created_dir = 0;
    live_dir_set(r->dir, 0);
}

void report_abort(report_set *r)
{
    for (int i = 0; i < r->n; i++)
        drop_staged(&r->files[i]);
    r->n = 0;
    forget_dir(r);
}

int report_count(const report_set *r) { return r->n; }
const char *report_path(const report_set *r, int i) { return r->files[i].final; }

void report_free(report_set *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->n; i++) {
        close_staged(&r->files[i]);
        unlink(r->files[i].tmp); /* committed ones were renamed: nothing to remove */
        live_remove(r->files[i].tmp);
        free(r->files[i].name);
        free(r->files[i].tmp);
        free(r->files[i].final);
    }
    free(r->files);
    forget_dir(r); /* before the name the table points at goes */
    free(r->dir);
    free(r);
}

void report_csv_field(FILE *f, const char *text)
{
    if (strpbrk(text, ",\"\r\n") || (*text == ' ') || (*text && text[strlen(text) - 1] == ' '))
        csv_fwrite(f, text, strlen(text));
    else
        fputs(text, f);
}

report_set *report_for_path(const char *path, const char **name)
{
    const char *slash = strrchr(path, '/');
    *name = slash ? slash + 1 : path;
    if (!slash)
        return report_new(".");
    size_t n = (size_t)(slash - path);
    char *dir = cs_xrealloc(NULL, n + 2);
    memcpy(dir, path, n ? n : 1);
    dir[n ? n : 1] = '\0';
    report_set *rs = report_new(dir);
    free(dir);
    return rs;
}
