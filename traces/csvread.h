/* csvread: reading CSV tables (through libcsv) with '#' comment lines.
 *
 * Owns turning a file into rows of fields, with the file name and line
 * number of each row for error messages.  Lines whose first character is
 * '#' are comments (the reference tables carry their sources that way);
 * blank lines are skipped. */
#ifndef CS_CSVREAD_H
#define CS_CSVREAD_H

#include "cs_error.h"

#define CSVREAD_MAX_FIELDS 64

/* Called for every row (the header included); fields are NUL-terminated.
 * Returns 0 to go on, -1 (with err filled) to stop. */
typedef int (*csvread_row_fn)(void *ctx, int line, char **fields, int nfields, cs_err *err);

/* Reads path; errors name the file and line.  A UTF-8 byte order mark at
 * the start is skipped; a folder is refused as such. */
int csvread_file(const char *path, csvread_row_fn row, void *ctx, cs_err *err);

/* A finite decimal number (no hex, inf, nan or blanks): 0, else -1. */
int csvread_number(const char *text, double *out);

#endif
