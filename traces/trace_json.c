/* trace_json: Chrome trace JSON from a timeline (see trace_json.h). */
#include "trace_json.h"

#include <stdlib.h>
#include <string.h>

#include "cs_alloc.h"

#define GIB (1024.0 * 1024 * 1024)

/* A JSON string with quotes and escapes. */
static void put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

/* Picoseconds as trace microseconds, exactly (six decimals). */
static void put_us(FILE *f, const char *key, uint64_t time_ps)
{
    fprintf(f, ",\"%s\":%llu.%06llu", key, (unsigned long long)(time_ps / 1000000),
            (unsigned long long)(time_ps % 1000000));
}

/* ---- lanes: slices of one track that overlap without nesting ---- */

#define MAX_LANES 32

typedef struct lanes {
    int *lane_of;         /* [slice] */
    int *lanes_of_track;  /* [track]: lanes used */
} lanes;

static const timeline *sort_tl; /* qsort has no context argument in C17 */

static int by_track_start(const void *a, const void *b)
{
    const tl_slice *x = &sort_tl->slices[*(const int *)a], *y = &sort_tl->slices[*(const int *)b];
    if (x->track != y->track)
        return x->track < y->track ? -1 : 1;
    if (x->start_ps != y->start_ps)
        return x->start_ps < y->start_ps ? -1 : 1;
    return *(const int *)a - *(const int *)b;
}

/* Greedy interval partitioning per track: a slice takes the first lane
 * whose last slice has ended (a zero-length gap is fine). */
static void assign_lanes(const timeline *tl, lanes *ln)
{
    int n = tl->nslices;
    int *order = cs_xrealloc(NULL, sizeof *order * (size_t)(n ? n : 1));
    ln->lane_of = cs_xrealloc(NULL, sizeof *ln->lane_of * (size_t)(n ? n : 1));
    ln->lanes_of_track = calloc((size_t)tl->ntracks + 1, sizeof *ln->lanes_of_track);
    if (!ln->lanes_of_track)
        abort();
    for (int i = 0; i < n; i++)
        order[i] = i;
    sort_tl = tl;
    qsort(order, (size_t)n, sizeof *order, by_track_start);
    uint64_t lane_end[MAX_LANES];
    int track = -1;
    for (int k = 0; k < n; k++) {
        const tl_slice *s = &tl->slices[order[k]];
        if (s->track != track) {
            track = s->track;
            memset(lane_end, 0, sizeof lane_end);
        }
        int lane = 0;
        while (lane < MAX_LANES - 1 && lane < ln->lanes_of_track[track] && lane_end[lane] > s->start_ps)
            lane++;
        lane_end[lane] = s->end_ps > lane_end[lane] ? s->end_ps : lane_end[lane];
        if (lane + 1 > ln->lanes_of_track[track])
            ln->lanes_of_track[track] = lane + 1;
        ln->lane_of[order[k]] = lane;
    }
    free(order);
}

static int tid_of(int track, int lane) { return track * MAX_LANES + lane; }

/* ---- events ---- */

/* The stage a GPU serves, from its stage-bound tracks (-1 if none). */
static int gpu_stage(const timeline *tl, int gpu)
{
    for (int i = 0; i < tl->ntracks; i++)
        if (tl->tracks[i].gpu == gpu && tl->tracks[i].stage >= 0)
            return tl->tracks[i].stage;
    return -1;
}

static void put_metadata(FILE *f, const timeline *tl, const lanes *ln, int *first)
{
    for (int i = 0; i < tl->ntracks; i++) {
        const tl_track *t = &tl->tracks[i];
        int named = 0;
        for (int j = 0; j < i && !named; j++)
            named = tl->tracks[j].gpu == t->gpu;
        if (!named) {
            fprintf(f, "%s\n{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,\"args\":{\"name\":"
                       "\"GPU %d (stage %d)\"}}", *first ? "" : ",", t->gpu, t->gpu,
                    gpu_stage(tl, t->gpu));
            fprintf(f, ",\n{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":%d,\"args\":"
                       "{\"sort_index\":%d}}", t->gpu, t->gpu);
            *first = 0;
        }
        for (int lane = 0; lane < ln->lanes_of_track[i]; lane++) {
            fprintf(f, ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":%d,\"args\":"
                       "{\"name\":", t->gpu, tid_of(i, lane));
            char name[48];
            snprintf(name, sizeof name, lane ? "%s #%d" : "%s", t->label, lane + 1);
            put_string(f, name);
            fprintf(f, "}}");
        }
    }
}

