/* tiers_spec: a built-in system with its NVMe drive count overridden (see
 * tiers_spec.h). */
#include "tiers_spec.h"

#include <stdlib.h>
#include <string.h>

#define NVME_KEY ":nvme="

/* N of ":nvme=N": a whole number in 1..TIERS_SPEC_MAX_DRIVES, else -1. */
static int drive_count(const char *text)
{
    char *end = NULL;
    long n = strtol(text, &end, 10);
    if (end == text || *end != '\0' || n < 1 || n > TIERS_SPEC_MAX_DRIVES)
        return -1;
    return (int)n;
}

int sys_from_spec(const char *spec, int nodes, sys_system *out, cs_err *err)
{
    const char *colon = strchr(spec, ':');
    if (!colon)
        return sys_from_catalog(spec, nodes, out, err);
    if (strncmp(colon, NVME_KEY, strlen(NVME_KEY)) != 0)
        return cs_fail(err, "system '%s': the one override is ':nvme=N' (the node's NVMe "
                            "drives, 1 to %d)", spec, TIERS_SPEC_MAX_DRIVES);
    int drives = drive_count(colon + strlen(NVME_KEY));
    if (drives < 0)
        return cs_fail(err, "system '%s': ':nvme=' needs a whole number of drives from 1 to "
                            "%d", spec, TIERS_SPEC_MAX_DRIVES);
    char name[64];
    size_t len = (size_t)(colon - spec);
    if (len == 0 || len >= sizeof name)
        return cs_fail(err, "system '%s': name a built-in system before ':nvme='", spec);
    memcpy(name, spec, len);
    name[len] = '\0';
    if (sys_from_catalog(name, nodes, out, err) != 0)
        return -1;
    /* every node of the built-in systems is the same node type */
    for (int g = 0; g < out->ngroups; g++) {
        sys_tiers *t = &out->groups[g].node.tiers;
        if (t->nvme.drives < 1)
            return cs_fail(err, "system '%s': %s has no NVMe drives to count", spec, name);
        t->nvme.drives = drives;
    }
    return sys_validate(out, err);
}
