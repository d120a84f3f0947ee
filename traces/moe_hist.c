/* moe_hist: tokens per expert from CSV (see moe_hist.h). */
#include "moe_hist.h"

#include <stdlib.h>
#include <string.h>

#include "csvread.h"

typedef struct reading {
    const char *path;
    int col_expert, col_tokens;
    double *tokens;
    char *seen;
    int n; /* highest index + 1 so far */
} reading;

static int header(reading *r, int line, char **fields, int nfields, cs_err *err)
{
    for (int i = 0; i < nfields; i++) {
        if (strcmp(fields[i], "expert") == 0)
            r->col_expert = i;
        else if (strcmp(fields[i], "tokens") == 0)
            r->col_tokens = i;
    }
    if (r->col_expert < 0 || r->col_tokens < 0)
        return cs_fail(err, "%s line %d: the header must name the columns expert and tokens",
                       r->path, line);
    return 0;
}

static int row(void *ctx, int line, char **fields, int nfields, cs_err *err)
{
    reading *r = ctx;
    if (r->col_expert < 0)
        return header(r, line, fields, nfields, err);
    double index, tokens;
    int need = r->col_expert > r->col_tokens ? r->col_expert : r->col_tokens;
    if (nfields <= need)
        return cs_fail(err, "%s line %d: %d fields, the expert and tokens columns need %d",
                       r->path, line, nfields, need + 1);
    if (csvread_number(fields[r->col_expert], &index) != 0 || index < 0 ||
        index >= MOE_HIST_MAX_EXPERTS || index != (double)(int)index)
        return cs_fail(err, "%s line %d: expert '%s' must be a whole number in 0 .. %d", r->path,
                       line, fields[r->col_expert], MOE_HIST_MAX_EXPERTS - 1);
    if (csvread_number(fields[r->col_tokens], &tokens) != 0 || tokens < 0 || tokens > 1e18)
        return cs_fail(err, "%s line %d: tokens '%s' must be a number in 0 .. 1e18", r->path,
                       line, fields[r->col_tokens]);
    int i = (int)index;
    if (r->seen[i])
        return cs_fail(err, "%s line %d: expert %d appears twice", r->path, line, i);
    r->seen[i] = 1;
    r->tokens[i] = tokens;
    r->n = i + 1 > r->n ? i + 1 : r->n;
    return 0;
}

/* Every index below n given, and some tokens somewhere. */
static int complete(const reading *r, cs_err *err)
{
    if (r->n == 0)
        return cs_fail(err, "%s: no experts", r->path);
    double sum = 0;
    for (int i = 0; i < r->n; i++) {
        if (!r->seen[i])
            return cs_fail(err, "%s: expert %d is missing (indices run 0 .. %d)", r->path, i,
                           r->n - 1);
        sum += r->tokens[i];
    }
    return sum > 0 ? 0 : cs_fail(err, "%s: every expert has 0 tokens", r->path);
}

int moe_hist_read(const char *path, moe_hist *out, cs_err *err)
{
    reading r = {path, -1, -1, calloc(MOE_HIST_MAX_EXPERTS, sizeof(double)),
                 calloc(MOE_HIST_MAX_EXPERTS, 1), 0};
    if (!r.tokens || !r.seen)
        abort();
    int rc = csvread_file(path, row, &r, err);
    if (rc == 0 && r.col_expert < 0)
        rc = cs_fail(err, "%s: empty; the header must name the columns expert and tokens", path);
    if (rc == 0)
        rc = complete(&r, err);
    free(r.seen);
    if (rc != 0) {
        free(r.tokens);
        return -1;
    }
    out->tokens = realloc(r.tokens, sizeof(double) * (size_t)r.n);
    if (!out->tokens)
        abort();
    out->n = r.n;
    return 0;
}

void moe_hist_free(moe_hist *h)
{
    free(h->tokens);
    h->tokens = NULL;
    h->n = 0;
}
