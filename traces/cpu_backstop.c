/* cpu_backstop: a CPU timer that ends a stuck scenario (see cpu_backstop.h). */
#define _XOPEN_SOURCE 700 /* setitimer, sigaction */
#include "cpu_backstop.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "report.h"

static char message[704]; /* written by the handler: set before the timer is armed */
static size_t message_len;
static struct sigaction before; /* the SIGPROF handler found when armed (a profiler's) */
static int armed;

static void on_timer(int sig)
{
    (void)sig;
    ssize_t w = write(STDERR_FILENO, message, message_len); /* async-signal-safe */
    (void)w;
    report_remove_staged();
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
    abort(); /* libFuzzer's handler keeps the input */
#else
    _exit(2);
#endif
}

static void set_timer(double seconds)
{
    struct itimerval t;
    memset(&t, 0, sizeof t);
    t.it_value.tv_sec = (time_t)seconds;
    t.it_value.tv_usec = (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6);
    setitimer(ITIMER_PROF, &t, NULL);
}

void cpu_backstop_arm(double cpu_s, const char *text)
{
    set_timer(0); /* no firing while the message changes */
    snprintf(message, sizeof message, "%s\n", text);
    message_len = strlen(message);
    if (!armed) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_timer;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGPROF, &sa, &before);
        armed = 1;
    }
    set_timer(cpu_s > 1e-3 ? cpu_s : 1e-3);
}

void cpu_backstop_disarm(void)
{
    if (!armed)
        return;
    set_timer(0);
    sigaction(SIGPROF, &before, NULL);
    armed = 0;
}
