/* cli_model: `clustersim model`: the model catalog, or one model's shape and
 * its parameter count next to the published one. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "model.h"
#include "units.h"

#define CMD "model"

static void model_help(void)
{
    printf("usage: clustersim model [NAME] [shape flags] [--format table|csv]\n\n"
           "Without NAME or flags: the built-in models.  With NAME: its shape and exact\n"
           "parameter count (total, per layer, embeddings) beside the published count.\n"
           "Shape flags replace only the fields they name, in NAME's entry or, without\n"
           "NAME, in a GPT-style model (then --layers, --hidden and --heads are needed):\n"
           "  --layers N      transformer layers\n"
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
           "  --dtype fp16|bf16|fp8         (default fp16)\n"
           "Changing the shape of a built-in model drops its published count.\n");
}

/* The whole-number shape flags, in the order of the fields they set. */
enum { F_LAYERS, F_HIDDEN, F_HEADS, F_KV_HEADS, F_FFN, F_VOCAB, F_SEQ, NINT };
static const struct { const char *opt; long max; } int_flags[NINT] = {
    {"--layers", 100000},  {"--hidden", 1L << 20}, {"--heads", 1L << 16},
    {"--kv-heads", 1L << 16}, {"--ffn", 1L << 22}, {"--vocab", 1L << 24},
    {"--seq", 1L << 24},
};
#define OPT_INT 1000 /* getopt value of int_flags[i] is OPT_INT + i */

/* What the user typed; a flag not given leaves the base model's field alone. */
typedef struct model_flags {
    long ints[NINT]; /* 0 when not given (given values are >= 1) */
    int has_mlp, has_norm, has_pos, has_tied, has_bias, has_dtype;
    model_desc set; /* holds the enum/flag values given */
    cli_format fmt;
} model_flags;

static int parse_yes_no(const char *opt, const char *text, const char *yes, const char *no,
                        int *out)
{
    if (strcmp(text, yes) == 0)
        *out = 1;
    else if (strcmp(text, no) == 0)
        *out = 0;
    else
        return cli_bad_input(CMD, "%s: '%s' is not one of %s, %s", opt, text, yes, no);
    return CLI_OK;
}

/* Handles one option getopt_long returned. */
static int parse_one(int c, const char *arg, model_flags *f)
{
    cs_err err;
    int rc = 0;
    if (c >= OPT_INT && c < OPT_INT + NINT)
        return cli_parse_int(CMD, int_flags[c - OPT_INT].opt, arg, 1, int_flags[c - OPT_INT].max,
                             &f->ints[c - OPT_INT]);
    switch (c) {
    case 'm': f->has_mlp = 1; rc = model_mlp_parse(arg, "--mlp", &f->set.mlp, &err); break;
    case 'n': f->has_norm = 1; rc = model_norm_parse(arg, "--norm", &f->set.norm, &err); break;
    case 'p': f->has_pos = 1; rc = model_pos_parse(arg, "--pos", &f->set.pos, &err); break;
    case 'd': f->has_dtype = 1; rc = model_dtype_parse(arg, "--dtype", &f->set.dtype, &err); break;
    case 't':
        f->has_tied = 1;
        return parse_yes_no("--embeddings", arg, "tied", "untied", &f->set.tied_embeddings);
    case 'b':
        f->has_bias = 1;
        return parse_yes_no("--bias", arg, "yes", "no", &f->set.linear_bias);
    case 'f': return cli_parse_format(CMD, arg, &f->fmt);
    default: return cli_bad_input(CMD, "option %d has no handler", c); /* not reached */
    }
    return rc == 0 ? CLI_OK : cli_bad_err(CMD, &err);
}

/* Parses the flags; *name is the positional NAME or NULL. */
static int parse_flags(int argc, char **argv, model_flags *f, const char **name)
{
    static const struct option opts[] = {
        {"layers", required_argument, 0, OPT_INT + F_LAYERS},
        {"hidden", required_argument, 0, OPT_INT + F_HIDDEN},
        {"heads", required_argument, 0, OPT_INT + F_HEADS},
        {"kv-heads", required_argument, 0, OPT_INT + F_KV_HEADS},
        {"ffn", required_argument, 0, OPT_INT + F_FFN},
        {"vocab", required_argument, 0, OPT_INT + F_VOCAB},
        {"seq", required_argument, 0, OPT_INT + F_SEQ},
        {"mlp", required_argument, 0, 'm'},  {"norm", required_argument, 0, 'n'},
        {"pos", required_argument, 0, 'p'},  {"embeddings", required_argument, 0, 't'},
        {"bias", required_argument, 0, 'b'}, {"dtype", required_argument, 0, 'd'},
        {"format", required_argument, 0, 'f'}, {0, 0, 0, 0}};
    memset(f, 0, sizeof *f);
    f->fmt = CLI_TABLE;
    int c, rc;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (c == '?')
            return cli_bad_option(CMD, argc, argv);
        if ((rc = parse_one(c, optarg, f)))
            return rc;
    }
    if (optind + 1 < argc)
        return cli_bad_input(CMD, "unexpected argument '%s'; one model NAME at most",
                             argv[optind + 1]);
    *name = optind < argc ? argv[optind] : NULL;
    return CLI_OK;
}

