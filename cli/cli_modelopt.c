/* cli_modelopt: model shape flags shared by the commands (see cli_modelopt.h). */
#include "cli_modelopt.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "hf_config.h"

static const struct { const char *opt; long max; } int_flags[MF_NINT] = {
    {"--layers", MODEL_MAX_LAYERS}, {"--hidden", MODEL_MAX_HIDDEN}, {"--heads", MODEL_MAX_HEADS},
    {"--kv-heads", MODEL_MAX_HEADS}, {"--ffn", MODEL_MAX_FFN},     {"--vocab", MODEL_MAX_VOCAB},
    {"--seq", MODEL_MAX_SEQ},
};

enum { OPT_MLP = CLI_MODELOPT_FIRST + MF_NINT, OPT_NORM, OPT_POS, OPT_TIED, OPT_BIAS, OPT_DTYPE,
       OPT_HF_CONFIG };

const struct option cli_modelopt_options[CLI_MODELOPT_COUNT] = {
    {"layers", required_argument, 0, CLI_MODELOPT_FIRST + MF_LAYERS},
    {"hidden", required_argument, 0, CLI_MODELOPT_FIRST + MF_HIDDEN},
    {"heads", required_argument, 0, CLI_MODELOPT_FIRST + MF_HEADS},
    {"kv-heads", required_argument, 0, CLI_MODELOPT_FIRST + MF_KV_HEADS},
    {"ffn", required_argument, 0, CLI_MODELOPT_FIRST + MF_FFN},
    {"vocab", required_argument, 0, CLI_MODELOPT_FIRST + MF_VOCAB},
    {"seq", required_argument, 0, CLI_MODELOPT_FIRST + MF_SEQ},
    {"mlp", required_argument, 0, OPT_MLP},
    {"norm", required_argument, 0, OPT_NORM},
    {"pos", required_argument, 0, OPT_POS},
    {"embeddings", required_argument, 0, OPT_TIED},
    {"bias", required_argument, 0, OPT_BIAS},
    {"dtype", required_argument, 0, OPT_DTYPE},
    {"hf-config", required_argument, 0, OPT_HF_CONFIG},
};

void cli_modelopt_help(void)
{
    printf("  --layers N      transformer layers\n"
           "  --hidden N      model width; --heads must divide it\n"
           "  --heads N       attention heads\n"
           "  --kv-heads N    key/value heads, dividing --heads (default: --heads, MHA)\n"
           "  --ffn N         MLP inner width (default: 4 x --hidden)\n"
           "  --vocab N       vocabulary entries (default 51200)\n"
           "  --seq N         sequence length in tokens (default 2048)\n"
           "  --mlp gelu|swiglu             (default gelu)\n"
           "  --norm layernorm|rmsnorm      (default layernorm)\n"
           "  --pos learned|rotary          position embedding (default learned)\n"
           "  --embeddings tied|untied      output head shares the input table (default tied)\n"
           "  --bias yes|no                 biases in linear layers (default yes)\n"
           "  --dtype fp16|bf16|fp8         (default: the model's; fp16 without NAME)\n"
           "  --hf-config FILE  a HuggingFace config.json (llama, mistral, mixtral, qwen2,\n"
           "                  qwen3, qwen2_moe, qwen3_moe, deepseek_v2/v3, gpt2, gpt_neox) as\n"
           "                  the model instead of NAME; shape flags then change it\n"
           "                  (its seq is max_position_embeddings: give --seq to train shorter)\n");
}

static int parse_yes_no(const char *cmd, const char *opt, const char *text, const char *yes,
                        const char *no, int *out)
{
    if (strcmp(text, yes) == 0)
        *out = 1;
    else if (strcmp(text, no) == 0)
        *out = 0;
    else
        return cli_bad_input(cmd, "%s: '%s' is not one of %s, %s", opt, text, yes, no);
    return CLI_OK;
}

