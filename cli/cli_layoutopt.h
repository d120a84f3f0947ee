/* cli_layoutopt: the flags that describe one training job (system, GPUs,
 * model, layout) shared by estimate and faults.
 *
 * Owns the flags' getopt table, their parsing into layout_flags, the help
 * lines, and building the job they describe (model, system, topology,
 * layout, estimate input).  Model shape flags come from cli_modelopt. */
#ifndef CS_CLI_LAYOUTOPT_H
#define CS_CLI_LAYOUTOPT_H

#include <getopt.h>

#include "calib.h"
#include "cli_epopt.h"
#include "cli_modelopt.h"
#include "cli_shardopt.h"
#include "estimate.h"
#include "layout.h"
#include "moe_hist.h"

#define CLI_LAYOUTOPT_FIRST 1100
#define CLI_LAYOUTOPT_LAST 1199
#define CLI_LAYOUTOPT_COUNT 34 /* entries of cli_layoutopt_options (without a terminator) */
/* Room for a command's own options plus the layout and model flags and the terminator. */
#define CLI_LAYOUTOPT_TABLE(nown) \
    ((nown) + CLI_LAYOUTOPT_COUNT + CLI_MODELOPT_COUNT + CLI_SHARDOPT_COUNT + 1)

typedef struct layout_flags {
    const char *system, *model;
    const char *device_profile; /* --device-profile FILE, or NULL */
    long gpus, nodes, tp, pp, dp, vpp, mbs, gbs;
    int sp, unfused, has_schedule, has_recompute, tp_across;
    framework_kind framework; /* --framework (layout_init's default when not given) */
    layout_schedule schedule;
    layout_recompute recompute;
    model_flags mf;
    shard_flags sf; /* --zero, --fsdp, --hsdp-shard, --prefetch, --no-reshard */
    int offload, offload_to, offload_engine, offload_dpu; /* issue 17 (offload.h) */
    int post_validation; /* --post-validation (layout_desc.post_validation) */
    long cp;                  /* --cp / --context-parallel-size (1: none) */
    layout_cp_comm cp_comm;   /* --cp-comm-type */
    ep_flags ep; /* expert parallelism (cli_epopt.h) */
    /* uneven pipeline stages (layout_stages.h): --decoder-first/last-
     * pipeline-num-layers; 0 = not given */
    long pp_first, pp_last;
    int offload_ckpt_cpu; /* --offload-checkpoints (issue 17, layout_desc.offload_ckpt_cpu) */
} layout_flags;

/* A built job; cli_job_free releases it. */
typedef struct cli_job {
    model_desc model;
    sys_system sys;
    topo *topology;
    long gpus;
    layout_desc layout;
    opcost_eff eff;
    calib_profile profile; /* eff.profile points here with --device-profile */
    estimate_input in;   /* points into this struct: do not copy a cli_job */
    moe_hist hist;       /* --routing hist:FILE: the layout points into it */
} cli_job;

extern const struct option cli_layoutopt_options[CLI_LAYOUTOPT_COUNT];

void cli_layoutopt_init(layout_flags *f);

/* Fills dst with own[0..nown), the layout and model flags and the
 * terminator; dst has CLI_LAYOUTOPT_TABLE(nown) entries. */
void cli_layoutopt_table(struct option *dst, const struct option *own, int nown);

/* The help lines of the layout and model flags. */
void cli_layoutopt_help(void);

/* Handles one getopt value of the layout or model flags; returns CLI_OK,
 * the exit status after printing the error, or -1 when c is not one of them. */
int cli_layoutopt_parse(const char *cmd, int c, const char *arg, layout_flags *f);

/* True when any flag that names a model was given (--model or shape flags). */
int cli_layoutopt_has_model(const layout_flags *f);

/* Checks that the flags name a whole job (system, GPUs, model, batch). */
int cli_layoutopt_check(const char *cmd, const layout_flags *f);

/* Resolves the model, builds the system and topology, and fills the layout. */
int cli_layoutopt_build(const char *cmd, const layout_flags *f, cli_job *job);
void cli_job_free(cli_job *job);

#endif
