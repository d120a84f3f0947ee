/* libFuzzer: the Chakra reader and the replay that runs what it read.  The
 * input is up to four ranks' files (t.0.et ... t.3.et) as parts split at
 * "\n====\n"; the ranks stop at the first empty part.  What loads is then
 * simulated on one DGX A100 80 GB node, so the lowering (dependencies, collective
 * partners, sends and receives, priced compute) sees every trace the reader
 * accepts.  The parts are found at newlines only (fuzz_part): a memcmp at
 * every byte of a 16 kB input, each recorded by libFuzzer, took most of the
 * time. */
#include <unistd.h>

#include "fuzz_common.h"
#include "estimate.h"
#include "replay.h"
#include "system.h"

enum { FUZZ_RANKS = 4 };

/* One node's topology, built on the first input and kept (the harness's
 * time goes to the reader and the replay, not to building it again). */
static topo *fuzz_topo(void)
{
    static topo *t;
    if (!t) {
        sys_system sys;
        cs_err err;
        if (sys_from_catalog("dgx-a100-80g", 1, &sys, &err) != 0 || topo_build(&sys, &t, &err) != 0)
            abort();
    }
    return t;
}

/* Writes the ranks' files; returns how many. */
static int write_ranks(const uint8_t *data, size_t size)
{
    int ranks = 0;
    for (int r = 0; r < FUZZ_RANKS; r++) {
        char name[16];
        snprintf(name, sizeof name, "t.%d.et", r);
        const uint8_t *part;
        size_t n = fuzz_part(data, size, r, &part);
        if (n == 0 || ranks < r) {
            unlink(name);
            continue;
        }
        fuzz_file(name, part, n);
        ranks++;
    }
    return ranks;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    if (write_ranks(data, size) == 0)
        return 0;
    replay_traces tr;
    cs_err err;
    if (replay_load("t", &tr, &err) == 0) {
        opcost_eff eff;
        opcost_eff_default(&eff);
        topo *t = fuzz_topo();
        replay_input in = {t, 8, estimate_device(t), &eff, 1};
        replay_result r;
        if (replay_run(&tr, &in, &r, NULL, &err) == 0)
            replay_result_free(&r);
    }
    replay_traces_free(&tr);
    return 0;
}