static int any_shape_flag(const model_flags *f)
{
    for (int i = 0; i < NINT; i++)
        if (f->ints[i])
            return 1;
    return f->has_mlp || f->has_norm || f->has_pos || f->has_tied || f->has_bias;
}

/* A GPT-style model as Megatron-LM trains it, sized by the flags.  Without a
 * catalog entry to start from, the three sizes that have no sensible default
 * must be given. */
static int custom_base(const model_flags *f, model_desc *m)
{
    static const int required[] = {F_LAYERS, F_HIDDEN, F_HEADS};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!f->ints[required[i]])
            return cli_bad_input(CMD,
                                 "a model without NAME needs --layers, --hidden and --heads "
                                 "(%s is missing); or name a built-in model, see 'clustersim "
                                 "model'",
                                 int_flags[required[i]].opt);
    *m = (model_desc){"custom", 0, 0, 0, 0, 0, 51200, 2048, MODEL_MLP_GELU,
                      MODEL_NORM_LAYERNORM, MODEL_POS_LEARNED, 1, 1, MODEL_FP16, 0, 0, NULL};
    m->kv_heads = (int)f->ints[F_HEADS];
    m->ffn_hidden = (int)(4 * f->ints[F_HIDDEN] > int_flags[F_FFN].max ? int_flags[F_FFN].max
                                                                        : 4 * f->ints[F_HIDDEN]);
    return CLI_OK;
}

