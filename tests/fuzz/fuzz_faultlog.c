/* libFuzzer: the failure log (faults --log). */
#include "faultlog.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    faultlog log;
    cs_err err;
    if (faultlog_read(fuzz_file("log.csv", data, size), &log, &err) == 0)
        faultlog_free(&log);
    return 0;
}
