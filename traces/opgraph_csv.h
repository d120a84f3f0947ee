/* opgraph_csv: an operator graph from the CSV files of ../shared/placement
 * (nodes.csv, edges.csv, groups.csv in one folder; README.md there).
 *
 * Owns the mapping from columns (found by header name, in any order) to
 * costmodel/opgraph, and the checks on every field: errors name the file,
 * the line and the cause (a missing column, text where a number belongs, an
 * edge to an unknown operator, a group not in groups.csv, a cycle). */
#ifndef CS_OPGRAPH_CSV_H
#define CS_OPGRAPH_CSV_H

#include "cs_error.h"
#include "opgraph.h"

/* Reads dir/nodes.csv, dir/edges.csv and, when present, dir/groups.csv into
 * g (initialised here; opg_free it even on failure), then opg_finish. */
int opgraph_read_dir(const char *dir, opgraph *g, cs_err *err);

#endif
