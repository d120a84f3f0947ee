/* libFuzzer: the operator-graph reader (nodes.csv, edges.csv, groups.csv
 * as three parts of one input, split at "\n====\n"). */
#include <sys/stat.h>

#include "fuzz_common.h"
#include "opgraph_csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_init();
    mkdir("g", 0777);
    static const char *const names[] = {"g/nodes.csv", "g/edges.csv", "g/groups.csv"};
    for (int i = 0; i < 3; i++) {
        const uint8_t *part;
        size_t n = fuzz_part(data, size, i, &part);
        if (i == 2 && n == 0)
            unlink(names[i]); /* groups.csv is optional */
        else
            fuzz_file(names[i], part, n);
    }
    opgraph g;
    cs_err err;
    opgraph_read_dir("g", &g, &err);
    opg_free(&g); /* even on failure (opgraph_csv.h) */
    return 0;
}
