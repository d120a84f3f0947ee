/* replay_print: the replay's printed results (see replay_print.h). */
#include "replay_print.h"

#include <stdlib.h>

#include "report.h"
#include "table.h"

static const replay_result *sort_result; /* qsort has no context argument */

static int slowest_first(const void *a, const void *b)
{
    double x = sort_result->rank[*(const int *)a].end_s, y = sort_result->rank[*(const int *)b].end_s;
    if (x != y)
        return x > y ? -1 : 1;
    return *(const int *)a - *(const int *)b;
}

static void rank_row(table *t, int r, const replay_rank *k)
{
    char cells[8][32];
    const char *row[8];
    snprintf(cells[0], sizeof cells[0], "%d", r);
    double v[7] = {k->end_s, k->compute_s, k->cpu_s, k->memory_s, k->comm_s, k->exposed_comm_s,
                   k->idle_s};
    for (int i = 0; i < 7; i++)
        snprintf(cells[i + 1], sizeof cells[i + 1], "%.3f", v[i] * 1e3);
    for (int i = 0; i < 8; i++)
        row[i] = cells[i];
    table_add_row(t, row);
}

void replay_print_table(FILE *f, const replay_label *lab, const replay_result *r, int max_ranks)
{
    fprintf(f, "traces             %s (%d ranks, %d nodes)\n", lab->traces, r->ranks, r->nodes);
    fprintf(f, "system             %s, %ld GPUs (rank r on GPU r)\n", lab->system, lab->gpus);
    fprintf(f, "iteration          %.6f s\n", r->iteration_s);
    fprintf(f, "collectives        %d\n", r->collectives);
    fprintf(f, "transfers          %d\n", r->transfers);
    if (r->priced)
        fprintf(f, "priced by model    %d compute nodes (num_ops, tensor_size)\n", r->priced);
    if (r->untimed)
        fprintf(f, "untimed            %d compute nodes with neither a duration nor num_ops: 0 s\n",
                r->untimed);
    static const char *const names[] = {"rank", "end",  "gpu compute", "cpu", "memory",
                                        "comm", "exposed comm", "idle"};
    static const char *const units[] = {NULL, "ms", "ms", "ms", "ms", "ms", "ms", "ms"};
    table *t = table_new(8, names, units);
    int *order = malloc(sizeof *order * (size_t)(r->ranks + 1));
    if (!order)
        abort();
    for (int i = 0; i < r->ranks; i++)
        order[i] = i;
    int shown = r->ranks;
    if (shown > max_ranks) {
        sort_result = r;
        qsort(order, (size_t)r->ranks, sizeof *order, slowest_first);
        shown = max_ranks;
    }
    for (int i = 0; i < shown; i++)
        rank_row(t, order[i], &r->rank[order[i]]);
    fputs("\n", f);
    table_print(t, f, 0);
    if (shown < r->ranks)
        fprintf(f, "(%d slowest of %d ranks; --ranks all shows every one)\n", shown, r->ranks);
    table_free(t);
    free(order);
}

void replay_print_csv(FILE *f, const replay_label *lab, const replay_result *r)
{
    fputs("traces,system,gpus,ranks,rank,iteration_s,end_s,compute_s,cpu_s,memory_s,comm_s,"
          "exposed_comm_s,idle_s\n", f);
    for (int i = 0; i < r->ranks; i++) {
        const replay_rank *k = &r->rank[i];
        report_csv_field(f, lab->traces);
        fputc(',', f);
        report_csv_field(f, lab->system);
        fprintf(f, ",%ld,%d,%d,%.9f,%.9f,%.9f,%.9f,%.9f,%.9f,%.9f,%.9f\n", lab->gpus, r->ranks, i,
                r->iteration_s, k->end_s, k->compute_s, k->cpu_s, k->memory_s, k->comm_s,
                k->exposed_comm_s, k->idle_s);
    }
}
