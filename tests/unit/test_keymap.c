/* Unit tests: sim/keymap, the simulator's one hash table.  Against a plain
 * list searched from the start (the independent derivation): every key gets
 * the number of its first addition, numbers are 0, 1, 2, ... in that order,
 * a key never added is not found, and all of it holds across the table's
 * growth (keys that share low bits or high bits, as GPU pairs and aligned
 * addresses do, included). */
#include <stdlib.h>

#include "fixture.h"
#include "keymap.h"
#include "tap.h"

enum { KEYS = 20000 };

/* The number the plain list gives key: its first position, or -1. */
static int64_t list_find(const uint64_t *list, size_t n, uint64_t key)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == key)
            return (int64_t)i;
    return -1;
}

/* Keys of one of three shapes: random, small GPU pairs, or 64-byte aligned. */
static uint64_t some_key(uint64_t *seed, int shape)
{
    uint64_t r = fixture_rand(seed);
    if (shape == 0)
        return r | 1;
    if (shape == 1)
        return keymap_pair((int32_t)(r % 300), (int32_t)((r >> 20) % 300));
    return 0x7f0000000000ull + (r % 40000) * 64;
}

static void matches_a_list(void)
{
    for (int shape = 0; shape < 3; shape++) {
        uint64_t seed = 0x1234u + (uint64_t)shape, *list = malloc(sizeof *list * KEYS);
        size_t n = 0;
        keymap m = KEYMAP_INIT;
        int wrong = 0;
        for (int i = 0; i < KEYS; i++) {
            uint64_t key = some_key(&seed, shape);
            int64_t want = list_find(list, n, key);
            wrong += keymap_find(&m, key) != want;
            int added;
            uint32_t got = keymap_add(&m, key, &added);
            if (want < 0)
                list[n++] = key;
            wrong += added != (want < 0) || (int64_t)got != (want < 0 ? (int64_t)n - 1 : want);
        }
        CHECK_EQ_INT(wrong, 0);
        CHECK(m.count == n);
        for (size_t i = 0; i < n; i++) /* after every growth, each number is still its own */
            wrong += keymap_find(&m, list[i]) != (int64_t)i;
        CHECK_EQ_INT(wrong, 0);
        keymap_free(&m);
        CHECK(m.cap == 0 && keymap_find(&m, list[0]) == -1);
        free(list);
    }
}

static void pairs_are_distinct_and_nonzero(void)
{
    int wrong = 0;
    for (int32_t a = 0; a < 64; a++)
        for (int32_t b = 0; b < 64; b++)
            wrong += keymap_pair(a, b) == 0 || (a != b && keymap_pair(a, b) == keymap_pair(b, a));
    CHECK_EQ_INT(wrong, 0);
    CHECK(keymap_pair(0, 1) != keymap_pair(1, 0));
    CHECK(keymap_pair(65535, 65535) != 0);
}

TAP_MAIN({"numbers as a plain list gives them, across growth", matches_a_list},
         {"GPU-pair keys: never 0, ordered", pairs_are_distinct_and_nonzero})
