/* Unit tests: parallel layouts.  Every validity rule, broken on its own,
 * gives its own message with the values and the nearest valid ones; the
 * layouts Megatron-LM published (../shared/reference) are valid; describe
 * and the enum parsers. */
#include <stdlib.h>

#include "layout.h"
#include "reference.h"
#include "tap.h"

/* tp8 pp4 dp32 vpp2 mbs1 gbs1536 sp sel zero1 interleaved on llama3-70b
 * (80 layers, 64 heads, 8 kv heads, ffn 28672, seq 8192): 1024 GPUs of 8
 * per node, m = 48 microbatches, a multiple of pp. */
static void base(model_desc *m, layout_desc *l)
{
    CHECK(model_find("llama3-70b", m, NULL) == 0);
    layout_init(l, m);
    l->tp = 8;
    l->pp = 4;
    l->dp = 32;
    l->vpp = 2;
    l->gbs = 1536;
    l->sp = 1;
    l->recompute = LAYOUT_RECOMPUTE_SELECTIVE;
    l->zero = 1;
    l->schedule = LAYOUT_SCHEDULE_INTERLEAVED;
}

/* The layout fails validation on gpus_available GPUs (tp * pp * dp when 0 is
 * passed as -1: the GPU rule then never fires) and the message holds each
 * of the given substrings. */
static void expect_invalid(const layout_desc *l, const model_desc *m, int gpus,
                           const char *const *parts)
{
    cs_err err = {""};
    int g = gpus < 0 ? (int)layout_gpus(l) : gpus;
    CHECK(layout_validate(l, m, g, 8, &err) == -1);
    printf("# %s\n", err.msg);
    for (int i = 0; parts[i]; i++)
        CHECK_STR_CONTAINS(err.msg, parts[i]);
}

#define EXPECT(l, m, gpus, ...)                                                \
    do {                                                                       \
        const char *const parts_[] = {__VA_ARGS__, NULL};                      \
        expect_invalid(l, m, gpus, parts_);                                    \
    } while (0)

static void base_is_valid(void)
{
    model_desc m;
    layout_desc l;
    base(&m, &l);
    cs_err err = {""};
    CHECK(layout_validate(&l, &m, 1024, 8, &err) == 0);
    CHECK(err.msg[0] == '\0');
    CHECK_EQ_INT(layout_gpus(&l), 1024);
    CHECK_EQ_INT(layout_microbatches(&l), 48);
    CHECK_EQ_INT(layout_layers_per_stage(&l, &m), 20);
    CHECK_EQ_INT(layout_layers_per_chunk(&l, &m), 10);
    /* 0 GPUs and 0 per node skip the system rules */
    l.dp = 7;
    l.gbs = 7 * 4 * 2;
    CHECK(layout_validate(&l, &m, 0, 0, &err) == 0);
}

static void rule_sizes_positive(void)
{
    model_desc m;
    layout_desc l, b;
    base(&m, &b);
    const char *names[] = {"tp", "pp", "dp", "vpp", "mbs", "gbs"};
    for (int i = 0; i < 6; i++) {
        l = b;
        int *field[] = {&l.tp, &l.pp, &l.dp, &l.vpp, &l.mbs, &l.gbs};
        *field[i] = i == 5 ? -3 : 0;
        char want[32];
        snprintf(want, sizeof want, "%s %d must be a positive", names[i], i == 5 ? -3 : 0);
        EXPECT(&l, &m, 1024, want);
    }
}

static void rule_enums_in_range(void)
{
    model_desc m;
    layout_desc l, b;
    base(&m, &b);
    l = b;
    l.zero = 4;
    EXPECT(&l, &m, 1024, "zero 4 is not modeled", "0 (nothing sharded)",
           "3 (and parameters: FSDP)");
    l = b;
    l.recompute = (layout_recompute)7;
    EXPECT(&l, &m, 1024, "recompute 7 is not one of none, selective, full");
    l = b;
    l.schedule = (layout_schedule)12;
    EXPECT(&l, &m, 1024, "schedule 12 is not one of gpipe, 1f1b, interleaved, zb-h1, zb-h2, "
                         "zb-auto, zbv, v-half, v-min, dualpipe");
}

static void rule_model_valid(void)
{
    model_desc m;
    layout_desc l;
    base(&m, &l);
    m.kv_heads = 7;
    EXPECT(&l, &m, 1024, "kv_heads 7 does not divide heads 64");
}

