/* libFuzzer: the published tables `clustersim validate` reads (--reference).
 * The input's first line names the study (megatron2021, megatron2019,
 * offload, llama3, moe or zb), optionally followed by " sim" (else the
 * closed form runs, which is cheaper); the rest is the table, written to a
 * file the study reads.  Every row becomes a layout that is estimated, so a
 * table is a reader and a source of layouts at once: the sixth session's
 * review found zero and huge counts in these tables crashing and
 * overflowing (validate/robustness.md).  The fuzzing build bounds the
 * work of each layout as for fuzz_cli. */
#include "fuzz_common.h"

int clustersim_main(int argc, char **argv);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    const uint8_t *nl = memchr(data, '\n', size < 32 ? size : 32);
    if (!nl)
        return 0;
    char study[32];
    size_t n = (size_t)(nl - data);
    memcpy(study, data, n);
    study[n] = 0;
    char *mode = strchr(study, ' ');
    int sim = mode && strcmp(mode, " sim") == 0;
    if (mode)
        *mode = 0;
    static const char *const studies[] = {"megatron2021", "megatron2019", "offload",
                                          "llama3",       "moe",          "zb"};
    int known = 0;
    for (size_t i = 0; i < sizeof studies / sizeof studies[0]; i++)
        known |= strcmp(study, studies[i]) == 0;
    if (!known)
        return 0;
    const char *table = fuzz_file("t.csv", nl + 1, size - n - 1);
    char *argv[] = {"clustersim", "validate", study, "--reference", (char *)table,
                    "--mode",     sim ? "sim" : "analytic", NULL};
    clustersim_main(7, argv);
    return 0;
}
