/* Unit tests: fuzz_part, how the fuzzing harnesses (tests/fuzz) split one
 * input into several files at "\n====\n".  It looks for the separator only
 * at newlines; these cases pin it to the plain byte-by-byte search it
 * replaced, so that every harness still hands its readers the same parts. */
#include "../fuzz/fuzz_common.h"
#include "tap.h"

/* The reference: the separator searched for at every byte. */
static size_t part_by_bytes(const uint8_t *data, size_t size, int n, const uint8_t **out)
{
    static const char sep[] = "\n====\n";
    const size_t k = sizeof sep - 1;
    size_t start = 0;
    for (int part = 0;; part++) {
        size_t end = start;
        while (end + k <= size && memcmp(data + end, sep, k) != 0)
            end++;
        if (end + k > size)
            end = size;
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

static void check_part(const char *text, int n, const char *expected)
{
    const uint8_t *data = (const uint8_t *)text, *out = NULL;
    size_t len = fuzz_part(data, strlen(text), n, &out);
    CHECK_EQ_INT(len, strlen(expected));
    CHECK(out != NULL && memcmp(out, expected, strlen(expected)) == 0);
}

static void splits_at_separators(void)
{
    check_part("a\n====\nbb\n====\nccc", 0, "a");
    check_part("a\n====\nbb\n====\nccc", 1, "bb");
    check_part("a\n====\nbb\n====\nccc", 2, "ccc");
    check_part("a\n====\nbb\n====\nccc", 3, "");
    check_part("no separator\n===\n", 0, "no separator\n===\n");
    check_part("no separator\n===\n", 1, "");
    check_part("\n====\nx", 0, "");      /* a separator first: an empty first part */
    check_part("\n====\nx", 1, "x");
    check_part("a\n====\n", 1, "");      /* a separator last */
    check_part("\n\n\n====\n\n", 0, "\n\n"); /* newlines before the separator */
    check_part("\n\n\n====\n\n", 1, "\n");
    check_part("", 0, "");
}

/* Inputs of newlines, '=' and 'x' (where separators and near-misses are
 * common), every part against the reference. */
static void matches_byte_search(void)
{
    static const char alphabet[] = "\n\n=x";
    uint32_t state = 12345;
    int mismatches = 0;
    for (int trial = 0; trial < 20000; trial++) {
        uint8_t buf[40];
        state = state * 1103515245u + 12345u;
        size_t size = (state >> 16) % sizeof buf;
        for (size_t i = 0; i < size; i++) {
            state = state * 1103515245u + 12345u;
            buf[i] = (uint8_t)alphabet[(state >> 16) % 4];
        }
        for (int n = 0; n < 6; n++) {
            const uint8_t *a = NULL, *b = NULL;
            size_t la = fuzz_part(buf, size, n, &a), lb = part_by_bytes(buf, size, n, &b);
            mismatches += la != lb || a != b;
        }
    }
    CHECK_EQ_INT(mismatches, 0);
}

TAP_MAIN({"splits_at_separators", splits_at_separators}, {"matches_byte_search", matches_byte_search})
