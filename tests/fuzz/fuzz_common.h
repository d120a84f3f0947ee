/* fuzz_common: what every libFuzzer harness shares.  The readers take
 * paths, so each input is written to a file in a private folder first; the
 * harnesses run from that folder so that whatever a command writes stays
 * there (so the fuzzer's own paths must be absolute).  Run with
 * -close_fd_mask=3: the readers' answers and messages are not checked, only
 * that they return without a crash, hang or sanitizer report. */
#ifndef CS_FUZZ_COMMON_H
#define CS_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *mkdtemp(char *template); /* POSIX 2008; not declared under strict C17 */

static char fuzz_dir[64];

static inline void fuzz_init(void)
{
    if (fuzz_dir[0])
        return;
    /* below $CLUSTERSIM_FUZZ_DIR (setup.sh: a folder in memory it removes
     * afterwards; each input is a file write and a read), else /tmp */
    const char *base = getenv("CLUSTERSIM_FUZZ_DIR");
    snprintf(fuzz_dir, sizeof fuzz_dir, "%.40s/fuzz-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(fuzz_dir) || chdir(fuzz_dir) != 0)
        abort();
}

/* Writes data to the file `name` in the fuzzing folder; returns its name. */
static inline const char *fuzz_file(const char *name, const uint8_t *data, size_t size)
{
    FILE *f = fopen(name, "wb");
    if (!f)
        abort();
    if (size && fwrite(data, 1, size, f) != size)
        abort();
    fclose(f);
    return name;
}

/* The n-th part of data split at "\n====\n" (several files in one input).
 * Looks for the separator only at newlines (memchr): a memcmp at every byte
 * was most of fuzz_chakra's time, each call intercepted and recorded by
 * libFuzzer. */
static inline size_t fuzz_part(const uint8_t *data, size_t size, int n, const uint8_t **out)
{
    static const char sep[] = "\n====\n";
    const size_t k = sizeof sep - 1;
    size_t start = 0;
    for (int part = 0;; part++) {
        size_t end = size;
        for (const uint8_t *nl = start < size ? memchr(data + start, '\n', size - start) : NULL; nl;
             nl = memchr(nl + 1, '\n', size - (size_t)(nl + 1 - data))) {
            size_t at = (size_t)(nl - data);
            if (at + k > size)
                break;
            if (memcmp(nl, sep, k) == 0) {
                end = at;
                break;
            }
        }
        if (part == n) {
            *out = data + start;
            return end - start;
        }
        if (end == size) {
            *out = data + size;
            return 0;
        }
        start = end + k;
    }
}

#endif
