/* table: aligned text tables (see table.h). */
#include "table.h"

#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"

struct table {
    int ncols, nrows, caprows;
    char **head;    /* [ncols]: "name (unit)" */
    char **cells;   /* [nrows * ncols] */
};

static char *dup_text(const char *s)
{
    size_t n = strlen(s ? s : "");
    char *d = cs_xrealloc(NULL, n + 1);
    memcpy(d, s ? s : "", n + 1);
    return d;
}

table *table_new(int ncols, const char *const *names, const char *const *units)
{
    table *t = cs_xrealloc(NULL, sizeof *t);
    memset(t, 0, sizeof *t);
    t->ncols = ncols;
    t->head = cs_xrealloc(NULL, sizeof *t->head * (size_t)ncols);
    for (int c = 0; c < ncols; c++) {
        const char *unit = units ? units[c] : NULL;
        size_t n = strlen(names[c]) + (unit ? strlen(unit) : 0) + 4;
        t->head[c] = cs_xrealloc(NULL, n);
        if (unit && *unit)
            snprintf(t->head[c], n, "%s (%s)", names[c], unit);
        else
            snprintf(t->head[c], n, "%s", names[c]);
    }
    return t;
}

void table_free(table *t)
{
    if (!t)
        return;
    for (int c = 0; c < t->ncols; c++)
        free(t->head[c]);
    for (int i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->head);
    free(t->cells);
    free(t);
}

void table_add_row(table *t, const char *const *cells)
{
    CS_GROW(t->cells, t->caprows, (t->nrows + 1) * t->ncols);
    for (int c = 0; c < t->ncols; c++)
        t->cells[t->nrows * t->ncols + c] = dup_text(cells[c]);
    t->nrows++;
}

int table_rows(const table *t) { return t->nrows; }

/* A number as a person writes one: digits with an optional sign, point,
 * exponent, thousands commas or a trailing percent sign. */
static int numeric(const char *s)
{
    char *end;
    if (!*s)
        return 1; /* empty cells do not decide the alignment */
    char buf[64];
    size_t n = 0;
    for (const char *p = s; *p && n + 1 < sizeof buf; p++)
        if (*p != ',')
            buf[n++] = *p;
    buf[n] = 0;
    if (n && buf[n - 1] == '%')
        buf[--n] = 0;
    strtod(buf, &end);
    return end != buf && *end == 0;
}

static void pad(FILE *f, int n)
{
    for (int i = 0; i < n; i++)
        fputc(' ', f);
}

static void print_line(const table *t, FILE *f, int indent, char *const *row, const int *width,
                       const int *right)
{
    pad(f, indent);
    for (int c = 0; c < t->ncols; c++) {
        int len = (int)strlen(row[c]), gap = width[c] - len;
        int last = c == t->ncols - 1;
        if (right[c])
            pad(f, gap);
        fputs(row[c], f);
        if (!right[c] && !last)
            pad(f, gap);
        if (!last)
            fputs("  ", f);
    }
    fputc('\n', f);
}

void table_print(const table *t, FILE *f, int indent)
{
    int *width = calloc((size_t)t->ncols * 2 + 1, sizeof *width);
    if (!width)
        abort();
    int *right = width + t->ncols;
    int total = 0;
    for (int c = 0; c < t->ncols; c++) {
        width[c] = (int)strlen(t->head[c]);
        right[c] = t->nrows > 0;
        for (int r = 0; r < t->nrows; r++) {
            const char *cell = t->cells[r * t->ncols + c];
            int len = (int)strlen(cell);
            width[c] = len > width[c] ? len : width[c];
            right[c] &= numeric(cell);
        }
        total += width[c] + (c ? 2 : 0);
    }
    print_line(t, f, indent, t->head, width, right);
    pad(f, indent);
    for (int i = 0; i < total; i++)
        fputc('-', f);
    fputc('\n', f);
    for (int r = 0; r < t->nrows; r++)
        print_line(t, f, indent, &t->cells[r * t->ncols], width, right);
    free(width);
}
