/* sweep_csv: the CSV a sweep writes, one row per point in point order,
 * appended row by row so that a sweep stopped part-way can resume.
 *
 * Every row is one line written by one write() call on a file opened for
 * appending: a process killed between two points leaves whole rows only, and
 * resuming drops a trailing partial line should one be left (a crash of the
 * machine during a write).  Fields are quoted only when they must be; line
 * breaks inside a field (a multi-line error) become spaces, so a row is
 * always one line. */
#ifndef CS_SWEEP_CSV_H
#define CS_SWEEP_CSV_H

#include "cs_error.h"

typedef struct sweep_csv {
    int fd;
} sweep_csv;

/* The rows an earlier run of the same sweep left in path.  head is the
 * header's known start ("point,PARAMS...,status,error").  Returns 0 with
 * *rows complete rows (0 and *results NULL when the file is missing or
 * empty) and *results the rest of the header after head (malloc'd, "" when
 * there are no result columns); truncates a partial last line.  -1 with err
 * when the file holds another sweep's rows or rows out of order. */
int sweep_csv_resume(const char *path, const char *head, long *rows, char **results, cs_err *err);

/* Opens path to append (append) or to write afresh. */
int sweep_csv_open(sweep_csv *o, const char *path, int append, cs_err *err);

/* fields[0..n-1] as one CSV line without its newline (malloc'd). */
char *sweep_csv_format(const char *const *fields, int n);

/* Writes fields[0..n-1] as one line with one write(). */
int sweep_csv_line(sweep_csv *o, const char *const *fields, int n, cs_err *err);

void sweep_csv_close(sweep_csv *o);

#endif
