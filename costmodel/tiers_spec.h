/* tiers_spec: a built-in system named with its NVMe drive count overridden
 * (issue 17).
 *
 * A published sweep over the number of SSDs in one server (Fuyou's Fig.
 * 10(b): 1, 2, 3, 6 and 12 drives of the same model) is one system at
 * several drive counts; "NAME:nvme=N" names the built-in NAME with N of
 * its drives, each with its datasheet rates, together at most the node's
 * measured NVMe link where it has one (tiers.h: an assumption that the
 * link holds at any drive count).  A plain "NAME" is the
 * catalog's system as sys_from_catalog gives it.  Every --system of the CLI
 * and Lua's system = go through here, so a sweep's row reruns by hand. */
#ifndef CS_TIERS_SPEC_H
#define CS_TIERS_SPEC_H

#include "system.h"

/* The most drives an override may name: a 2U server's front bays (24)
 * are the densest built-in setting; 64 leaves room and stops typos. */
#define TIERS_SPEC_MAX_DRIVES 64

/* Builds the system that spec names ("NAME" or "NAME:nvme=N", N in 1..64 in
 * decimal digits only, NAME with NVMe drives) on nodes nodes; an override
 * names the system by the spec.  Returns 0, or -1 with err naming
 * the spec and the rule. */
int sys_from_spec(const char *spec, int nodes, sys_system *out, cs_err *err);

#endif