static void put_slice(FILE *f, const timeline *tl, const lanes *ln, int i)
{
    const tl_slice *s = &tl->slices[i];
    fputs(",\n{\"ph\":\"X\",\"name\":", f);
    put_string(f, s->name);
    fputs(",\"cat\":", f);
    put_string(f, timeline_kind_name(s->kind));
    fprintf(f, ",\"pid\":%d,\"tid\":%d", tl->tracks[s->track].gpu, tid_of(s->track, ln->lane_of[i]));
    put_us(f, "ts", s->start_ps);
    put_us(f, "dur", s->end_ps - s->start_ps);
    fprintf(f, ",\"args\":{\"stage\":%d", s->stage);
    if (s->chunk >= 0)
        fprintf(f, ",\"chunk\":%d", s->chunk);
    if (s->microbatch >= 0)
        fprintf(f, ",\"microbatch\":%d", s->microbatch);
    if (s->layer_first >= 0)
        fprintf(f, ",\"layers\":\"%d-%d\"", s->layer_first, s->layer_last);
    fputs("}}", f);
}

static void put_flow_end(FILE *f, const timeline *tl, const lanes *ln, int id, int slice,
                         const char *ph)
{
    const tl_slice *s = &tl->slices[slice];
    fprintf(f, ",\n{\"ph\":\"%s\",%s\"id\":%d,\"name\":", ph, ph[0] == 'f' ? "\"bp\":\"e\"," : "",
            id);
    put_string(f, tl->slices[tl->flows[id].from_slice].name);
    fprintf(f, ",\"cat\":\"p2p\",\"pid\":%d,\"tid\":%d", tl->tracks[s->track].gpu,
            tid_of(s->track, ln->lane_of[slice]));
    put_us(f, "ts", s->start_ps);
    fputc('}', f);
}

static void put_memory(FILE *f, const timeline *tl)
{
    for (int s = 0; s < tl->pp; s++) {
        int track = timeline_stage_track(tl, s);
        if (track < 0)
            continue;
        const tl_memory *mem = &tl->memory[s];
        for (int p = 0; p < mem->npoints; p++) {
            fprintf(f, ",\n{\"ph\":\"C\",\"name\":\"memory stage %d\",\"pid\":%d", s,
                    tl->tracks[track].gpu);
            put_us(f, "ts", mem->points[p].time_ps);
            fprintf(f, ",\"args\":{\"GiB\":%.4f}}", mem->points[p].bytes / GIB);
        }
    }
}

/* The counter tracks (issue 17: each tier's utilisation), one "C" event
 * per point, the value under args.value. */
static void put_counters(FILE *f, const timeline *tl)
{
    for (int c = 0; c < tl->ncounters; c++) {
        const tl_counter *k = &tl->counters[c];
        for (int p = 0; p < k->npoints; p++) {
            fputs(",\n{\"ph\":\"C\",\"name\":", f);
            put_string(f, k->name);
            fprintf(f, ",\"pid\":%d", k->gpu);
            put_us(f, "ts", k->points[p].time_ps);
            fprintf(f, ",\"args\":{\"value\":%.4f}}", k->points[p].value);
        }
    }
}

int trace_json_write(FILE *f, const timeline *tl)
{
    lanes ln;
    assign_lanes(tl, &ln);
    fputs("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"title\":", f);
    put_string(f, tl->title);
    fprintf(f, ",\"gpus\":%d,\"pipeline_stages\":%d,\"microbatches\":%d},\n\"traceEvents\":[",
            tl->gpus, tl->pp, tl->microbatches);
    int first = 1;
    put_metadata(f, tl, &ln, &first);
    for (int i = 0; i < tl->nslices; i++)
        put_slice(f, tl, &ln, i);
    for (int k = 0; k < tl->nflows; k++) {
        put_flow_end(f, tl, &ln, k, tl->flows[k].from_slice, "s");
        put_flow_end(f, tl, &ln, k, tl->flows[k].to_slice, "f");
    }
    put_memory(f, tl);
    put_counters(f, tl);
    fputs("\n]}\n", f);
    free(ln.lane_of);
    free(ln.lanes_of_track);
    return ferror(f) ? -1 : 0;
}
