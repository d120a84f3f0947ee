/* Unit tests: parsing of sizes, counts and numbers; time conversions. */
#include "tap.h"
#include "units.h"

static void sizes_parse(void)
{
    uint64_t v;
    cs_err err;
    CHECK(units_parse_size("1024", "--min", &v, &err) == 0 && v == 1024);
    CHECK(units_parse_size("64K", "--min", &v, &err) == 0 && v == 65536);
    CHECK(units_parse_size("16M", "--min", &v, &err) == 0 && v == 16ULL << 20);
    CHECK(units_parse_size("8G", "--min", &v, &err) == 0 && v == 8ULL << 30);
    CHECK(units_parse_size("8gib", "--min", &v, &err) == 0 && v == 8ULL << 30);
    CHECK(units_parse_size("1.5G", "--min", &v, &err) == 0 && v == 3ULL << 29);
    CHECK(units_parse_size("2T", "--min", &v, &err) == 0 && v == 2ULL << 40);
}

static void sizes_reject(void)
{
    uint64_t v = 7;
    cs_err err;
    CHECK(units_parse_size("12Q", "--max", &v, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "--max");
    CHECK_STR_CONTAINS(err.msg, "'12Q'");
    CHECK_STR_CONTAINS(err.msg, "64K");
    CHECK(units_parse_size("", "--max", &v, &err) == -1);
    CHECK(units_parse_size("-4K", "--max", &v, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "not positive");
    CHECK(units_parse_size("0", "--max", &v, &err) == -1);
    CHECK(units_parse_size("K", "--max", &v, &err) == -1);
    CHECK(units_parse_size("1e30", "--max", &v, &err) == -1);
    CHECK_EQ_INT(v, 7);
}

static void ints_and_numbers(void)
{
    long n;
    double d;
    cs_err err;
    CHECK(units_parse_int("42", "--nodes", 1, 100, &n, &err) == 0 && n == 42);
    CHECK(units_parse_int("0", "--nodes", 1, 100, &n, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "1 to 100");
    CHECK(units_parse_int("4x", "--nodes", 1, 100, &n, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "not a whole number");
    CHECK(units_parse_positive("0.5", "--compute-ms", 0, &d, &err) == 0 && d == 0.5);
    CHECK(units_parse_positive("0", "--compute-ms", 0, &d, &err) == -1);
    CHECK(units_parse_positive("0", "--compute-ms", 1, &d, &err) == 0);
    CHECK(units_parse_positive("-1", "--compute-ms", 1, &d, &err) == -1);
    CHECK(units_parse_positive("nan", "--compute-ms", 1, &d, &err) == -1);
}

static void time_conversions(void)
{
    CHECK_EQ_INT(units_s_to_ps_ceil(1e-6), 1000000);
    CHECK_EQ_INT(units_s_to_ps_ceil(0), 0);
    CHECK_EQ_INT(units_s_to_ps_ceil(1.5e-12), 2); /* rounded up */
    CHECK(units_s_to_ps_ceil(1e30) == UINT64_MAX);
    CHECK_REL(units_ps_to_s(2500000), 2.5e-6, 1e-12);
    char buf[32];
    units_format_size(1ULL << 30, buf, sizeof buf);
    CHECK(strcmp(buf, "1.00 GiB") == 0);
    units_format_size(100, buf, sizeof buf);
    CHECK(strcmp(buf, "100 B") == 0);
}

TAP_MAIN({"sizes parse with binary suffixes", sizes_parse},
         {"bad sizes are rejected with the option named", sizes_reject},
         {"whole numbers and positive numbers", ints_and_numbers},
         {"time and size conversions", time_conversions})
