/* search_report: what `clustersim search` prints and writes.
 *
 * Owns the summary of a search (the space, what each rule and the memory
 * check removed, the closed-form rate), the ranked table of the simulated
 * best (or its CSV), the message when nothing passes or fits, the file of
 * every evaluated layout (--csv) and the picture of time against memory
 * with the Pareto front (--svg), both staged so that a failed run leaves
 * neither.  Columns: docs/search.md. */
#ifndef CS_SEARCH_REPORT_H
#define CS_SEARCH_REPORT_H

#include <stdio.h>

#include "search.h"

/* Why nothing came out: no layout passes the rules, or none fits memory
 * (the one that came closest and by how much). */
void search_report_nothing(FILE *f, const search_input *in, const search_result *r);

/* Prints the summary and the simulated top `top` (CSV rows on stdout when
 * csv_stdout, the summary then going to stderr), and writes csv_path and
 * svg_path when given.  Returns 0, or -1 with err. */
int search_report_all(const search_input *in, const search_result *r, search_objective obj,
                      int top, int csv_stdout, const char *csv_path, const char *svg_path,
                      cs_err *err);

#endif
