/* libFuzzer: a HuggingFace config.json (traces/hf_config, json-c). */
#include "fuzz_common.h"
#include "hf_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    model_desc m;
    cs_err err;
    if (hf_config_load(fuzz_file("config.json", data, size), &m, &err) == 0)
        (void)model_params(&m); /* the count of whatever shape was accepted */
    return 0;
}
