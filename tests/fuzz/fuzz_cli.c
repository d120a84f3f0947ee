/* libFuzzer: the command line of every command.  The input is the
 * arguments, one per line (at most 32); the first is the command.  The
 * commands whose work grows with their figures by design are given small
 * ones by the seeds; `bench` (timings) and `topology` (this machine) are
 * left out.  The fuzzing build bounds each command's work (meson.build:
 * 1e4 goodput interruptions per study, 4,096 combinations judged by the
 * rules, 64 layouts evaluated and 1 finalist simulated per search, 1024 units in a layout's schedule and in a
 * simulated iteration: a study, layout or iteration over its bound is
 * refused with the normal build's message, a search cut short as an
 * interrupted one), so an input costs milliseconds
 * and every path stays reachable (validate/robustness.md). */
#include "fuzz_common.h"

int clustersim_main(int argc, char **argv);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    static char buf[4096];
    static char *argv[34];
    if (size >= sizeof buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = 0;
    if (memchr(buf, 0, size)) /* a NUL cannot be in an argument */
        return 0;
    int argc = 0;
    argv[argc++] = "clustersim";
    for (char *p = buf; argc < 33;) {
        argv[argc++] = p;
        char *nl = strchr(p, '\n');
        if (!nl)
            break;
        *nl = 0;
        p = nl + 1;
    }
    argv[argc] = NULL;
    if (argc > 1 && (strcmp(argv[1], "bench") == 0 || strcmp(argv[1], "topology") == 0))
        return 0;
    clustersim_main(argc, argv);
    return 0;
}
