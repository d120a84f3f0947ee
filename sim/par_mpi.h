/* par_mpi: parmap's items divided over MPI ranks (Open MPI), for
 * `mpirun -np N clustersim sweep|search|faults ...`.
 *
 * Every rank runs the same command with the same arguments (SPMD).  Rank 0
 * hands out items in chunks that shrink as the work runs out (guided
 * self-scheduling: a rank that finishes early asks for more), runs items
 * itself on a second thread while it dispatches, gathers the results by
 * index, commits them in order, and broadcasts them so that every rank goes
 * on with the same values.  Only rank 0 writes to stdout, stderr and
 * report files.  A rank that dies on a signal prints the item it was on; a
 * job that mpirun stops (a rank was killed) prints, from rank 0, the item
 * each rank had.
 *
 * Built without MPI (-Dmpi=disabled, or no Open MPI found), par_mpi_start
 * refuses to run under mpirun with more than one rank: N copies of the
 * same command would each print the whole result. */
#ifndef CS_PAR_MPI_H
#define CS_PAR_MPI_H

/* Before anything else in main: under mpirun (the environment says so),
 * initialises MPI and installs the parmap backend.  Returns 0, or -1 with
 * a message printed when the command cannot run. */
int par_mpi_start(int *argc, char ***argv);

/* After the command: finalises MPI if it was started; returns rc (rank 0's
 * exit status is the job's). */
int par_mpi_finish(int rc);

/* 1 when built with MPI. */
int par_mpi_built(void);

#endif