int cli_modelopt_parse(const char *cmd, int c, const char *arg, model_flags *f)
{
    cs_err err;
    int rc = 0;
    if (c >= CLI_MODELOPT_FIRST && c < CLI_MODELOPT_FIRST + MF_NINT) {
        int i = c - CLI_MODELOPT_FIRST;
        return cli_parse_int(cmd, int_flags[i].opt, arg, 1, int_flags[i].max, &f->ints[i]);
    }
    switch (c) {
    case OPT_MLP: f->has_mlp = 1; rc = model_mlp_parse(arg, "--mlp", &f->set.mlp, &err); break;
    case OPT_NORM: f->has_norm = 1; rc = model_norm_parse(arg, "--norm", &f->set.norm, &err); break;
    case OPT_POS: f->has_pos = 1; rc = model_pos_parse(arg, "--pos", &f->set.pos, &err); break;
    case OPT_DTYPE:
        f->has_dtype = 1;
        rc = model_dtype_parse(arg, "--dtype", &f->set.dtype, &err);
        break;
    case OPT_TIED:
        f->has_tied = 1;
        return parse_yes_no(cmd, "--embeddings", arg, "tied", "untied", &f->set.tied_embeddings);
    case OPT_HF_CONFIG: f->hf_config = arg; return CLI_OK;
    case OPT_BIAS:
        f->has_bias = 1;
        return parse_yes_no(cmd, "--bias", arg, "yes", "no", &f->set.linear_bias);
    default: return cli_bad_input(cmd, "option %d has no handler", c); /* not reached */
    }
    return rc == 0 ? CLI_OK : cli_bad_err(cmd, &err);
}

int cli_modelopt_any_shape(const model_flags *f)
{
    for (int i = 0; i < MF_NINT; i++)
        if (f->ints[i])
            return 1;
    return f->has_mlp || f->has_norm || f->has_pos || f->has_tied || f->has_bias ||
           f->hf_config != NULL;
}

/* A GPT-style model as Megatron-LM trains it, sized by the flags.  Without a
 * catalog entry to start from, the three sizes that have no sensible default
 * must be given. */
static int custom_base(const char *cmd, const model_flags *f, model_desc *m)
{
    static const int required[] = {MF_LAYERS, MF_HIDDEN, MF_HEADS};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!f->ints[required[i]])
            return cli_bad_input(cmd,
                                 "a model without a name needs --layers, --hidden and --heads "
                                 "(%s is missing); or name a built-in model, see 'clustersim "
                                 "model'",
                                 int_flags[required[i]].opt);
    model_custom(m, (int)f->ints[MF_LAYERS], (int)f->ints[MF_HIDDEN], (int)f->ints[MF_HEADS]);
    return CLI_OK;
}

/* Applies the flags to m; a changed shape no longer has a published count. */
static void apply_flags(const model_flags *f, model_desc *m)
{
    int *fields[MF_NINT] = {&m->layers, &m->hidden,     &m->heads,  &m->kv_heads,
                            &m->ffn_hidden, &m->vocab, &m->seq_len};
    int changed = 0;
    for (int i = 0; i < MF_NINT; i++)
        if (f->ints[i] && *fields[i] != (int)f->ints[i]) {
            *fields[i] = (int)f->ints[i];
            changed = 1;
        }
#define APPLY(has, field)                                                                    \
    if (f->has && m->field != f->set.field) {                                                \
        m->field = f->set.field;                                                             \
        changed = 1;                                                                         \
    }
    APPLY(has_mlp, mlp)
    APPLY(has_norm, norm)
    APPLY(has_pos, pos)
    APPLY(has_tied, tied_embeddings)
    APPLY(has_bias, linear_bias)
#undef APPLY
    if (f->has_dtype) /* the data type does not change the count */
        m->dtype = f->set.dtype;
    if (changed && m->published_params > 0) {
        char base[sizeof m->name];
        memcpy(base, m->name, sizeof base);
        snprintf(m->name, sizeof m->name, "%.36s (modified)", base);
        m->published_params = m->published_step_params = 0;
        m->params_source = NULL;
    }
}

int cli_modelopt_resolve(const char *cmd, const char *name, const model_flags *f,
                         model_desc *out)
{
    cs_err err;
    int rc;
    if (name && f->hf_config)
        return cli_bad_input(cmd, "give a model NAME or --hf-config %s, not both", f->hf_config);
    if (name && model_find(name, out, &err) != 0)
        return cli_bad_err(cmd, &err);
    if (f->hf_config && hf_config_load(f->hf_config, out, &err) != 0)
        return cli_bad_err(cmd, &err);
    if (!name && !f->hf_config && (rc = custom_base(cmd, f, out)))
        return rc;
    apply_flags(f, out);
    if (model_validate(out, &err) != 0)
        return cli_bad_err(cmd, &err);
    return CLI_OK;
}
