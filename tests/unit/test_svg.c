/* Unit tests: SVG pictures.  Text is escaped; nice ticks and labels come
 * out exactly; the schedule of a hand-built pp 2, vpp 2 timeline draws one
 * box with a tooltip per compute slice (and none for other tracks), a
 * legend per chunk, microbatch numbers only in wide boxes; the memory
 * picture shows peaks and the usable line; charts refuse bad series with a
 * message; every element is closed; a failed write is reported; 64 stages
 * with 64000 slices stay within a sane height and are written quickly. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "svg.h"
#include "svg_chart.h"
#include "svg_pipeline.h"
#include "tap.h"

#define MS_PS 1000000000ull
#define GIB (1024.0 * 1024.0 * 1024.0)

/* ---- helpers ---- */

typedef struct capture {
    char *buf;
    size_t len;
    FILE *f;
} capture;

static FILE *capture_open(capture *c)
{
    c->buf = NULL;
    c->len = 0;
    c->f = open_memstream(&c->buf, &c->len);
    return c->f;
}

static char *capture_close(capture *c)
{
    fclose(c->f);
    return c->buf;
}

/* Occurrences of needle (not strstr in a loop: under AddressSanitizer each
 * strstr measures the rest of the text, which is quadratic on big files). */
static int count(const char *hay, const char *needle)
{
    int n = 0;
    size_t len = strlen(needle);
    for (const char *p = hay; *p; p++)
        if (*p == needle[0] && strncmp(p, needle, len) == 0)
            n++;
    return n;
}

/* The text between `<g class="name">` and the group's end (the groups the
 * writers make hold no nested groups). */
