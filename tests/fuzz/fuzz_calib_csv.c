/* libFuzzer: the kernel measurement CSV (calibrate, validate kernels). */
#include "calib_csv.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    calib_meas *rows;
    int n;
    calib_devinfo info;
    cs_err err;
    if (calib_csv_read(fuzz_file("m.csv", data, size), &rows, &n, &info, &err) == 0)
        free(rows);
    return 0;
}
