/* device: built-in GPU catalog.  The figures are copied from the vendor
 * datasheets as collected in ../shared/reference/devices.csv; test_device
 * compares every field with that file so the two cannot drift apart. */
#include "device.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define T 1e12
#define G 1e9

static const dev_type catalog[] = {
    {"V100-SXM2-32GB", 32 * G, 0.9 * T, 15.7 * T, 0, 0, 125 * T, 0, 150 * G, 3, 300, 80},
    {"A100-SXM4-40GB", 40 * G, 1.555 * T, 19.5 * T, 156 * T, 312 * T, 312 * T, 0, 300 * G, 4, 400, 108},
    {"A100-SXM4-80GB", 80 * G, 2.039 * T, 19.5 * T, 156 * T, 312 * T, 312 * T, 0, 300 * G, 4, 400, 108},
    {"H100-SXM5-80GB", 80 * G, 3.35 * T, 67 * T, 494.7 * T, 989.4 * T, 989.4 * T, 1978.9 * T, 450 * G, 5, 700, 132},
    {"H200-SXM-141GB", 141 * G, 4.8 * T, 67 * T, 494.7 * T, 989.4 * T, 989.4 * T, 1978.9 * T, 450 * G, 5, 700, 132},
    /* Not in ../shared/reference/devices.csv: its row and sources are in
     * validate/devices_offload.csv (NVIDIA Ada architecture whitepaper;
     * tensor rates dense with FP32 accumulate, the rate AMP training uses) */
    {"RTX-4090-24GB", 24 * G, 1.008 * T, 82.6 * T, 82.6 * T, 165.2 * T, 165.2 * T, 330.3 * T, 0, 4, 450, 128},
    /* The DGX-2H's 450 W V100 (validate/devices_offload.csv has its row and
     * sources): the DGX-2's part run at a higher clock, its rates the DGX-2
     * V100's x 2.1 / 2.0 (the systems' 2 and 2.1 PFLOPS ratings) */
    {"V100-SXM3-32GB-H", 32 * G, 0.9 * T, 16.485 * T, 0, 0, 131.25 * T, 0, 150 * G, 3, 450, 80},
};

/* Short names people type. */
static const struct { const char *alias, *name; } aliases[] = {
    {"v100", "V100-SXM2-32GB"},     {"a100-40g", "A100-SXM4-40GB"},
    {"a100", "A100-SXM4-80GB"},     {"a100-80g", "A100-SXM4-80GB"},
    {"h100", "H100-SXM5-80GB"},     {"h200", "H200-SXM-141GB"},
    {"rtx4090", "RTX-4090-24GB"},   {"v100-h", "V100-SXM3-32GB-H"},
};

#define NCATALOG ((int)(sizeof catalog / sizeof catalog[0]))
#define NALIASES ((int)(sizeof aliases / sizeof aliases[0]))

int dev_catalog_count(void) { return NCATALOG; }

const dev_type *dev_catalog_at(int i)
{
    return (i >= 0 && i < NCATALOG) ? &catalog[i] : NULL;
}

static const dev_type *find_exact(const char *name)
{
    for (int i = 0; i < NCATALOG; i++)
        if (strcasecmp(catalog[i].name, name) == 0)
            return &catalog[i];
    return NULL;
}

const dev_type *dev_find(const char *name, cs_err *err)
{
    const dev_type *d = find_exact(name);
    for (int i = 0; !d && i < NALIASES; i++)
        if (strcasecmp(aliases[i].alias, name) == 0)
            d = find_exact(aliases[i].name);
    if (d)
        return d;
    char list[512] = "";
    for (int i = 0; i < NCATALOG; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, catalog[i].name, sizeof list - strlen(list) - 1);
    }
    cs_fail(err, "unknown device '%s'; valid devices: %s (or v100, v100-h, a100, a100-40g, h100, h200, rtx4090)",
            name, list);
    return NULL;
}

double dev_pcie_x16_bw_bytes_per_s(int gen)
{
    /* Usable x16 bandwidth per direction after 128b/130b encoding. */
    switch (gen) {
    case 3: return 15.75e9;
    case 4: return 31.5e9;
    case 5: return 63.0e9;
    case 6: return 126.0e9;
    default: return 0;
    }
}
