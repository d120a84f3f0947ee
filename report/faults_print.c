/* faults_print: table and CSV of a goodput study (see faults_print.h). */
#include "faults_print.h"

#include <math.h>

#include "units.h"

#define HOUR 3600.0
#define GB 1e9

static double reload_of(const goodput_job *job, const goodput_policy *p)
{
    return p->kind == GOODPUT_MEMORY ? p->memory_reload_s : job->reload_s;
}

static void print_header(FILE *f, const faults_study *st, const goodput_job *job,
                         const goodput_policy *p)
{
    double mtbf = goodput_job_mtbf_s(job);
    fprintf(f, "# %ld GPUs, %.4g days, %s", st->gpus, st->days, st->failures);
    char every[32];
    units_format_duration(mtbf, every, (int)sizeof every);
    if (!job->log)
        fprintf(f, ": the job fails every %s (%s)", every,
                job->dist == GOODPUT_WEIBULL ? "Weibull" : "exponential");
    fprintf(f, "\n");
    if (st->ckpt)
        fprintf(f, "# %s: checkpoint %.1f GB (%.3f GB per GPU, %.2f GB per node)\n", st->layout,
                st->ckpt->total_bytes / GB, st->ckpt->gpu_bytes / GB, st->ckpt->node_bytes / GB);
    fprintf(f, "# checkpoint %s: %.3g s stall%s", goodput_ckpt_name(p->kind), p->stall_s,
            p->kind == GOODPUT_SYNC ? "" : " + background write");
    if (p->kind != GOODPUT_SYNC)
        fprintf(f, " of %.3g s", p->write_s);
    fprintf(f, "; reload %.3g s\n", reload_of(job, p));
    if (job->spares == GOODPUT_SPARES_UNLIMITED)
        fprintf(f, "# spares: unlimited hot spares\n");
    else
        fprintf(f, "# spares: %d hot spare nodes, repair %.3g h\n", job->spares, job->repair_s / HOUR);
}

static void print_classes(FILE *f, const goodput_job *job, const goodput_stats *s)
{
    if (job->nsources < 2)
        return;
    fprintf(f, "  by class      ");
    for (int i = 0; i < job->nsources; i++)
        if (s->by_source_mean[i] > 0)
            fprintf(f, " %s %.1f", job->src[i].name, s->by_source_mean[i]);
    fprintf(f, "\n");
}

void faults_print_table(FILE *f, const faults_study *st, const goodput_job *job,
                        const goodput_policy *p, const goodput_stats *s)
{
    print_header(f, st, job, p);
    fprintf(f, "interval        %10.0f s%s\n", p->interval_s,
            st->auto_interval ? " (best found)" : "");
    if (st->daly_interval_s > 0)
        fprintf(f, "Daly optimum    %10.0f s (expected goodput at it %.4f)\n",
                st->daly_interval_s, st->daly_goodput);
    fprintf(f, "goodput         %10.4f +- %.4f (95%%, %d runs)\n", s->goodput_mean,
            s->goodput_ci95, s->runs);
    if (st->tokens_per_s > 0)
        fprintf(f, "tokens trained  %10.4g (%.4g per day; %.4g tokens/s while training)\n",
                s->goodput_mean * job->horizon_s * st->tokens_per_s,
                s->goodput_mean * 86400 * st->tokens_per_s, st->tokens_per_s);
    fprintf(f, "interruptions   %10.1f +- %.1f", s->interruptions_mean, s->interruptions_ci95);
    if (s->planned_mean > 0)
        fprintf(f, " (and %.1f planned)", s->planned_mean);
    fprintf(f, "\n");
    print_classes(f, job, s);
    fprintf(f, "work lost       %10.1f h\n", s->lost_hours_mean);
    fprintf(f, "checkpointing   %10.1f h\n", s->ckpt_hours_mean);
    fprintf(f, "restarts        %10.1f h", s->down_hours_mean);
    if (s->spare_wait_hours_mean > 0)
        fprintf(f, " (of which %.1f h waiting for spares or repairs)", s->spare_wait_hours_mean);
    fprintf(f, "\n");
}

void faults_print_csv(FILE *f, const faults_study *st, const goodput_job *job,
                      const goodput_policy *p, const goodput_stats *s)
{
    fprintf(f, "runs,interruptions_mean,interruptions_ci95,goodput_mean,goodput_ci95,interval_s,"
               "lost_hours_mean,checkpoint_hours_mean,restart_hours_mean,checkpoint,"
               "planned_mean,spare_wait_hours_mean,stall_s,tokens_mean\n");
    fprintf(f, "%d,%.3f,%.3f,%.6f,%.6f,%.1f,%.3f,%.3f,%.3f,%s,%.3f,%.3f,%.6g,", s->runs,
            s->interruptions_mean, s->interruptions_ci95, s->goodput_mean, s->goodput_ci95,
            p->interval_s, s->lost_hours_mean, s->ckpt_hours_mean, s->down_hours_mean,
            goodput_ckpt_name(p->kind), s->planned_mean, s->spare_wait_hours_mean, p->stall_s);
    if (st->tokens_per_s > 0)
        fprintf(f, "%.6g", s->goodput_mean * job->horizon_s * st->tokens_per_s);
    fprintf(f, "\n");
}