/* Applies the flags to m; a changed shape no longer has a published count. */
static void apply_flags(const model_flags *f, model_desc *m)
{
    int *fields[NINT] = {&m->layers, &m->hidden,     &m->heads,  &m->kv_heads,
                         &m->ffn_hidden, &m->vocab, &m->seq_len};
    int changed = 0;
    for (int i = 0; i < NINT; i++)
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

/* "6,738,415,616": whole counts with thousands separators. */
static const char *format_count(double count, char *buf, size_t len)
{
    char digits[64];
    snprintf(digits, sizeof digits, "%.0f", count);
    size_t n = strlen(digits), j = 0;
    for (size_t i = 0; i < n && j + 2 < len; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[j++] = ',';
        buf[j++] = digits[i];
    }
    buf[j] = 0;
    return buf;
}

/* Decimals a published figure in billions was printed with (0.1B step: 1). */
static int published_decimals(const model_desc *m)
{
    double step_b = m->published_step_params / 1e9;
    return step_b >= 1 ? 0 : (int)lround(-log10(step_b));
}

static void print_csv_header(void)
{
    printf("model,layers,hidden,heads,kv_heads,ffn,vocab,seq,mlp,norm,pos,embeddings,bias,dtype,"
           "params,params_per_layer,embedding_params,published_params,diff_percent\n");
}

static void print_csv_row(const model_desc *m)
{
    printf("%s,%d,%d,%d,%d,%d,%d,%d,%s,%s,%s,%s,%s,%s,%.0f,%.0f,%.0f,", m->name, m->layers,
           m->hidden, m->heads, m->kv_heads, m->ffn_hidden, m->vocab, m->seq_len,
           model_mlp_name(m->mlp), model_norm_name(m->norm), model_pos_name(m->pos),
           m->tied_embeddings ? "tied" : "untied", m->linear_bias ? "yes" : "no",
           model_dtype_name(m->dtype), model_params(m), model_params_per_layer(m),
           model_embedding_params(m));
    if (m->published_params > 0)
        printf("%.0f,%.3f\n", m->published_params, model_published_diff_percent(m));
    else
        printf(",\n");
}

static void list_models(cli_format fmt)
{
    if (fmt == CLI_CSV)
        print_csv_header();
    else
        printf("%-16s %6s %6s %5s %8s %6s %6s %5s %9s %9s %7s\n", "model", "layers", "hidden",
               "heads", "kv_heads", "ffn", "vocab", "seq", "params_B", "publ_B", "diff_%");
    for (int i = 0; i < model_catalog_count(); i++) {
        const model_desc *m = model_catalog_at(i);
        if (fmt == CLI_CSV) {
            print_csv_row(m);
            continue;
        }
        printf("%-16s %6d %6d %5d %8d %6d %6d %5d %9.3f %9.*f %+7.3f\n", m->name, m->layers,
               m->hidden, m->heads, m->kv_heads, m->ffn_hidden, m->vocab, m->seq_len,
               model_params(m) / 1e9, published_decimals(m), m->published_params / 1e9,
               model_published_diff_percent(m));
    }
}

static void describe_shape(const model_desc *m)
{
    printf("model          %s\n", m->name);
    printf("layers         %d\n", m->layers);
    printf("hidden         %d\n", m->hidden);
    printf("heads          %d of dimension %d\n", m->heads, model_head_dim(m));
    if (m->kv_heads == m->heads)
        printf("kv_heads       %d (multi-head attention)\n", m->kv_heads);
    else
        printf("kv_heads       %d (grouped-query attention, %d query heads per group)\n",
               m->kv_heads, m->heads / m->kv_heads);
    printf("ffn_hidden     %d (%s: %s)\n", m->ffn_hidden, model_mlp_name(m->mlp),
           m->mlp == MODEL_MLP_SWIGLU ? "gate, up, down" : "up, down");
    printf("vocab          %d\n", m->vocab);
    printf("seq_len        %d\n", m->seq_len);
    printf("norm           %s\n", model_norm_name(m->norm));
    printf("positions      %s\n", model_pos_name(m->pos));
    printf("embeddings     %s\n", m->tied_embeddings ? "tied" : "untied");
    printf("linear_bias    %s\n", m->linear_bias ? "yes" : "no");
    printf("dtype          %s (%d byte%s per parameter)\n", model_dtype_name(m->dtype),
           model_dtype_bytes(m->dtype), model_dtype_bytes(m->dtype) == 1 ? "" : "s");
}

static void describe_params(const model_desc *m)
{
    char a[64], b[64];
    double total = model_params(m);
    if (total >= 1e9)
        printf("params         %s (%.3f B)\n", format_count(total, a, sizeof a), total / 1e9);
    else
        printf("params         %s\n", format_count(total, a, sizeof a));
    printf("  per layer    %s x %d layers = %s\n", format_count(model_params_per_layer(m), a,
           sizeof a), m->layers, format_count(m->layers * model_params_per_layer(m), b, sizeof b));
    printf("  embeddings   %s\n", format_count(model_embedding_params(m), a, sizeof a));
    printf("  final norm   %s\n", format_count(model_final_norm_params(m), a, sizeof a));
    units_format_size((uint64_t)(total * model_dtype_bytes(m->dtype)), a, (int)sizeof a);
    printf("weights        %s in %s\n", a, model_dtype_name(m->dtype));
    if (m->published_params <= 0) {
        printf("published      none\n");
        return;
    }
    double diff = model_published_diff_percent(m);
    printf("published      %.*f B, computed differs by %+.3f%%%s\n", published_decimals(m),
           m->published_params / 1e9, diff,
           fabs(diff) > 1 && model_matches_published(m)
               ? " (the figure is printed rounded; the count rounds to it)" : "");
    printf("source         %s\n", m->params_source);
}

int cmd_model(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        model_help();
        return CLI_OK;
    }
    model_flags f;
    const char *name = NULL;
    int rc;
    if ((rc = parse_flags(argc, argv, &f, &name)))
        return rc;
    if (!name && !any_shape_flag(&f) && !f.has_dtype) {
        list_models(f.fmt);
        return CLI_OK;
    }
    model_desc m;
    cs_err err;
    if (name && model_find(name, &m, &err) != 0)
        return cli_bad_err(CMD, &err);
    if (!name && (rc = custom_base(&f, &m)))
        return rc;
    apply_flags(&f, &m);
    if (model_validate(&m, &err) != 0)
        return cli_bad_err(CMD, &err);
    if (f.fmt == CLI_CSV) {
        print_csv_header();
        print_csv_row(&m);
    } else {
        describe_shape(&m);
        describe_params(&m);
    }
    return CLI_OK;
}
