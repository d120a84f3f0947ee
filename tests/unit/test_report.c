/* Unit tests: staged reports.  Nothing is visible before commit; abort
 * leaves no file and removes a folder it created; names with '/' or a
 * leading '.' are refused; CSV fields are quoted only when they must be;
 * a signal removes the staged temporaries and then runs the handler that
 * was there before ours, however often ours is installed. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report.h"
#include "tap.h"

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static void make_dir(char *buf, size_t n)
{
    snprintf(buf, n, "/tmp/cs_report_%d", (int)getpid());
}

static void commit_makes_visible(void)
{
    char dir[64], path[128];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/a.csv", dir);
    report_set *r = report_new(dir);
    FILE *f = report_begin(r, "a.csv", NULL);
    CHECK(f != NULL);
    fputs("x\n1\n", f);
    CHECK(!exists(path));
    CHECK(report_commit(r, NULL) == 0);
    CHECK(exists(path));
    report_free(r);
    CHECK(exists(path)); /* a committed folder and its file stay */
    unlink(path);
    rmdir(dir);
}

/* A set freed without a commit removes what it staged and the folder it
 * made for it; one it did not make stays. */
static void free_uncommitted_leaves_nothing(void)
{
    char dir[64];
    make_dir(dir, sizeof dir);
    report_set *r = report_new(dir);
    CHECK(report_begin(r, "c.csv", NULL) != NULL);
    CHECK(exists(dir));
    report_free(r);
    CHECK(!exists(dir));
    CHECK(mkdir(dir, 0777) == 0);
    r = report_new(dir);
    CHECK(report_begin(r, "c.csv", NULL) != NULL);
    report_free(r);
    CHECK(exists(dir));
    rmdir(dir);
}

static void abort_leaves_nothing(void)
{
    char dir[64];
    make_dir(dir, sizeof dir);
    report_set *r = report_new(dir);
    FILE *f = report_begin(r, "b.csv", NULL);
    CHECK(f != NULL);
    fputs("half", f);
    CHECK(exists(dir));
    report_abort(r);
    CHECK(!exists(dir));
    report_free(r);
}

static void bad_names(void)
{
    cs_err err;
    report_set *r = report_new("/tmp");
    CHECK(report_begin(r, "../x.csv", &err) == NULL);
    CHECK_STR_CONTAINS(err.msg, "plain file name");
    CHECK(report_begin(r, ".hidden", &err) == NULL);
    CHECK(report_begin(r, "", &err) == NULL);
    report_free(r);
}

static void csv_quoting(void)
{
    char buf[256] = {0};
    FILE *f = fmemopen(buf, sizeof buf, "w");
    report_csv_field(f, "plain");
    fputc(',', f);
    report_csv_field(f, "a,b");
    fputc(',', f);
    report_csv_field(f, "say \"hi\"");
    fclose(f);
    CHECK(strcmp(buf, "plain,\"a,b\",\"say \"\"hi\"\"\"") == 0);
}


/* The handler a fuzzer installs (libFuzzer's SIGINT handler takes
 * siginfo and ends the process with _Exit after its statistics). */
static void fuzzer_like_handler(int sig, siginfo_t *info, void *context)
{
    (void)context;
    _exit(sig == SIGINT && info && info->si_signo == SIGINT ? 42 : 43);
}

/* In a child: the earlier handler installed, ours installed twice (a
 * harness runs main once per input), a report staged, SIGINT: the staged
 * temporary is gone and the earlier handler ended the child (42).  Before
 * session 5 the second install kept our own handler as the earlier one,
 * and the child died of SIGINT without running it. */
static void signal_chains_to_earlier_handler(void)
{
    char dir[64];
    make_dir(dir, sizeof dir);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = fuzzer_like_handler;
        sa.sa_flags = SA_SIGINFO;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        report_cleanup_on_signals();
        report_cleanup_on_signals();
        report_set *r = report_new(dir);
        FILE *f = report_begin(r, "a.csv", NULL);
        if (!f)
            _exit(44);
        fputs("x\n", f);
        fflush(f);
        char probe[128];
        snprintf(probe, sizeof probe, "test -n \"$(ls -A %s)\"", dir);
        if (system(probe) != 0)
            _exit(46); /* the temporary should be there now */
        raise(SIGINT);
        _exit(45); /* not reached: a handler ends the child */
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status));
    CHECK_EQ_INT(WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status), 42);
    /* the temporary went before the earlier handler ran; only the folder is left */
    char cmd[128];
    snprintf(cmd, sizeof cmd, "test -z \"$(ls -A %s 2>/dev/null)\"", dir);
    CHECK_EQ_INT(system(cmd), 0);
    rmdir(dir);
}

TAP_MAIN({"commit_makes_visible", commit_makes_visible},
         {"abort_leaves_nothing", abort_leaves_nothing},
         {"free_uncommitted_leaves_nothing", free_uncommitted_leaves_nothing},
         {"bad_names", bad_names},
         {"csv_quoting", csv_quoting},
         {"signal_chains_to_earlier_handler", signal_chains_to_earlier_handler})
