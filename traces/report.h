/* report: the files a run writes, staged so that nothing half-written is
 * ever left behind.
 *
 * Owns the output folder of a run.  Every file is written to a hidden
 * temporary name in the folder and renamed to its own name only when the
 * whole run succeeds (report_commit); a run that fails removes its
 * temporaries (report_abort), and the folder too if the run created it and
 * left it empty.  Names are plain file names: no '/', no leading '.'. */
#ifndef CS_REPORT_H
#define CS_REPORT_H

#include <stdio.h>

#include "cs_error.h"

typedef struct report_set report_set;

report_set *report_new(const char *dir);
/* Aborts what was not committed, the folder too when this set made it and
 * committed nothing into it. */
void report_free(report_set *r);

/* A set for one file given by path: its folder (or "."), and *name the
 * file name within it. */
report_set *report_for_path(const char *path, const char **name);

/* Opens a staged file for `name`; NULL with err on a bad name or an I/O error.
 * Writing the same name twice replaces the first. */
FILE *report_begin(report_set *r, const char *name, cs_err *err);

/* Closes one staged file early (it stays staged): for runs that write more
 * files than may be open at once.  Returns 0, or -1 with err. */
int report_end(report_set *r, FILE *f, cs_err *err);

/* Renames every staged file to its name.  Returns 0, or -1 with err. */
int report_commit(report_set *r, cs_err *err);

/* Removes every staged file (and the folder if this run created it empty). */
void report_abort(report_set *r);

/* Names committed so far, for the run's summary. */
int report_count(const report_set *r);
const char *report_path(const report_set *r, int i);

/* Installs handlers so that SIGINT, SIGTERM, SIGHUP or SIGPIPE remove
 * every staged temporary (and a folder the run created for them) before
 * the process dies of the signal: an interrupted command leaves neither
 * half-written files, temporaries nor an empty output folder. */
void report_cleanup_on_signals(void);

/* Unlinks every staged temporary of the process and removes the output
 * folders it created and has not committed into, when empty
 * (async-signal-safe: for a handler that ends the process itself). */
void report_remove_staged(void);

/* Writes one CSV field, quoted (through libcsv) only when it must be. */
void report_csv_field(FILE *f, const char *text);

#endif
