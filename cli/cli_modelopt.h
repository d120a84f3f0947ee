/* cli_modelopt: the model shape flags (--layers, --hidden, ...) that the
 * model, estimate and later commands share.
 *
 * Owns the flags' getopt table, their parsing into model_flags, and turning
 * "NAME and/or shape flags" into a validated model_desc. */
#ifndef CS_CLI_MODELOPT_H
#define CS_CLI_MODELOPT_H

#include <getopt.h>

#include "model.h"

/* getopt_long values of the shape flags are in [CLI_MODELOPT_FIRST, CLI_MODELOPT_LAST]. */
#define CLI_MODELOPT_FIRST 1000
#define CLI_MODELOPT_LAST 1099
#define CLI_MODELOPT_COUNT 14 /* entries of cli_modelopt_options (without a terminator) */

enum { MF_LAYERS, MF_HIDDEN, MF_HEADS, MF_KV_HEADS, MF_FFN, MF_VOCAB, MF_SEQ, MF_NINT };

typedef struct model_flags {
    long ints[MF_NINT]; /* 0 when not given (given values are >= 1) */
    int has_mlp, has_norm, has_pos, has_tied, has_bias, has_dtype;
    model_desc set; /* holds the enum/flag values given */
    const char *hf_config; /* --hf-config FILE: a HuggingFace config.json as the base; NULL: none */
} model_flags;

extern const struct option cli_modelopt_options[CLI_MODELOPT_COUNT];

/* The help lines of the flags. */
void cli_modelopt_help(void);

/* Handles one getopt value in the flags' range; returns CLI_OK or the
 * exit status after printing the error. */
int cli_modelopt_parse(const char *cmd, int c, const char *arg, model_flags *f);

/* True when any shape flag (not --dtype) or --hf-config was given. */
int cli_modelopt_any_shape(const model_flags *f);

/* The model: the catalog entry `name` (may be NULL) or the --hf-config
 * file, with the flags applied, validated.  Without either --layers,
 * --hidden and --heads are needed. */
int cli_modelopt_resolve(const char *cmd, const char *name, const model_flags *f,
                         model_desc *out);

#endif
