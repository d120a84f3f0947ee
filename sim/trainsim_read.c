/* trainsim_read: what a simulated iteration did, read back from its tasks:
 * the breakdown of the GPU that finishes last, the timeline, busy times
 * (see trainsim_private.h). */
#include "trainsim_private.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cs_alloc.h"
#include "estimate_sched.h"
#include "memory.h"
#include "layout_stages.h"
#include "schedule.h"
#include "units.h"
#include "workload.h"

/* ---- reading the breakdown back ---------------------------------------------- */

/* Idle time before a task: waiting on its incoming transfer counts as p2p
 * (at most the transfer's own duration), waiting before the optimizer as
 * exposed data-parallel time, anything else as bubble. */
static void account_gap(const builder *b, const task_info *ti, int id, double gap_s,
                        estimate_stage *st)
{
    if (gap_s <= 0)
        return;
    if (ti->role == R_OPT) {
        st->dp_exposed_s += gap_s;
        return;
    }
    if (ti->cp_step) { /* an attention step waiting on the context-parallel ring */
        st->cp_exposed_s += gap_s;
        return;
    }
    if (ti->in_gather >= 0 && /* ZeRO-3: waiting for the layer's parameters */
        exec_task_end_ps(b->g, ti->in_gather) == exec_task_start_ps(b->g, id)) {
        double dur = units_ps_to_s(exec_task_end_ps(b->g, ti->in_gather) -
                                   exec_task_start_ps(b->g, ti->in_gather));
        /* deepspeed-2021's gate ends a chain on the data-parallel stream
         * that ran through the whole gap (its tasks wait only for the
         * compute before them), and pp 1 has no bubble */
        double waited = b->z3c || gap_s < dur ? gap_s : dur;
        st->dp_exposed_s += waited;
        gap_s -= waited;
    }
    double p2p = 0;
    int waited_for = ti->in_transfer2 >= 0 &&
                             exec_task_end_ps(b->g, ti->in_transfer2) == exec_task_start_ps(b->g, id)
                         ? ti->in_transfer2 /* the F&B unit's later input */
                         : ti->in_transfer;
    if (waited_for >= 0 && exec_task_end_ps(b->g, waited_for) == exec_task_start_ps(b->g, id)) {
        double dur = units_ps_to_s(exec_task_end_ps(b->g, waited_for) -
                                   exec_task_start_ps(b->g, waited_for));
        p2p = gap_s < dur ? gap_s : dur;
    }
    st->p2p_s += p2p;
    st->bubble_s += gap_s - p2p;
}

/* The member each stage is read back from: the GPU that finishes last (in
 * folded mode the one member).  The last one is where the stage's time
 * went; an earlier one would show waiting for the others as idle time. */
static int *slowest_members(const builder *b)
{
    int pp = b->l->pp, ntasks = exec_task_count(b->g);
    int *member = int_array((size_t)pp, 0);
    uint64_t *end = calloc((size_t)pp, sizeof *end);
    if (!end)
        abort();
    for (int id = 0; id < ntasks; id++) {
        const task_info *ti = &b->info[id];
        if (ti->member < 0 || ti->role == R_DP || ti->role == R_GATHER || ti->role == R_P2P ||
            ti->role == R_NONE)
            continue;
        uint64_t e = exec_task_end_ps(b->g, id);
        if (e > end[ti->stage] || (e == end[ti->stage] && ti->member < member[ti->stage])) {
            end[ti->stage] = e;
            member[ti->stage] = ti->member;
        }
    }
    free(end);
    return member;
}

/* Whether a task is on the chosen member's timeline: its own, or (all
 * ranks) a tensor-parallel collective of its group, noted on the group's
 * first member. */
static int reads(const builder *b, const task_info *ti, int id, const int *member)
{
    int k = member[ti->stage];
    if (ti->role == R_TP && !b->folded)
        return ti->member == k - member_tp(b, k);
    if (ti->role == R_CP && exec_task_stream(b->g, id) < 0) /* an all-to-all of k's group */
        return ti->member == trainsim_cp_group_base(b, k);
    return ti->member == k;
}