static void rule_gpus_match(void)
{
    model_desc m;
    layout_desc l, b;
    base(&m, &b);
    l = b;
    l.dp = 30;
    l.gbs = 30 * 4 * 4; /* the batch rules pass: only the GPU count is wrong */
    EXPECT(&l, &m, 1024,
           "tp 8 x pp 4 x dp 30 = 960 GPUs, but the system has 1024; dp 32 would use them all");
    l = b;
    EXPECT(&l, &m, 1000, "tp x pp = 32 does not divide 1000", "dp 31 would use 992");
    EXPECT(&l, &m, 16, "= 1024 GPUs, but the system has 16", "one model replica",
           "(tp x pp = 32)");
}

static void rule_tp_divides_heads(void)
{
    model_desc m;
    layout_desc l;
    base(&m, &l);
    l.tp = 3;
    l.sp = 0;
    EXPECT(&l, &m, -1, "tp 3 does not divide heads 64", "whole attention heads",
           "tp values near 3 that divide heads 64, kv_heads 8 and ffn_hidden 28672: 2, 4");
}

static void rule_tp_divides_kv_heads(void)
{
    model_desc m;
    layout_desc l;
    base(&m, &l);
    l.tp = 16;
    l.allow_tp_across_nodes = 1;
    EXPECT(&l, &m, -1, "tp 16 does not divide kv_heads 8", "whole key/value heads",
           "ffn_hidden 28672: 8");
}

static void rule_tp_divides_ffn(void)
{
    model_desc m;
    layout_desc l;
    CHECK(model_find("llama2-7b", &m, NULL) == 0);
    m.ffn_hidden = 11004; /* 4 x 2751 */
    layout_init(&l, &m);
    l.tp = 8;
    EXPECT(&l, &m, -1, "tp 8 does not divide ffn_hidden 11004", "evenly",
           "kv_heads 32 and ffn_hidden 11004: 4");
}

static void rule_tp_within_node(void)
{
    model_desc m;
    layout_desc l;
    CHECK(model_find("turing-530b", &m, NULL) == 0);
    layout_init(&l, &m);
    l.tp = 16;
    l.pp = 35;
    l.gbs = 35;
    EXPECT(&l, &m, -1, "tp 16 is more than the 8 GPUs of a node",
           "largest valid tp within a node: 8", "allow_tp_across_nodes");
    l.allow_tp_across_nodes = 1;
    CHECK(layout_validate(&l, &m, 560, 8, NULL) == 0);
}

static void rule_tp_divides_node(void)
{
    model_desc m;
    layout_desc l;
    CHECK(model_find("megatron-1.7b", &m, NULL) == 0); /* 24 heads: tp 3 divides them */
    layout_init(&l, &m);
    l.tp = 3;
    EXPECT(&l, &m, -1, "tp 3 does not divide the 8 GPUs per node", "straddle two nodes",
           "tp values near 3 that divide 8 and the model's shape: 2, 4");
    l.allow_tp_across_nodes = 1;
    CHECK(layout_validate(&l, &m, 3, 8, NULL) == 0);
}

static void rule_layers_divisible(void)
{
    model_desc m;
    layout_desc l, b;
    base(&m, &b);
    l = b;
    l.pp = 3;
    l.vpp = 1;
    l.dp = 1;
    l.gbs = 48;
    l.schedule = LAYOUT_SCHEDULE_1F1B;
    EXPECT(&l, &m, -1, "layers 80 is not divisible by pp 3 x vpp 1 = 3",
           "pp near 3 with vpp 1: 2, 4", "vpp near 1 with pp 3: none");
    l = b;
    l.vpp = 3;
    EXPECT(&l, &m, -1, "layers 80 is not divisible by pp 4 x vpp 3 = 12",
           "pp near 4 with vpp 3: none", "vpp near 3 with pp 4: 2, 4");
}

static void rule_batch_divisible(void)
{
    model_desc m;
    layout_desc l, b;
    base(&m, &b);
    l = b;
    l.gbs = 1000;
    EXPECT(&l, &m, -1, "gbs 1000 is not a multiple of dp 32 x mbs 1 = 32",
           "nearest gbs: 992, 1024", "no mbs helps: dp 32 does not divide gbs 1000");
    l = b;
    l.mbs = 5;
    EXPECT(&l, &m, -1, "gbs 1536 is not a multiple of dp 32 x mbs 5 = 160",
           "nearest gbs: 1440, 1600", "mbs near 5 dividing gbs / dp = 48: 4, 6");
}

static void rule_vpp_needs_interleaved(void)
{
    model_desc m;
    layout_desc l;
    base(&m, &l);
    l.schedule = LAYOUT_SCHEDULE_1F1B;
    EXPECT(&l, &m, -1, "vpp 2 needs the interleaved schedule (1f1b runs one model chunk",
           "or vpp 1");
    l.schedule = LAYOUT_SCHEDULE_GPIPE;
    EXPECT(&l, &m, -1, "vpp 2 needs the interleaved schedule (gpipe runs");
}

