/* placerun: one placement from graph to simulated step, for the command,
 * the Lua face and the benchmark.
 *
 * Owns the sequence preprocess -> place (or auto, whose moves are checked
 * by sim/placesim) -> memory replay -> simulate, the wall-clock time of the
 * placement, and writing the placement as CSV (staged: a temporary file
 * renamed at the end, so an error leaves no half-written file). */
#ifndef CS_PLACERUN_H
#define CS_PLACERUN_H

#include "opgraph.h"
#include "place.h"
#include "placesim.h"

typedef struct placerun_input {
    const opgraph *g;
    place_spec spec;
    place_algo algo;
    int coplace, fuse;
    topo *t;                /* simulate on this topology instead of the linear model */
    int max_evals;          /* auto's budget of simulations */
} placerun_input;

typedef struct placerun_output {
    place_prep prep;
    place_result res;
    place_auto_info auto_info;
    double prep_s, place_s; /* wall clock: preprocessing, the algorithm itself */
    placesim_result sim;
    uint64_t need_bytes[PLACE_MAX_DEVICES];  /* the replayed memory per device */
} placerun_output;

/* Fails (err filled) on bad input, an infeasible placement (naming the
 * device and the shortfall) or a failed simulation.  Free the output even on
 * failure. */
int placerun(const placerun_input *in, placerun_output *out, cs_err *err);
void placerun_free(placerun_output *out);

/* The simulation configuration of an input. */
placesim_cfg placerun_sim_cfg(const placerun_input *in);

/* Writes id,name,device per operator to path (staged). */
int placerun_write_csv(const char *path, const opgraph *g, const int *op_dev, cs_err *err);

#endif