/* ZeRO-2/3 and HSDP: the data-parallel traffic of the member read back,
 * exposed (its dp_exposed_s: every wait for a gather or a reduction) and
 * hidden (the rest of the time its collectives ran). */
static void read_sharding(const builder *b, const int *member, estimate_result *out)
{
    if (b->l->zero < 2 || layout_dp_cp(b->l) < 2)
        return;
    for (int id = 0; id < exec_task_count(b->g); id++) {
        const task_info *ti = &b->info[id];
        if ((ti->role == R_DP || ti->role == R_GATHER) && ti->member >= 0 &&
            ti->member == member[ti->stage])
            out->stages[ti->stage].shard_hidden_s +=
                units_ps_to_s(exec_task_end_ps(b->g, id) - exec_task_start_ps(b->g, id));
    }
    for (int s = 0; s < b->l->pp; s++) {
        estimate_stage *st = &out->stages[s];
        st->shard_exposed_s = st->dp_exposed_s;
        st->shard_hidden_s = st->shard_hidden_s > st->dp_exposed_s
                                 ? st->shard_hidden_s - st->dp_exposed_s
                                 : 0;
    }
}

void trainsim_read_breakdown(const builder *b, estimate_result *out)
{
    int ntasks = exec_task_count(b->g);
    uint64_t *prev_end = calloc((size_t)b->l->pp, sizeof *prev_end);
    if (!prev_end)
        abort();
    int *member = slowest_members(b);
    for (int id = 0; id < ntasks; id++) {
        const task_info *ti = &b->info[id];
        if (ti->role == R_DP || ti->role == R_GATHER || ti->role == R_P2P || ti->role == R_NONE ||
            !reads(b, ti, id, member))
            continue;
        estimate_stage *st = &out->stages[ti->stage];
        uint64_t start = exec_task_start_ps(b->g, id), end = exec_task_end_ps(b->g, id);
        uint64_t from = start > prev_end[ti->stage] ? start : prev_end[ti->stage];
        if ((ti->role == R_TP && !b->folded) ||
            (ti->role == R_CP && exec_task_stream(b->g, id) < 0))
            from = prev_end[ti->stage]; /* waiting for the group is part of the collective */
        else
            account_gap(b, ti, id, units_ps_to_s(start - prev_end[ti->stage]), st);
        double busy = units_ps_to_s(end - from);
        switch (ti->role) {
        case R_FWD: case R_BWD: case R_WGT: st->compute_s += busy; break;
        case R_REC: st->recompute_s += busy; break;
        case R_TP: st->tp_comm_s += busy; break;
        case R_CP: st->cp_exposed_s += busy; break;
        case R_EP: st->ep_comm_s += busy; break;
        default: st->optimizer_s += busy; break; /* optimizer, parameter all-gather */
        }
        prev_end[ti->stage] = end;
    }
    for (int s = 0; s < b->l->pp; s++) {
        out->stages[s].bubble_s += out->iteration_s - units_ps_to_s(prev_end[s]);
        out->stages[s].cp_hidden_s = b->cp_hidden_s[s];
    }
    read_sharding(b, member, out);
    free(prev_end);
    free(member);
}

void trainsim_read_post_validated(const builder *b, estimate_result *out)
{
    int pp = b->l->pp, ntasks = exec_task_count(b->g);
    double *first = cs_xrealloc(NULL, sizeof *first * (size_t)pp);
    double *done = cs_xrealloc(NULL, sizeof *done * (size_t)pp);
    for (int s = 0; s < pp; s++)
        first[s] = INFINITY, done[s] = 0;
    for (int id = 0; id < ntasks; id++) {
        const task_info *ti = &b->info[id];
        if (ti->role == R_NONE || ti->role == R_P2P)
            continue;
        first[ti->stage] = fmin(first[ti->stage], units_ps_to_s(exec_task_start_ps(b->g, id)));
        done[ti->stage] = fmax(done[ti->stage], units_ps_to_s(exec_task_end_ps(b->g, id)));
    }
    for (int s = 0; s < pp; s++)
        first[s] = isinf(first[s]) ? 0 : first[s];
    double span = estimate_post_validated_s(pp, first, done);
    for (int s = 0; s < pp; s++)
        out->stages[s].bubble_s = fmax(0, out->stages[s].bubble_s - (out->iteration_s - span));
    out->iteration_s = span;
    free(first);
    free(done);
}