static void rule_interleaved_needs_vpp(void)
{
    model_desc m;
    layout_desc l;
    base(&m, &l);
    l.vpp = 1;
    EXPECT(&l, &m, -1, "interleaved schedule needs vpp >= 2", "but vpp is 1",
           "smallest valid vpp (dividing layers / pp = 20): 2", "schedule 1f1b");
}

static void rule_interleaved_needs_pp(void)
{
    model_desc m;
    layout_desc l;
    base(&m, &l);
    l.pp = 1;
    l.dp = 128;
    EXPECT(&l, &m, 1024, "interleaved schedule needs pp >= 2", "but pp is 1");
}

static void rule_interleaved_microbatches(void)
{
    model_desc m;
    layout_desc l;
    base(&m, &l);
    l.gbs = 1568; /* m = 49 */
    EXPECT(&l, &m, 1024, "m = gbs / (dp x mbs) = 49 to be a multiple of pp 4",
           "Megatron's rule", "nearest gbs: 1536, 1664", "dp x mbs x pp = 128");
    l.schedule = LAYOUT_SCHEDULE_1F1B; /* 1F1B has no such rule */
    l.vpp = 1;
    CHECK(layout_validate(&l, &m, 1024, 8, NULL) == 0);
}

static void rule_sp_needs_tp(void)
{
    model_desc m;
    layout_desc l;
    base(&m, &l);
    l.tp = 1;
    l.dp = 256;
    l.gbs = 256 * 4;
    EXPECT(&l, &m, 1024, "sp needs tp > 1", "Megatron refuses it with tp 1",
           "raise tp or turn sp off");
    l.sp = 0;
    CHECK(layout_validate(&l, &m, 1024, 8, NULL) == 0);
}

static void rule_sp_divides_seq(void)
{
    model_desc m;
    layout_desc l;
    base(&m, &l);
    m.seq_len = 8190; /* 2 x 3^2 x 5 x 7 x 13 */
    EXPECT(&l, &m, 1024, "with sp, tp 8 must divide seq_len 8190", "seq_len / tp tokens",
           "ffn_hidden: 2");
    l.sp = 0;
    CHECK(layout_validate(&l, &m, 1024, 8, NULL) == 0);
}

/* Narayanan et al. 2021, Table 1: mbs 1 (not published; assumed), dp =
 * gpus / (tp x pp), 1F1B, DGX A100 nodes of 8 GPUs. */
static void megatron_published_layouts_valid(void)
{
    megatron_row rows[MEGATRON_MAX_ROWS];
    const model_desc *models[MEGATRON_MAX_ROWS];
    int n = megatron_rows_load(rows, models);
    for (int i = 0; i < n; i++) {
        megatron_row r = rows[i];
        const model_desc *m = models[i];
        layout_desc l;
        megatron_layout_of(&r, m, &l);
        cs_err err = {""};
        char desc[128];
        printf("# %-16s %s\n", m->name, layout_describe(&l, desc, sizeof desc));
        CHECK(layout_validate(&l, m, r.gpus, 8, &err) == 0);
        CHECK(err.msg[0] == '\0');
    }
    CHECK_EQ_INT(n, 10);
}

static void describe_text(void)
{
    model_desc m;
    layout_desc l;
    base(&m, &l);
    char buf[128];
    CHECK(strcmp(layout_describe(&l, buf, sizeof buf),
                 "tp8 pp4 dp32 vpp2 mbs1 gbs1536 sp sel zero1 interleaved") == 0);
    layout_init(&l, &m);
    CHECK(strcmp(layout_describe(&l, buf, sizeof buf), "tp1 pp1 dp1 mbs1 gbs1 1f1b") == 0);
    l.recompute = LAYOUT_RECOMPUTE_FULL;
    l.flash_attention = 0;
    l.dtype = MODEL_FP8;
    l.schedule = LAYOUT_SCHEDULE_GPIPE;
    CHECK(strcmp(layout_describe(&l, buf, sizeof buf),
                 "tp1 pp1 dp1 mbs1 gbs1 full gpipe noflash fp8") == 0);
    char small[8];
    memset(small, 'x', sizeof small);
    layout_describe(&l, small, sizeof small);
    CHECK(strcmp(small, "tp1 pp1") == 0); /* truncated, terminated */
    CHECK(layout_describe(&l, NULL, 0) == NULL);
}

/* The V-shapes need vpp 2 and pp >= 2; dualpipe vpp 1, an even pp and an
 * even m >= 2 pp; the zero-bubble ones one chunk. */
