/* table: aligned text tables for people at a terminal.
 *
 * Owns the layout of a table: a header of column names with their units
 * ("iteration (s)"), a rule under it, and rows whose columns line up.  A
 * column whose every cell reads as a number is right-aligned (so digits
 * line up); any other column is left-aligned.  Cells are copied. */
#ifndef CS_TABLE_H
#define CS_TABLE_H

#include <stdio.h>

typedef struct table table;

/* names[i] and units[i] (units may be NULL, or an entry NULL or "": no unit). */
table *table_new(int ncols, const char *const *names, const char *const *units);
void table_free(table *t);

/* Adds a row of ncols cells (a NULL cell prints empty). */
void table_add_row(table *t, const char *const *cells);

/* Writes the table; indent spaces before every line. */
void table_print(const table *t, FILE *f, int indent);

int table_rows(const table *t);

#endif