/* ---- the timeline ------------------------------------------------------------ */

static const tl_kind role_kind[] = {
    [R_FWD] = TL_FORWARD, [R_BWD] = TL_BACKWARD, [R_REC] = TL_RECOMPUTE, [R_TP] = TL_TP_COMM,
    [R_DP] = TL_DP_COMM,  [R_OPT] = TL_OPTIMIZER, [R_AG] = TL_PARAM_GATHER, [R_P2P] = TL_P2P,
    [R_WGT] = TL_WEIGHT_GRAD, [R_GATHER] = TL_PARAM_GATHER,
    [R_CP] = TL_TP_COMM /* communication on the compute stream */,
    [R_EP] = TL_TP_COMM /* a collective of the layer, as tp's */};

/* The track of a task: its stream's, or one per GPU for streamless tasks
 * (transfers on "p2p send", all-ranks tensor-parallel collectives on "tp"). */
static int task_track(const builder *b, timeline *tl, int id, int *stream_track, int *gpu_track)
{
    int st = exec_task_stream(b->g, id);
    const task_info *ti = &b->info[id];
    if (st >= 0) {
        if (stream_track[st] < 0)
            stream_track[st] = timeline_add_track(tl, exec_stream_gpu(b->g, st), ti->stage,
                                                  exec_stream_label(b->g, st));
        return stream_track[st];
    }
    int which = ti->role == R_P2P ? 0 : 1;
    int *slot = &gpu_track[ti->gpu * 2 + which];
    if (*slot < 0)
        *slot = timeline_add_track(tl, ti->gpu, ti->role == R_P2P ? -1 : ti->stage,
                                   which ? "tp" : "p2p send");
    return *slot;
}

/* A slice's name: the task's; where the backward is split, a unit's F, B
 * or W with its microbatch and (two chunks) its chunk or DualPipe's
 * direction, as the schedule picture labels them. */
static void unit_name(const builder *b, const task_info *ti, const char *task, char *out,
                      size_t len)
{
    int unit = ti->role == R_FWD || ti->role == R_BWD || ti->role == R_WGT;
    if (!b->split || !unit || ti->microbatch < 0) {
        snprintf(out, len, "%s", task);
        return;
    }
    const char *part = b->l->schedule == LAYOUT_SCHEDULE_DUALPIPE ? "direction" : "chunk";
    if (b->nchunks > 1)
        snprintf(out, len, "%s mb %d %s %d", task, ti->microbatch, part, ti->chunk);
    else
        snprintf(out, len, "%s mb %d", task, ti->microbatch);
}

static void record_slices(const builder *b, timeline *tl, int *slice_of)
{
    int ntasks = exec_task_count(b->g), nstreams = exec_stream_count(b->g);
    int *stream_track = int_array((size_t)nstreams, -1);
    int *gpu_track = int_array((size_t)layout_gpus(b->l) * 2, -1);
    for (int id = 0; id < ntasks; id++) {
        const task_info *ti = &b->info[id];
        slice_of[id] = -1;
        if (ti->role == R_NONE)
            continue;
        tl_slice sl = {task_track(b, tl, id, stream_track, gpu_track), role_kind[ti->role],
                       ti->stage, ti->chunk, ti->microbatch, -1, -1,
                       exec_task_start_ps(b->g, id), exec_task_end_ps(b->g, id), "", 0};
        if (ti->chunk >= 0 && ti->role != R_P2P) {
            int at_stage, at_chunk;
            schedule_position(b->l, schedule_vstage(b->l, ti->stage, ti->chunk), &at_stage,
                              &at_chunk);
            /* each stage its own count under an uneven split (layout_stages.h) */
            sl.layer_first = layout_chunk_first_layer(b->l, b->in->model, at_stage, at_chunk);
            sl.layer_last =
                sl.layer_first + layout_stage_chunk_layers(b->l, b->in->model, at_stage) - 1;
        }
        unit_name(b, ti, exec_task_name(b->g, id), sl.name, sizeof sl.name);
        sl.fb_pair = ti->fb_pair;
        slice_of[id] = timeline_add_slice(tl, &sl);
    }
    free(stream_track);
    free(gpu_track);
}

