/* chakra_export: a lowered training iteration written as Chakra execution
 * traces, one file per rank, that ASTRA-sim and `clustersim replay` read.
 *
 * Owns the mapping from the task graph sim/trainsim lowers (every rank)
 * to Chakra nodes: a compute task is a COMP_NODE on its GPU (duration in
 * duration_micros and, exact, in the duration_ps attribute; its stream in
 * the stream attribute; is_cpu_op false); a collective is a COMM_COLL_NODE
 * in the file of every member (comm_type, comm_size, pg_name naming the
 * group, coll_algo naming the algorithm it was priced with); a transfer is
 * a COMM_SEND_NODE on the sender and a COMM_RECV_NODE on the receiver
 * (comm_src, comm_dst, comm_tag, comm_size).  A dependency becomes a data
 * dependency in each file that holds both of its ends; a stream's program
 * order becomes dependencies between consecutive tasks of the stream, as
 * ASTRA-sim knows no streams.  Rank r is GPU r of the job.
 *
 * Files: PREFIX.R.et for every rank R and comm_group.json (ASTRA-sim's
 * communicator groups: pg_name -> ranks). */
#ifndef CS_CHAKRA_EXPORT_H
#define CS_CHAKRA_EXPORT_H

#include "estimate.h"
#include "report.h"

#define CHAKRA_EXPORT_PREFIX "iteration"

/* Lowers the iteration of in and stages its traces in files; the caller
 * commits or aborts the set.  Fails (err filled) where the graph cannot be
 * written as Chakra: collectives priced as plain times by a device
 * profile's fits, or a dependency between ranks that no communication
 * carries. */
int chakra_export_iteration(const estimate_input *in, report_set *files, cs_err *err);

#endif
