/* reference: test helpers that read ../shared/reference (published figures).
 *
 * The directory comes from CLUSTERSIM_SHARED (set by tests/meson.build),
 * falling back to ../shared. */
#ifndef CS_TEST_REFERENCE_H
#define CS_TEST_REFERENCE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout.h"
#include "model.h"
#include "tap.h"

/* Opens reference/NAME, or returns NULL (the caller CHECKs it). */
static inline FILE *reference_open(const char *name)
{
    const char *shared = getenv("CLUSTERSIM_SHARED");
    char path[512];
    snprintf(path, sizeof path, "%s/reference/%s", shared ? shared : "../shared", name);
    return fopen(path, "r");
}

/* One data row of megatron2021_weak_scaling.csv:
 * params_billion,attention_heads,hidden,layers,tp,pp,gpus,global_batch,... */
typedef struct megatron_row {
    double params_billion;
    int heads, hidden, layers, tp, pp, gpus, gbs;
} megatron_row;

/* 0 for a data row, -1 for a comment, the header or anything else. */
static inline int megatron_row_read(const char *line, megatron_row *r)
{
    if (line[0] == '#')
        return -1;
    return sscanf(line, "%lf,%d,%d,%d,%d,%d,%d,%d,", &r->params_billion, &r->heads, &r->hidden,
                  &r->layers, &r->tp, &r->pp, &r->gpus, &r->gbs) == 8 ? 0 : -1;
}

/* The catalog's megatron-* entry with the row's shape, or NULL. */
static inline const model_desc *megatron_model_of(const megatron_row *r)
{
    return model_catalog_find_shape("megatron-", r->layers, r->hidden, r->heads);
}

#define MEGATRON_MAX_ROWS 16

/* Every data row of megatron2021_weak_scaling.csv with its catalog model
 * (CHECKed to open and to have a model per row); returns the row count. */
static inline int megatron_rows_load(megatron_row *rows, const model_desc **models)
{
    FILE *fp = reference_open("megatron2021_weak_scaling.csv");
    CHECK(fp != NULL);
    if (!fp)
        return 0;
    char line[512];
    int n = 0;
    while (n < MEGATRON_MAX_ROWS && fgets(line, sizeof line, fp)) {
        if (megatron_row_read(line, &rows[n]) != 0)
            continue;
        models[n] = megatron_model_of(&rows[n]);
        CHECK(models[n] != NULL);
        if (models[n])
            n++;
    }
    fclose(fp);
    return n;
}

/* The row's published layout: tp, pp, dp = gpus / (tp x pp), global batch;
 * everything the table leaves open keeps layout_init's defaults (mbs 1, 1F1B). */
static inline void megatron_layout_of(const megatron_row *r, const model_desc *m,
                                      layout_desc *l)
{
    layout_init(l, m);
    l->tp = r->tp;
    l->pp = r->pp;
    l->dp = r->gpus / (r->tp * r->pp);
    l->gbs = r->gbs;
}

#endif
