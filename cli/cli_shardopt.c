/* cli_shardopt: the sharding flags (see cli_shardopt.h). */
#include "cli_shardopt.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "sharding.h"

enum { O_ZERO = CLI_SHARDOPT_FIRST, O_FSDP, O_HSDP, O_PREFETCH, O_NO_RESHARD };

const struct option cli_shardopt_options[CLI_SHARDOPT_COUNT] = {
    {"zero", required_argument, 0, O_ZERO},
    {"fsdp", no_argument, 0, O_FSDP},
    {"hsdp-shard", required_argument, 0, O_HSDP},
    {"prefetch", required_argument, 0, O_PREFETCH},
    {"no-reshard", no_argument, 0, O_NO_RESHARD},
};

void cli_shardopt_init(shard_flags *f)
{
    memset(f, 0, sizeof *f);
    f->prefetch = SHARDING_FSDP_PREFETCH;
}

int cli_shardopt_parse(const char *cmd, int c, const char *arg, shard_flags *f)
{
    switch (c) {
    case O_ZERO:
        f->has_zero = 1;
        return cli_parse_int(cmd, "--zero", arg, 0, SHARDING_MAX_STAGE, &f->zero);
    case O_FSDP: f->fsdp = 1; return CLI_OK;
    case O_HSDP: return cli_parse_int(cmd, "--hsdp-shard", arg, 1, 1 << 24, &f->shard_group);
    case O_PREFETCH:
        f->has_prefetch = 1;
        return cli_parse_int(cmd, "--prefetch", arg, 0, SHARDING_MAX_PREFETCH, &f->prefetch);
    case O_NO_RESHARD: f->no_reshard = 1; return CLI_OK;
    default: return -1;
    }
}

int cli_shardopt_zero(const shard_flags *f)
{
    return f->fsdp ? 3 : f->has_zero ? (int)f->zero : -1;
}

int cli_shardopt_check(const char *cmd, const shard_flags *f, int zero_may_vary)
{
    if (f->fsdp && f->has_zero && f->zero != 3)
        return cli_bad_input(cmd, "--fsdp is ZeRO-3 (parameters, gradients and optimizer state "
                                  "sharded) but --zero %ld was given: drop one of them",
                             f->zero);
    int zero = cli_shardopt_zero(f);
    if (zero < 0 && zero_may_vary)
        return CLI_OK; /* the search applies them where the stage uses them */
    if (f->has_prefetch && zero != 3)
        return cli_bad_input(cmd, "--prefetch needs --zero 3 or --fsdp (only ZeRO-3 gathers "
                                  "parameters ahead of the layer computing)");
    if (f->no_reshard && zero != 3)
        return cli_bad_input(cmd, "--no-reshard needs --zero 3 or --fsdp (only ZeRO-3 gathers "
                                  "parameters to reshard)");
    if (f->shard_group && zero < 1)
        return cli_bad_input(cmd, "--hsdp-shard %ld needs --zero 1, 2 or 3, or --fsdp (HSDP "
                                  "shards inside the group; zero 0 shards nothing)",
                             f->shard_group);
    return CLI_OK;
}

void cli_shardopt_apply(const shard_flags *f, layout_desc *l)
{
    int zero = cli_shardopt_zero(f);
    l->zero = zero < 0 ? 0 : zero;
    l->shard_group = (int)f->shard_group;
    l->prefetch = (int)f->prefetch;
    l->no_reshard = f->no_reshard;
}

void cli_shardopt_help(void)
{
    printf("  --zero 0|1|2|3      ZeRO stage: 1 optimizer state (Megatron's distributed\n"
           "                      optimizer), 2 and gradients, 3 and parameters, sharded\n"
           "                      over dp (docs/estimate.md, Sharding)\n"
           "  --fsdp              PyTorch FSDP FULL_SHARD: --zero 3 with FSDP's defaults\n"
           "                      (one layer prefetched, resharded after forward)\n"
           "  --hsdp-shard N      HSDP: shard over groups of N data-parallel ranks (N\n"
           "                      divides dp), replicate across the dp/N groups\n"
           "  --prefetch N        ZeRO-3: layers gathered ahead of the one computing (1)\n"
           "  --no-reshard        ZeRO-3: keep gathered parameters from forward to backward\n"
           "                      (FSDP SHARD_GRAD_OP: no second all-gather, more memory)\n");
}
