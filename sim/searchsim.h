/* searchsim: the search's second pass: the best layouts of the closed form
 * simulated on the engine and ranked by their simulated figures.
 *
 * Owns the top-K simulation (trainsim, folded: the code path of `clustersim
 * estimate`), the re-ranking, and the comparison of the two estimates: when
 * they differ by more than SEARCHSIM_AGREE_PERCENT, a note names the part of
 * the iteration that differs most (bubble, exposed data-parallel
 * communication, pipeline transfers, tensor-parallel communication,
 * compute), summed over the stages. */
#ifndef CS_SEARCHSIM_H
#define CS_SEARCHSIM_H

#include "search.h"

#define SEARCHSIM_AGREE_PERCENT 5.0
/* The most threads the finalists spread over (search_input.threads). */
#define SEARCHSIM_MAX_THREADS 256

typedef struct searchsim_row {
    int index;                  /* into the search result's candidates */
    estimate_result sim;        /* simulated figures; stages NULL and pp 0 (see the note) */
    double analytic_s;          /* the closed form's iteration */
    double diff_percent;        /* (analytic - simulated) / simulated */
    char note[96];              /* empty when they agree */
    double tokens_per_day;      /* with a fault model: simulated tokens/s x 86400 x goodput */
} searchsim_row;

/* At most this many GPU-simulations of finalists: top x the job's GPUs (a
 * folded simulation costs in proportion to the GPUs, about 60 us each in
 * the default build).  20 x 65,536 GPUs: the default top on the largest
 * job the project simulates (with the bar, a minute or two); --top 10000
 * on 1,024 GPUs ran for hours.  The fuzzing build simulates one finalist
 * (SEARCHSIM_MAX_FINALISTS). */
#ifndef SEARCHSIM_MAX_GPU_FINALISTS
#define SEARCHSIM_MAX_GPU_FINALISTS (20L * 65536)
#endif

/* Fails, naming the top that fits, when k finalists of in's job pass the
 * bound above; the faces call it before the search, searchsim_top again. */
int searchsim_check_top(const search_input *in, int k, cs_err *err);

/* Simulates the best k layouts by the objective (fewer if fewer fit) and
 * ranks them by simulated time (memory objective: by peak memory, then
 * time; goodput objective: by simulated tokens per day, most first).  rows must hold k entries; *nrows receives how many were filled.
 * Stops early, keeping what was simulated, when *stop is set.  The finalists
 * go through parmap: over in->threads (each simulation on its own copy of
 * the topology), or divided over the ranks under an MPI backend, every rank
 * receiving every row; the rows are the same for any thread or rank count. */
int searchsim_top(const search_input *in, const search_result *r, search_objective obj, int k,
                  searchsim_row *rows, int *nrows, cs_err *err);
void searchsim_rows_free(searchsim_row *rows, int n);

#endif
