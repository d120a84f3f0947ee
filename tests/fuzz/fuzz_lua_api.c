/* libFuzzer: the Lua API's tables: the input is a scenario, run sandboxed
 * with small limits (1e6 instructions, 64 MiB, 10 s of CPU) so that one input costs
 * little; the seeds call every API function.  The work of the calls is
 * bounded by the fuzzing build as for fuzz_cli (meson.build: goodput
 * interruptions, combinations a search judges, layouts it evaluates and
 * simulates, units of a
 * layout's schedule and of a simulated iteration; validate/robustness.md). */
#include "fuzz_common.h"
#include "scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    scenario_opts o = {.out_dir = "out", .reference_dir = CS_VALIDATE_DIR, .max_instructions = 1e6,
                       .max_memory_mib = 64, .max_cpu_s = 10};
    cs_err err;
    scenario_run(fuzz_file("s.lua", data, size), NULL, 0, &o, &err);
    return 0;
}