static void record_memory(const builder *b, timeline *tl)
{
    const model_desc *m = b->in->model;
    tl->usable_bytes = memory_usable_bytes(estimate_device(b->in->topology));
    for (int s = 0; s < b->l->pp; s++) {
        memory_breakdown mb;
        cs_err ignored;
        if (memory_per_stage(m, b->l, s, &mb, &ignored) != 0)
            continue; /* cannot happen: the layout was validated */
        tl_memory *mem = &tl->memory[s];
        mem->static_bytes = mb.weights_bytes + mb.grads_bytes + mb.optimizer_bytes + mb.buffers_bytes;
        mem->working_bytes = memory_recompute_working_bytes(m, b->l);
        for (int c = 0; c < b->nchunks; c++) {
            int at_stage, at_chunk;
            schedule_position(b->l, schedule_vstage(b->l, s, c), &at_stage, &at_chunk);
            mem->unit_bytes[c] = memory_unit_bytes(m, b->l, at_stage, at_chunk);
            double wpend = layout_stage_chunk_layers(b->l, m, at_stage) *
                           memory_wpending_bytes_per_layer(m, b->l);
            mem->wpend_bytes[c] = b->split ? fmin(mem->unit_bytes[c], wpend) : 0;
        }
    }
    timeline_memory_build(tl);
}

/* Slices with the transfers' flows, and memory over time. */
void trainsim_record_timeline(const builder *b, uint64_t makespan_ps, timeline *tl)
{
    char desc[120];
    timeline_init(tl, b->l->pp, b->nchunks, b->m);
    snprintf(tl->title, sizeof tl->title, "%s, %s", b->in->model->name,
             layout_describe(b->l, desc, sizeof desc));
    tl->gpus = b->in->gpus;
    tl->makespan_ps = makespan_ps;
    tl->bidirectional = b->l->schedule == LAYOUT_SCHEDULE_DUALPIPE;
    int ntasks = exec_task_count(b->g);
    int *slice_of = int_array((size_t)ntasks, -1);
    record_slices(b, tl, slice_of);
    for (int id = 0; id < ntasks; id++) {
        int ins[2] = {b->info[id].in_transfer, b->info[id].in_transfer2}; /* 2: an F&B unit */
        for (int i = 0; i < 2; i++)
            if (ins[i] >= 0 && slice_of[ins[i]] >= 0 && slice_of[id] >= 0)
                timeline_add_flow(tl, slice_of[ins[i]], slice_of[id]);
    }
    free(slice_of);
    record_memory(b, tl);
}

/* Each GPU's compute-stream busy time (not the fitted data-parallel
 * collectives that run as timed tasks on the "dp" stream). */
void trainsim_read_busy(const builder *b, double *busy_s, int gpus)
{
    for (int i = 0; i < gpus; i++)
        busy_s[i] = 0;
    for (int t = 0; t < exec_task_count(b->g); t++) {
        int stream = exec_task_stream(b->g, t), role = b->info[t].role;
        if (exec_task_kind(b->g, t) != EXEC_COMPUTE || stream < 0 || role == R_DP || role == R_AG ||
            role == R_GATHER)
            continue;
        int gpu = exec_stream_gpu(b->g, stream);
        if (gpu >= 0 && gpu < gpus)
            busy_s[gpu] += units_ps_to_s(exec_task_end_ps(b->g, t) - exec_task_start_ps(b->g, t));
    }
}
