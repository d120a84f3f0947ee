/* libFuzzer: the device profile (a Lua table, bounded by lua_limits). */
#include "fuzz_common.h"
#include "profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    calib_profile p;
    cs_err err;
    profile_load(fuzz_file("p.lua", data, size), &p, &err);
    return 0;
}
