/* tap: a minimal Test Anything Protocol harness for unit tests.
 *
 * Each unit test program is a list of cases; meson runs it with
 * `protocol: 'tap'`, so every case counts on its own in the summary.
 * CHECK records a failure with file and line and lets the case go on;
 * a case passes when none of its checks failed. */
#ifndef CS_TAP_H
#define CS_TAP_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int tap_case_failed;
static int tap_cases_run;
static int tap_cases_failed;

#define CHECK(cond)                                                          \
    do {                                                                     \
        if (!(cond)) {                                                       \
            printf("# %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            tap_case_failed = 1;                                             \
        }                                                                    \
    } while (0)

#define CHECK_EQ_INT(a, b)                                                    \
    do {                                                                      \
        long long tap_a = (long long)(a), tap_b = (long long)(b);             \
        if (tap_a != tap_b) {                                                 \
            printf("# %s:%d: %s == %lld, expected %s == %lld\n", __FILE__,     \
                   __LINE__, #a, tap_a, #b, tap_b);                           \
            tap_case_failed = 1;                                              \
        }                                                                     \
    } while (0)

/* |a - b| <= rel * |b| */
#define CHECK_REL(a, b, rel)                                                  \
    do {                                                                      \
        double tap_a = (double)(a), tap_b = (double)(b);                      \
        if (!(fabs(tap_a - tap_b) <= (rel) * fabs(tap_b))) {                  \
            printf("# %s:%d: %s == %.9g, expected %.9g within %g\n", __FILE__, \
                   __LINE__, #a, tap_a, tap_b, (double)(rel));                \
            tap_case_failed = 1;                                              \
        }                                                                     \
    } while (0)

/* hay is evaluated once, and a NULL hay fails the check instead of crashing
 * (GCC's -Wformat-overflow under the sanitizers otherwise sees a NULL %s). */
#define CHECK_STR_CONTAINS(hay, needle)                                       \
    do {                                                                      \
        const char *tap_hay = (hay);                                          \
        if (!tap_hay || !strstr(tap_hay, (needle))) {                         \
            printf("# %s:%d: \"%s\" does not contain \"%s\"\n", __FILE__,      \
                   __LINE__, tap_hay ? tap_hay : "(null)", (needle));         \
            tap_case_failed = 1;                                              \
        }                                                                     \
    } while (0)

typedef struct tap_case {
    const char *name;
    void (*fn)(void);
} tap_case;

static inline int tap_run(const tap_case *cases, int n)
{
    printf("1..%d\n", n);
    for (int i = 0; i < n; i++) {
        tap_case_failed = 0;
        cases[i].fn();
        tap_cases_run++;
        if (tap_case_failed)
            tap_cases_failed++;
        printf("%s %d - %s\n", tap_case_failed ? "not ok" : "ok", i + 1, cases[i].name);
        fflush(stdout);
    }
    return tap_cases_failed ? 1 : 0;
}

#define TAP_MAIN(...)                                                         \
    int main(void)                                                            \
    {                                                                         \
        static const tap_case tap_cases[] = {__VA_ARGS__};                    \
        return tap_run(tap_cases, (int)(sizeof tap_cases / sizeof tap_cases[0])); \
    }

#endif
