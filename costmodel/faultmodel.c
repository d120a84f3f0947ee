/* faultmodel: failure classes and their rates (see faultmodel.h). */
#include "faultmodel.h"

#include <string.h>

static const char *const names[FAULT_NCLASSES] = {"gpu", "gpu_memory", "nic", "switch", "host",
                                                  "software"};
static const char *const components[FAULT_NCLASSES] = {"GPU", "GPU", "NIC", "NIC link", "host",
                                                       "host"};

/* The Llama 3 run the defaults come from. */
#define L3_HOURS (54 * 24.0)
#define L3_GPUS 16384.0
#define L3_HOSTS 2048.0

void fault_model_default(fault_model *fm)
{
    static const double per_hour[FAULT_NCLASSES] = {
        165 / (L3_GPUS * L3_HOURS), 91 / (L3_GPUS * L3_HOURS), 0, 35 / (L3_GPUS * L3_HOURS),
        2 / (L3_HOSTS * L3_HOURS), 126 / (L3_HOSTS * L3_HOURS)};
    for (int c = 0; c < FAULT_NCLASSES; c++)
        fm->cls[c] = (fault_class_desc){per_hour[c], 60, 600,
                                        c != FAULT_SWITCH && c != FAULT_SOFTWARE};
}

const char *fault_class_name(fault_class c)
{
    return c < FAULT_NCLASSES ? names[c] : "?";
}

const char *fault_class_component(fault_class c)
{
    return c < FAULT_NCLASSES ? components[c] : "?";
}

int fault_class_parse(const char *text, fault_class *out, cs_err *err)
{
    for (int c = 0; c < FAULT_NCLASSES; c++)
        if (strcmp(text, names[c]) == 0) {
            *out = (fault_class)c;
            return 0;
        }
    return cs_fail(err, "'%s' is not a component class; valid: gpu, gpu_memory, nic, switch, "
                        "host, software", text);
}

void fault_components(const sys_system *sys, long gpus, double count[FAULT_NCLASSES])
{
    double hosts = 0, nics = 0, left = (double)gpus;
    for (int g = 0; g < sys->ngroups && left > 0; g++) {
        const sys_node_type *n = &sys->groups[g].node;
        double nodes = left / n->gpus;
        if (nodes > sys->groups[g].count)
            nodes = sys->groups[g].count;
        nodes = nodes == (long)nodes ? nodes : (double)(long)nodes + 1; /* a part node counts */
        hosts += nodes;
        nics += nodes * n->nics;
        left -= nodes * n->gpus;
    }
    count[FAULT_GPU] = count[FAULT_GPU_MEMORY] = (double)gpus;
    count[FAULT_NIC] = count[FAULT_SWITCH] = nics;
    count[FAULT_HOST] = count[FAULT_SOFTWARE] = hosts;
}

void fault_sources(const fault_model *fm, const double count[FAULT_NCLASSES], goodput_job *job)
{
    job->nsources = FAULT_NCLASSES;
    for (int c = 0; c < FAULT_NCLASSES; c++) {
        const fault_class_desc *d = &fm->cls[c];
        double rate_per_s = d->per_component_hour * count[c] / 3600;
        job->src[c] = (goodput_source){names[c], rate_per_s > 0 ? 1 / rate_per_s : 0,
                                       d->detect_s, d->restart_s, d->needs_spare};
    }
}
