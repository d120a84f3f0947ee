/* cli_shardopt: the sharding flags shared by estimate (through
 * cli_layoutopt) and search: --zero 0|1|2|3, --fsdp, --hsdp-shard N,
 * --prefetch N, --no-reshard.
 *
 * Owns their getopt table, parsing, help lines, the rules that concern the
 * flags themselves (--fsdp is ZeRO-3, so another --zero contradicts it;
 * --prefetch and --no-reshard only mean something under ZeRO-3), and
 * copying them into a layout.  The layout's own rules (zero >= 1 needs
 * dp > 1, the shard group divides dp) are layout_validate's
 * (costmodel/sharding.h). */
#ifndef CS_CLI_SHARDOPT_H
#define CS_CLI_SHARDOPT_H

#include <getopt.h>

#include "layout.h"

#define CLI_SHARDOPT_FIRST 1200
#define CLI_SHARDOPT_LAST 1219
#define CLI_SHARDOPT_COUNT 5 /* entries of cli_shardopt_options (without a terminator) */

typedef struct shard_flags {
    long zero, shard_group, prefetch;
    int has_zero, fsdp, has_prefetch, no_reshard;
} shard_flags;

extern const struct option cli_shardopt_options[CLI_SHARDOPT_COUNT];

void cli_shardopt_init(shard_flags *f);

/* Handles one getopt value; CLI_OK, the exit status after printing the
 * error, or -1 when c is not a sharding flag. */
int cli_shardopt_parse(const char *cmd, int c, const char *arg, shard_flags *f);

/* The flags' own rules (exit status 2 naming the rule), after parsing.
 * zero_may_vary: no --zero means every stage (search), so the shard group
 * and the ZeRO-3 flags apply to the stages that use them. */
int cli_shardopt_check(const char *cmd, const shard_flags *f, int zero_may_vary);

/* The ZeRO stage the flags ask for (-1: none given). */
int cli_shardopt_zero(const shard_flags *f);

/* Copies the flags into a layout (zero, shard group, prefetch, reshard). */
void cli_shardopt_apply(const shard_flags *f, layout_desc *l);

void cli_shardopt_help(void);

#endif
