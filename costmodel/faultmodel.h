/* faultmodel: what fails in a training job and how often, by component
 * class, turned into the failure sources of a goodput job.
 *
 * Owns the component classes (GPU, GPU memory, NIC, switch or cable, host,
 * software), their failure rates per component-hour, their detection and
 * restart times and whether a failure takes its node out (then the job
 * needs a spare or waits for the repair), how many components of each
 * class a job holds on a system, and the default rates derived from the
 * Llama 3 pre-training run (../shared/reference/llama3_failures_54days.csv;
 * 16,384 GPUs on 2,048 hosts with one NIC and one switch port per GPU, 54
 * days = 1,296 h):
 *   gpu         faulty GPU 148 + GPU system processor 17 = 165 / GPU-hours
 *   gpu_memory  HBM3 72 + SRAM 19 = 91 / GPU-hours
 *   switch      network switch or cable 35 / link-hours (one per NIC)
 *   host        CPU 2 / host-hours
 *   nic         none listed: 0 (set a rate to study them)
 *   software    the 126 of the 419 unexpected interruptions that the
 *               reference does not break down / host-hours (an assumption:
 *               the paper's remaining causes are mostly software, NCCL
 *               timeouts and host maintenance)
 * Those rates give back the 419 interruptions for that job by construction;
 * they are defaults to start from, not a validation.  Detection 60 s and
 * restart 600 s for every class are assumptions; hardware classes (gpu,
 * gpu_memory, nic, host) take their node out, switch and software do not. */
#ifndef CS_FAULTMODEL_H
#define CS_FAULTMODEL_H

#include "cs_error.h"
#include "goodput.h"
#include "system.h"

typedef enum fault_class {
    FAULT_GPU, FAULT_GPU_MEMORY, FAULT_NIC, FAULT_SWITCH, FAULT_HOST, FAULT_SOFTWARE,
    FAULT_NCLASSES
} fault_class;

typedef struct fault_class_desc {
    double per_component_hour; /* failures per component-hour (0: never) */
    double detect_s, restart_s;
    int needs_spare;           /* the failed node must be replaced */
} fault_class_desc;

typedef struct fault_model {
    fault_class_desc cls[FAULT_NCLASSES];
} fault_model;

/* The Llama 3 derived rates and the assumed times (see above). */
void fault_model_default(fault_model *fm);

/* "gpu", "gpu_memory", "nic", "switch", "host", "software". */
const char *fault_class_name(fault_class c);
/* The component a rate counts: "GPU", "NIC link", "host", ... */
const char *fault_class_component(fault_class c);
int fault_class_parse(const char *text, fault_class *out, cs_err *err);

/* Components of each class in a job of `gpus` GPUs on sys's nodes (filled
 * group by group): GPUs, GPU memories (one per GPU), NICs, NIC links (one
 * switch port and cable each), hosts, and hosts again for software. */
void fault_components(const sys_system *sys, long gpus, double count[FAULT_NCLASSES]);

/* The job's failure sources: one per class, in class order, with mean
 * 1 / (rate x count) (never when the rate is 0). */
void fault_sources(const fault_model *fm, const double count[FAULT_NCLASSES], goodput_job *job);

#endif