static void rule_split_schedules(void)
{
    model_desc m;
    layout_desc l, b;
    base(&m, &b);
    cs_err err = {""};
    l = b;
    l.schedule = LAYOUT_SCHEDULE_ZBV;
    CHECK(layout_validate(&l, &m, 1024, 8, &err) == 0);
    l.vpp = 1;
    EXPECT(&l, &m, 1024, "schedule zbv places two model chunks per pipeline rank in a V",
           "vpp is 1; use vpp 2");
    l.vpp = 2;
    l.pp = 1;
    l.dp = 128;
    EXPECT(&l, &m, 1024, "schedule zbv needs pp >= 2");
    l = b;
    l.schedule = LAYOUT_SCHEDULE_DUALPIPE;
    EXPECT(&l, &m, 1024, "dualpipe holds two whole stages per rank", "use vpp 1");
    l.vpp = 1;
    CHECK(layout_validate(&l, &m, 1024, 8, &err) == 0);
    l.gbs = 96;
    EXPECT(&l, &m, 1024, "m = gbs / (dp x mbs) = 3 to be even", "at least 2 pp = 8",
           "nearest gbs: 256");
    l.gbs = 1536;
    l.pp = 5;
    EXPECT(&l, &m, -1, "dualpipe needs an even pp", "pp is 5; nearest valid pp: 4, 6");
    l = b;
    l.schedule = LAYOUT_SCHEDULE_ZB_H1;
    EXPECT(&l, &m, 1024, "vpp 2 needs the interleaved schedule (zb-h1 runs one model chunk");
}

static void enum_names_parse(void)
{
    layout_recompute r;
    layout_schedule s;
    cs_err err = {""};
    CHECK(layout_recompute_parse("partial", "--recompute", &r, &err) == -1);
    CHECK(strcmp(err.msg, "--recompute: 'partial' is not one of none, selective, full") == 0);
    CHECK(layout_schedule_parse("zb-h3", "--schedule", &s, &err) == -1);
    CHECK(strcmp(err.msg, "--schedule: 'zb-h3' is not one of gpipe, 1f1b, interleaved, zb-h1, "
                          "zb-h2, zb-auto, zbv, v-half, v-min, dualpipe") == 0);
    for (int i = 0; i <= LAYOUT_RECOMPUTE_FULL; i++) {
        CHECK(layout_recompute_parse(layout_recompute_name((layout_recompute)i), "x", &r,
                                     NULL) == 0);
        CHECK_EQ_INT(r, i);
    }
    for (int i = 0; i <= LAYOUT_SCHEDULE_LAST; i++) {
        CHECK(layout_schedule_parse(layout_schedule_name((layout_schedule)i), "x", &s,
                                    NULL) == 0);
        CHECK_EQ_INT(s, i);
    }
    CHECK(layout_recompute_parse("SELECTIVE", "x", &r, NULL) == 0 &&
          r == LAYOUT_RECOMPUTE_SELECTIVE);
    CHECK(layout_schedule_parse("1F1B", "x", &s, NULL) == 0 && s == LAYOUT_SCHEDULE_1F1B);
    CHECK(strcmp(layout_recompute_name((layout_recompute)5), "?") == 0);
    CHECK(strcmp(layout_schedule_name((layout_schedule)-1), "?") == 0);
}

TAP_MAIN({"base layout valid", base_is_valid},
         {"rule: sizes positive", rule_sizes_positive},
         {"rule: zero, recompute, schedule in range", rule_enums_in_range},
         {"rule: model valid", rule_model_valid},
         {"rule: tp x pp x dp = GPUs", rule_gpus_match},
         {"rule: tp divides heads", rule_tp_divides_heads},
         {"rule: tp divides kv_heads", rule_tp_divides_kv_heads},
         {"rule: tp divides ffn_hidden", rule_tp_divides_ffn},
         {"rule: tp within a node", rule_tp_within_node},
         {"rule: tp divides the node", rule_tp_divides_node},
         {"rule: layers divisible by pp x vpp", rule_layers_divisible},
         {"rule: gbs divisible by dp x mbs", rule_batch_divisible},
         {"rule: vpp > 1 needs interleaved", rule_vpp_needs_interleaved},
         {"rule: interleaved needs vpp >= 2", rule_interleaved_needs_vpp},
         {"rule: interleaved needs pp >= 2", rule_interleaved_needs_pp},
         {"rule: interleaved needs m % pp == 0", rule_interleaved_microbatches},
         {"rule: sp needs tp > 1", rule_sp_needs_tp},
         {"rule: sp needs tp dividing seq_len", rule_sp_divides_seq},
         {"Megatron 2021 published layouts valid", megatron_published_layouts_valid},
         {"describe", describe_text},
         {"rule: split-backward schedules", rule_split_schedules},
         {"recompute and schedule names", enum_names_parse})
