/* tiers_spec: a built-in system with its NVMe drive count overridden (see
 * tiers_spec.h). */
#include "tiers_spec.h"

#include <stdlib.h>
#include <string.h>

#define NVME_KEY ":nvme="

/* N of ":nvme=N": decimal digits only (strtol alone would take "+3" and
 * " 3") making a whole number in 1..TIERS_SPEC_MAX_DRIVES, else -1. */
static int drive_count(const char *text)
{
    size_t ndigits = strspn(text, "0123456789");
    if (ndigits == 0 || text[ndigits] != '\0' || ndigits > 3)
        return -1; /* 3 digits hold every count up to the limit */
    long n = strtol(text, NULL, 10);
    return n >= 1 && n <= TIERS_SPEC_MAX_DRIVES ? (int)n : -1;
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
    if (len == 0)
        return cs_fail(err, "system '%s': name a built-in system before ':nvme='", spec);
    if (len >= sizeof name) /* longer than any built-in name: not one of them */
        return cs_fail(err, "system '%s': unknown system '%.*s' (`clustersim system` lists "
                            "them)", spec, (int)len, spec);
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
    if (strlen(spec) < sizeof out->name) /* printed as asked: the drive count shows */
        memcpy(out->name, spec, strlen(spec) + 1);
    return sys_validate(out, err);
}
