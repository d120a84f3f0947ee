/* cli_model: `clustersim model`: the model catalog, or one model's shape and
 * its parameter count next to the published one. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_modelopt.h"
#include "model.h"
#include "model_moe.h"
#include "units.h"

#define CMD "model"

static void model_help(void)
{
    printf("usage: clustersim model [NAME] [shape flags] [--format table|csv]\n\n"
           "Without NAME or flags: the built-in models.  With NAME: its shape and exact\n"
           "parameter count (total, per layer, embeddings) beside the published count.\n"
           "Shape flags replace only the fields they name, in NAME's entry or, without\n"
           "NAME, in a GPT-style model (then --layers, --hidden and --heads are needed):\n");
    cli_modelopt_help();
    printf("Changing the shape of a built-in model drops its published count.\n");
}

typedef struct model_opts {
    model_flags *f;
    cli_format *fmt;
} model_opts;

static int parse_one(int c, const char *arg, void *ctx)
{
    model_opts *o = ctx;
    return c == 'f' ? cli_parse_format(CMD, arg, o->fmt) : cli_modelopt_parse(CMD, c, arg, o->f);
}

/* Parses the flags; *name is the positional NAME or NULL. */
static int parse_flags(int argc, char **argv, model_flags *f, cli_format *fmt, const char **name)
{
    struct option opts[CLI_MODELOPT_COUNT + 2];
    memcpy(opts, cli_modelopt_options, sizeof cli_modelopt_options);
    opts[CLI_MODELOPT_COUNT] = (struct option){"format", required_argument, 0, 'f'};
    opts[CLI_MODELOPT_COUNT + 1] = (struct option){0, 0, 0, 0};
    memset(f, 0, sizeof *f);
    *fmt = CLI_TABLE;
    model_opts o = {f, fmt};
    int first, rc;
    const cli_args args = {.first = &first};
    if ((rc = cli_getopt_each(CMD, argc, argv, opts, &args, parse_one, &o)))
        return rc;
    if (first + 1 < argc)
        return cli_bad_input(CMD, "unexpected argument '%s'; one model NAME at most",
                             argv[first + 1]);
    *name = first < argc ? argv[first] : NULL;
    return CLI_OK;
}

/* "6,738,415,616": whole counts with thousands separators, exact at any
 * size (printf has no 128-bit conversion: the digits by hand). */
static const char *format_count(model_count count, char *buf, size_t len)
{
    char rev[64], digits[64];
    size_t n = 0;
    do {
        rev[n++] = (char)('0' + (int)(count % 10));
        count /= 10;
    } while (count && n < sizeof rev - 1);
    for (size_t i = 0; i < n; i++)
        digits[i] = rev[n - 1 - i];
    digits[n] = 0;
    size_t j = 0;
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

/* The mixture-of-experts and latent-attention fields, when used. */
static void describe_moe_mla(const model_desc *m)
{
    if (m->qk_norm)
        printf("qk_norm        yes (RMSNorm over each head's queries and keys)\n");
    if (model_is_mla(m))
        printf("attention      multi-head latent: q_lora %d, kv_lora %d, rope %d, nope %d, v %d "
               "(KV cache %.0f bytes per token per layer)\n",
               m->mla_q_lora_rank, m->mla_kv_lora_rank, m->mla_rope_head_dim,
               m->mla_nope_head_dim, m->mla_v_head_dim, model_kv_bytes_per_token(m));
    if (!model_is_moe(m))
        return;
    printf("experts        %d routed of width %d, top-%d", m->moe_experts, m->moe_ffn_hidden,
           m->moe_topk);
    if (m->moe_shared_ffn_hidden)
        printf(", %d shared (width %d)", m->moe_shared_experts, m->moe_shared_ffn_hidden);
    printf("\n");
    if (m->moe_dense_layers)
        printf("dense layers   the first %d (MLP width %d)\n", m->moe_dense_layers, m->ffn_hidden);
    if (m->moe_capacity_factor > 0)
        printf("capacity       %.2f x the even share (tokens over it dropped)\n",
               m->moe_capacity_factor);
}

static void describe_shape(const model_desc *m)
{
    printf("model          %s\n", m->name);
    printf("layers         %d\n", m->layers);
    printf("hidden         %d\n", m->hidden);
    if (model_is_mla(m))
        printf("heads          %d (query/key dimension %d, value %d)\n", m->heads,
               model_qk_head_dim(m), model_v_head_dim(m));
    else
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
    printf("linear_bias    %s\n", m->linear_bias ? "yes" : m->qkv_bias ? "q, k, v only" : "no");
    describe_moe_mla(m);
    printf("dtype          %s (%d byte%s per parameter)\n", model_dtype_name(m->dtype),
           model_dtype_bytes(m->dtype), model_dtype_bytes(m->dtype) == 1 ? "" : "s");
}

static void describe_params(const model_desc *m)
{
    char a[64], b[64];
    double total = model_params(m);
    model_count exact = model_params_count(m), layer = model_params_per_layer_count(m);
    if (total >= 1e9)
        printf("params         %s (%.3f B)\n", format_count(exact, a, sizeof a), total / 1e9);
    else
        printf("params         %s\n", format_count(exact, a, sizeof a));
    int moe_layers = model_moe_layers(m), dense = m->layers - moe_layers;
    model_count dense_layer = model_dense_layer_params_count(m);
    model_count layers_total = (model_count)moe_layers * layer + (model_count)dense * dense_layer;
    if (moe_layers && dense)
        printf("  dense layer  %s x %d layers = %s\n", format_count(dense_layer, a, sizeof a),
               dense, format_count((model_count)dense * dense_layer, b, sizeof b));
    printf("  %s %s x %d layers = %s\n", moe_layers ? "MoE layer   " : "per layer   ",
           format_count(layer, a, sizeof a), moe_layers ? moe_layers : m->layers,
           format_count(moe_layers ? (model_count)moe_layers * layer : layers_total, b, sizeof b));
    printf("  embeddings   %s\n", format_count(model_embedding_params_count(m), a, sizeof a));
    printf("  final norm   %s\n",
           format_count(exact - layers_total - model_embedding_params_count(m), a, sizeof a));
    if (moe_layers)
        printf("active         %.3f B per token (top-%d of %d routed experts)\n",
               model_active_params(m) / 1e9, m->moe_topk, m->moe_experts);
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
    cli_format fmt;
    const char *name = NULL;
    int rc;
    if ((rc = parse_flags(argc, argv, &f, &fmt, &name)))
        return rc;
    if (!name && !cli_modelopt_any_shape(&f) && !f.has_dtype) {
        list_models(fmt);
        return CLI_OK;
    }
    model_desc m;
    if ((rc = cli_modelopt_resolve(CMD, name, &f, &m)))
        return rc;
    if (fmt == CLI_CSV) {
        print_csv_header();
        print_csv_row(&m);
    } else {
        describe_shape(&m);
        describe_params(&m);
    }
    return CLI_OK;
}
