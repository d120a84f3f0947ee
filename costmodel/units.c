/* units: parsing and printing of sizes, counts and durations. */
#include "units.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static int size_multiplier(const char *suffix, double *mult)
{
    static const struct { const char *s; double m; } table[] = {
        {"", 1},         {"b", 1},
        {"k", 0x1p10},   {"kb", 0x1p10}, {"kib", 0x1p10},
        {"m", 0x1p20},   {"mb", 0x1p20}, {"mib", 0x1p20},
        {"g", 0x1p30},   {"gb", 0x1p30}, {"gib", 0x1p30},
        {"t", 0x1p40},   {"tb", 0x1p40}, {"tib", 0x1p40},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcasecmp(suffix, table[i].s) == 0) {
            *mult = table[i].m;
            return 0;
        }
    return -1;
}

int units_parse_size(const char *text, const char *what, uint64_t *size_bytes, cs_err *err)
{
    const char *hint = "expected a number with an optional suffix K, M, G or T "
                       "(powers of 1024), for example 1024, 64K or 8G";
    if (!text || !*text)
        return cs_fail(err, "%s: empty size; %s", what, hint);
    errno = 0;
    char *end = NULL;
    double value = strtod(text, &end);
    double mult = 0;
    if (end == text || errno || !isfinite(value) || size_multiplier(end, &mult) != 0)
        return cs_fail(err, "%s: size '%s' does not parse; %s", what, text, hint);
    double bytes = value * mult;
    if (bytes < 1)
        return cs_fail(err, "%s: size '%s' is not positive; sizes start at 1 byte", what, text);
    if (bytes > 0x1p60)
        return cs_fail(err, "%s: size '%s' is too large (at most 1024P)", what, text);
    *size_bytes = (uint64_t)llround(bytes);
    return 0;
}

int units_parse_int(const char *text, const char *what, long min_value, long max_value,
                    long *value, cs_err *err)
{
    if (!text || !*text)
        return cs_fail(err, "%s: expected a whole number, got nothing", what);
    errno = 0;
    char *end = NULL;
    long v = strtol(text, &end, 10);
    if (end == text || *end || errno)
        return cs_fail(err, "%s: '%s' is not a whole number", what, text);
    if (v < min_value || v > max_value)
        return cs_fail(err, "%s: %ld is out of range; valid values are %ld to %ld",
                       what, v, min_value, max_value);
    *value = v;
    return 0;
}

int units_parse_positive(const char *text, const char *what, int allow_zero,
                         double *value, cs_err *err)
{
    if (!text || !*text)
        return cs_fail(err, "%s: expected a number, got nothing", what);
    errno = 0;
    char *end = NULL;
    double v = strtod(text, &end);
    if (end == text || *end || errno || !isfinite(v))
        return cs_fail(err, "%s: '%s' is not a number", what, text);
    if (v < 0 || (v == 0 && !allow_zero))
        return cs_fail(err, "%s: %s must be %s", what, text,
                       allow_zero ? "zero or more" : "greater than zero");
    *value = v;
    return 0;
}

uint64_t units_s_to_ps_ceil(double seconds)
{
    if (!(seconds > 0))
        return 0;
    double ps = ceil(seconds * 1e12);
    if (ps >= 0x1p64)
        return UINT64_MAX;
    return (uint64_t)ps;
}

double units_ps_to_s(uint64_t time_ps) { return (double)time_ps * 1e-12; }

void units_format_size(uint64_t size_bytes, char *buf, int buflen)
{
    static const char *names[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
    double v = (double)size_bytes;
    int i = 0;
    while (v >= 1024 && i < 5) {
        v /= 1024;
        i++;
    }
    if (i == 0)
        snprintf(buf, (size_t)buflen, "%llu B", (unsigned long long)size_bytes);
    else
        snprintf(buf, (size_t)buflen, "%.2f %s", v, names[i]);
}

int units_parse_name(const char *text, const char *what, const char *const *names, int n,
                     int *index, cs_err *err)
{
    for (int i = 0; i < n; i++)
        if (strcasecmp(text, names[i]) == 0) {
            *index = i;
            return 0;
        }
    char list[256] = "";
    for (int i = 0; i < n; i++) {
        strncat(list, i ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, names[i], sizeof list - strlen(list) - 1);
    }
    return cs_fail(err, "%s: '%s' is not one of %s", what, text, list);
}

void units_format_duration(double seconds, char *buf, int buflen)
{
    if (seconds >= 3600 || !isfinite(seconds))
        snprintf(buf, (size_t)buflen, "%.2f h", seconds / 3600);
    else if (seconds >= 60)
        snprintf(buf, (size_t)buflen, "%.2f min", seconds / 60);
    else
        snprintf(buf, (size_t)buflen, "%.3g s", seconds);
}