static char *group_text(const char *doc, const char *name)
{
    char open[64];
    snprintf(open, sizeof open, "<g class=\"%s\">", name);
    const char *p = strstr(doc, open);
    const char *end = p ? strstr(p, "</g>") : NULL;
    if (!end)
        return calloc(1, 1);
    size_t n = (size_t)(end - p);
    char *s = malloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* Every element opened is closed, innermost first; the XML declaration,
 * comments and self-closing elements need no closing. */
static int tags_balanced(const char *doc)
{
    char stack[64][32];
    int depth = 0;
    for (const char *p = strchr(doc, '<'); p; p = strchr(p + 1, '<')) {
        if (p[1] == '?' || p[1] == '!')
            continue;
        const char *end = strchr(p, '>');
        int closing = p[1] == '/';
        const char *name = p + 1 + closing;
        size_t n = strcspn(name, " \t\n/>");
        if (!end || n == 0 || n >= sizeof stack[0])
            return 0;
        if (closing) {
            if (depth == 0 || strncmp(stack[depth - 1], name, n) != 0 || stack[depth - 1][n])
                return 0;
            depth--;
        } else if (end[-1] != '/') {
            if (depth == 64)
                return 0;
            memcpy(stack[depth], name, n);
            stack[depth++][n] = '\0';
        }
    }
    return depth == 0;
}

static double svg_height(const char *doc)
{
    const char *p = strstr(doc, "<svg ");
    p = p ? strstr(p, " height=\"") : NULL;
    return p ? atof(p + 9) : -1;
}

/* ---- markup ---- */

static void checker_can_fail(void)
{
    CHECK(tags_balanced("<svg><g><rect/></g></svg>"));
    CHECK(!tags_balanced("<svg><g></svg>"));
    CHECK(!tags_balanced("<svg><text>a < b</text></svg>"));
}

static void escaping(void)
{
    capture c;
    FILE *f = capture_open(&c);
    svg_begin(f, 100, 50, "A & B <c>");
    svg_text(f, 1, 2, 10, SVG_MIDDLE, -90, NULL, "he said \"x\" & 'y' <z>");
    svg_end(f);
    char *doc = capture_close(&c);
    CHECK_STR_CONTAINS(doc, "<title>A &amp; B &lt;c&gt;</title>");
    CHECK_STR_CONTAINS(doc, ">he said &quot;x&quot; &amp; &apos;y&apos; &lt;z&gt;</text>");
    CHECK(!strstr(doc, "A & B"));
    CHECK_STR_CONTAINS(doc, "font-family=\"DejaVu Sans, sans-serif\"");
    CHECK_STR_CONTAINS(doc, "rotate(-90.0 1.00 2.00)");
    CHECK(tags_balanced(doc));
    free(doc);
}

static void text_width(void)
{
    CHECK_REL(svg_text_width_px("abc", 10), 3 * 0.62 * 10, 1e-12);
    /* a two-byte UTF-8 character counts once */
    CHECK_REL(svg_text_width_px("\xc2\xb5s", 10), svg_text_width_px("us", 10), 1e-12);
}

/* ---- ticks ---- */

static int ticks_are(const double *got, int n, const double *want, int nwant)
{
    if (n != nwant)
        return 0;
    for (int i = 0; i < n; i++)
        if (got[i] != want[i]) {
            printf("# tick %d: %.17g, expected %.17g\n", i, got[i], want[i]);
            return 0;
        }
    return 1;
}

static void nice_ticks(void)
{
    double t[64];
    int n = svg_nice_ticks(0, 9.3, 5, t, 64);
    CHECK(ticks_are(t, n, (double[]){0, 2, 4, 6, 8}, 5));
    n = svg_nice_ticks(0, 1, 5, t, 64);
    CHECK(ticks_are(t, n, (double[]){0, 0.2, 0.4, 0.6, 0.8, 1}, 6));
    n = svg_nice_ticks(-3, 17, 4, t, 64);
    CHECK(ticks_are(t, n, (double[]){0, 5, 10, 15}, 4));
    n = svg_nice_ticks(1234, 5678, 5, t, 64);
    CHECK(ticks_are(t, n, (double[]){2000, 3000, 4000, 5000}, 4));
    n = svg_nice_ticks(0.013, 0.0142, 3, t, 64);
    CHECK(ticks_are(t, n, (double[]){0.013, 0.0135, 0.014}, 3));
    CHECK_EQ_INT(svg_nice_ticks(5, 5, 5, t, 64), 0);
    CHECK_EQ_INT(svg_nice_ticks(0, NAN, 5, t, 64), 0);
    CHECK_EQ_INT(svg_nice_ticks(0, 100, 5, t, 3), 3); /* never past max */

    double lo = 0, hi = 61.2;
    svg_nice_range(&lo, &hi, 5);
    CHECK(lo == 0 && hi == 80);
    lo = 3, hi = 3;
    svg_nice_range(&lo, &hi, 5);
    CHECK(lo < 3 && hi > 3);

    n = svg_log2_ticks(200, 800, 5, t, 64);
    CHECK(ticks_are(t, n, (double[]){200, 400, 800}, 3));
    n = svg_log2_ticks(1, 1024, 5, t, 64);
    CHECK(ticks_are(t, n, (double[]){1, 4, 16, 64, 256, 1024}, 6));
}

static void tick_labels(void)
{
    char b[32];
    svg_tick_label(b, sizeof b, 0.1 + 0.2);
    CHECK(strcmp(b, "0.3") == 0);
    svg_tick_label(b, sizeof b, -0.0);
    CHECK(strcmp(b, "0") == 0);
    svg_tick_label(b, sizeof b, 1500000);
    CHECK(strcmp(b, "1500000") == 0);
    svg_tick_label(b, sizeof b, 2.5);
    CHECK(strcmp(b, "2.5") == 0);
    svg_tick_label(b, sizeof b, -40);
    CHECK(strcmp(b, "-40") == 0);
    svg_tick_label(b, sizeof b, 2e-5);
    CHECK(strcmp(b, "2e-05") == 0);
}

/* ---- pipeline pictures ---- */

/* pp 2, vpp 2, 4 microbatches, 8 layers: per stage the 8 forwards (chunk 0
 * then chunk 1), then the 8 backwards (chunk 1 then chunk 0), a tp comm and
 * the optimizer on the compute track; a dp bucket on a second track.  On
 * stage 0 microbatch 3's forwards and backwards are 1 us long (too narrow
 * for a label); the others take 1 ms forward, 2 ms backward. */
static void add(timeline *tl, int track, tl_kind kind, int stage, int chunk, int mb,
                uint64_t *t, uint64_t dur)
{
    int v = chunk * tl->pp + stage;
    tl_slice s = {.track = track, .kind = kind, .stage = stage, .chunk = chunk,
                  .microbatch = mb, .layer_first = chunk >= 0 ? 2 * v : -1,
                  .layer_last = chunk >= 0 ? 2 * v + 1 : -1, .start_ps = *t,
                  .end_ps = *t + dur};
    timeline_add_slice(tl, &s);
    *t += dur;
}

static void build_timeline(timeline *tl)
{
    timeline_init(tl, 2, 2, 4);
    snprintf(tl->title, sizeof tl->title, "test & <model>");
    for (int s = 0; s < 2; s++) {
        int compute = timeline_add_track(tl, s, s, "compute");
        int dp = timeline_add_track(tl, s, s, "dp");
        uint64_t t = s * MS_PS;
        for (int c = 0; c < 2; c++)
            for (int mb = 0; mb < 4; mb++)
                add(tl, compute, TL_FORWARD, s, c, mb, &t, s == 0 && mb == 3 ? MS_PS / 1000 : MS_PS);
        for (int c = 1; c >= 0; c--)
            for (int mb = 0; mb < 4; mb++)
                add(tl, compute, TL_BACKWARD, s, c, mb, &t,
                    s == 0 && mb == 3 ? MS_PS / 1000 : 2 * MS_PS);
        add(tl, compute, TL_TP_COMM, s, -1, -1, &t, 2 * MS_PS);
        uint64_t t_dp = t;
        add(tl, dp, TL_DP_COMM, s, -1, -1, &t_dp, MS_PS);
        add(tl, compute, TL_OPTIMIZER, s, -1, -1, &t, MS_PS);
        if (t > tl->makespan_ps)
            tl->makespan_ps = t;
        tl->memory[s].static_bytes = 10 * GIB;
        tl->memory[s].working_bytes = 0.5 * GIB;
        tl->memory[s].unit_bytes[0] = tl->memory[s].unit_bytes[1] = GIB;
    }
    tl->usable_bytes = 80 * GIB;
    timeline_memory_build(tl);
}

static void schedule_picture(void)
{
    timeline tl;
    build_timeline(&tl);
    capture c;
    CHECK_EQ_INT(svg_pipeline_schedule(capture_open(&c), &tl), 0);
    char *doc = capture_close(&c);
    char *slices = group_text(doc, "slices");
    /* 18 compute slices per stage; the dp bucket is on another track */
    CHECK_EQ_INT(count(slices, "<rect"), 36);
    CHECK_EQ_INT(count(slices, "<title>"), 36);
    CHECK_STR_CONTAINS(slices, "<title>backward, stage 1, chunk 1, microbatch 2, layers 6-7, "
                               "start 13 ms, duration 2 ms</title>");
    CHECK_STR_CONTAINS(slices, "<title>optimizer, stage 0, start ");
    /* 32 forward and backward boxes, 4 of them too narrow for a number */
    CHECK_EQ_INT(count(slices, "<text"), 28);
    CHECK_STR_CONTAINS(slices, ">3</text>");
    char *legend = group_text(doc, "legend");
    CHECK_STR_CONTAINS(legend, ">forward chunk 0</text>");
    CHECK_STR_CONTAINS(legend, ">forward chunk 1</text>");
    CHECK_STR_CONTAINS(legend, ">backward chunk 1</text>");
    CHECK_STR_CONTAINS(legend, ">idle (bubble)</text>");
    CHECK_STR_CONTAINS(legend, ">tp comm</text>");
    CHECK(!strstr(legend, "dp comm"));
    CHECK_STR_CONTAINS(doc, ">stage 1</text>");
    CHECK_STR_CONTAINS(doc, ">time (ms); bubble (idle, shaded): ");
    CHECK_STR_CONTAINS(doc, "test &amp; &lt;model&gt;");
    CHECK(tags_balanced(doc));
    free(legend);
    free(slices);
    free(doc);
    timeline_free(&tl);
}

static void memory_picture(void)
{
    timeline tl;
    build_timeline(&tl);
    capture c;
    CHECK_EQ_INT(svg_pipeline_memory(capture_open(&c), &tl), 0);
    char *doc = capture_close(&c);
    CHECK_EQ_INT(count(doc, "<polyline"), 2);
    /* 10 GiB static + 8 units of 1 GiB + the 0.5 GiB working set */
    CHECK_STR_CONTAINS(doc, ">stage 0 (peak 18.5 GiB)</text>");
    CHECK_STR_CONTAINS(doc, ">stage 1 (peak");
    CHECK_STR_CONTAINS(doc, "usable memory");
    /* the dashed line on the plot and its sample in the legend */
    CHECK_EQ_INT(count(doc, "stroke-dasharray"), 2);
    CHECK(tags_balanced(doc));
    free(doc);

    tl.usable_bytes = 0;
    CHECK_EQ_INT(svg_pipeline_memory(capture_open(&c), &tl), 0);
    doc = capture_close(&c);
    CHECK(!strstr(doc, "usable memory"));
    CHECK(!strstr(doc, "stroke-dasharray"));
    free(doc);
    timeline_free(&tl);
}

static void write_failure(void)
{
    timeline tl;
    build_timeline(&tl);
    FILE *ro = fopen("/dev/null", "r"); /* every write fails */
    CHECK(ro != NULL);
    CHECK_EQ_INT(svg_pipeline_schedule(ro, &tl), -1);
    clearerr(ro);
    CHECK_EQ_INT(svg_pipeline_memory(ro, &tl), -1);
    clearerr(ro);
    double x[] = {1, 2}, y[] = {3, 4};
    svg_chart ch;
    cs_err err;
    svg_chart_init(&ch, "t", "x", "y");
    svg_chart_add(&ch, "a", x, y, 2, NULL);
    CHECK_EQ_INT(svg_chart_write(ro, &ch, &err), -1);
    CHECK_STR_CONTAINS(err.msg, "writing");
    fclose(ro);
    timeline_free(&tl);
}

/* 64 stages of 1000 slices each: rows no thinner than 18 px, every slice
 * drawn.  (How long it takes is a benchmark's business, not a test's.) */
static void many_stages(void)
{
    timeline tl;
    timeline_init(&tl, 64, 1, 500);
    for (int s = 0; s < 64; s++) {
        int track = timeline_add_track(&tl, s, s, "compute");
        uint64_t t = s * MS_PS;
        for (int mb = 0; mb < 500; mb++) {
            add(&tl, track, TL_FORWARD, s, 0, mb, &t, MS_PS);
            add(&tl, track, TL_BACKWARD, s, 0, mb, &t, 2 * MS_PS);
        }
        tl.makespan_ps = t;
    }
    capture c;
    CHECK_EQ_INT(svg_pipeline_schedule(capture_open(&c), &tl), 0);
    char *doc = capture_close(&c);
    CHECK(svg_height(doc) >= 64 * 18 && svg_height(doc) <= 64 * 40 + 400);
    CHECK_EQ_INT(count(doc, "<title>forward"), 32000);
    CHECK(tags_balanced(doc));
    free(doc);
    timeline_free(&tl);
}

/* ---- charts ---- */

static void chart_refuses(void)
{
    double x[] = {200, 400, 800}, y[] = {1, NAN, 3}, zero_x[] = {0, 400, 800};
    svg_chart ch;
    cs_err err;
    capture c;
    svg_chart_init(&ch, "nic", "NIC (Gb/s)", "time (s)");
    CHECK_EQ_INT(svg_chart_write(capture_open(&c), &ch, &err), -1);
    free(capture_close(&c));
    CHECK_STR_CONTAINS(err.msg, "no series");

    svg_chart_add(&ch, "empty", x, y, 0, NULL);
    CHECK_EQ_INT(svg_chart_write(capture_open(&c), &ch, &err), -1);
    free(capture_close(&c));
    CHECK_STR_CONTAINS(err.msg, "series 'empty' has no points");

    svg_chart_init(&ch, "nic", "NIC (Gb/s)", "time (s)");
    svg_chart_add(&ch, "gpt", x, y, 3, NULL);
    CHECK_EQ_INT(svg_chart_write(capture_open(&c), &ch, &err), -1);
    char *doc = capture_close(&c);
    CHECK_STR_CONTAINS(err.msg, "series 'gpt' point 2");
    CHECK_STR_CONTAINS(err.msg, "finite number");
    CHECK_EQ_INT(strlen(doc), 0); /* refused before writing */
    free(doc);

    svg_chart_init(&ch, "nic", "NIC (Gb/s)", "time (s)");
    ch.x_log2 = 1;
    svg_chart_add(&ch, "gpt", zero_x, x, 3, NULL);
    CHECK_EQ_INT(svg_chart_write(capture_open(&c), &ch, &err), -1);
    free(capture_close(&c));
    CHECK_STR_CONTAINS(err.msg, "logarithmic");

    for (int i = 1; i < SVG_CHART_MAX_SERIES; i++)
        CHECK_EQ_INT(svg_chart_add(&ch, "s", x, x, 3, &err), 0);
    CHECK_EQ_INT(svg_chart_add(&ch, "s", x, x, 3, &err), -1);
}

static void chart_drawn(void)
{
    double x[] = {200, 400, 800}, a[] = {3.2, 2.1, 1.7}, b[] = {2.5, 1.5, 1.25};
    svg_chart ch;
    cs_err err;
    capture c;
    svg_chart_init(&ch, "iteration time", "NIC (Gb/s)", "time (s)");
    ch.x_log2 = 1;
    svg_chart_add(&ch, "gpt <13b>", x, a, 3, NULL);
    svg_chart_add(&ch, "llama", x, b, 3, NULL);
    CHECK_EQ_INT(svg_chart_write(capture_open(&c), &ch, &err), 0);
    char *doc = capture_close(&c);
    CHECK_EQ_INT(count(doc, "</title></circle>"), 6); /* a tooltip per point */
    CHECK_EQ_INT(count(doc, "<polyline"), 2);
    CHECK_STR_CONTAINS(doc, "<title>llama: x = 400, y = 1.5</title>");
    CHECK_STR_CONTAINS(doc, ">gpt &lt;13b&gt;</text>");
    CHECK_STR_CONTAINS(doc, ">200</text>");
    CHECK_STR_CONTAINS(doc, ">800</text>");
    CHECK_STR_CONTAINS(doc, "rotate(-90.0");
    CHECK(tags_balanced(doc));
    free(doc);

    ch.mode = SVG_CHART_POINTS;
    CHECK_EQ_INT(svg_chart_write(capture_open(&c), &ch, &err), 0);
    doc = capture_close(&c);
    CHECK_EQ_INT(count(doc, "<polyline"), 0);
    CHECK_EQ_INT(count(doc, "</title></circle>"), 6); /* a tooltip per point */
    free(doc);
}

TAP_MAIN({"checker_can_fail", checker_can_fail}, {"escaping", escaping},
         {"text_width", text_width}, {"nice_ticks", nice_ticks}, {"tick_labels", tick_labels},
         {"schedule_picture", schedule_picture}, {"memory_picture", memory_picture},
         {"write_failure", write_failure}, {"many_stages", many_stages},
         {"chart_refuses", chart_refuses}, {"chart_drawn", chart_drawn})
