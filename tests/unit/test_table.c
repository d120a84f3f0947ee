/* Unit tests: terminal tables.  Units join the header, numeric columns are
 * right-aligned and text columns left-aligned, every line has the same
 * column positions, and no line ends in spaces. */
#include <stdlib.h>
#include <string.h>

#include "table.h"
#include "tap.h"

/* The table printed into a buffer the caller frees. */
static char *print_to_string(const table *t, int indent)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    table_print(t, f, indent);
    fclose(f);
    return buf;
}

static table *sample(void)
{
    const char *names[] = {"layout", "iteration", "mfu"};
    const char *units[] = {NULL, "s", "%"};
    table *t = table_new(3, names, units);
    table_add_row(t, (const char *[]){"tp8 pp4 dp2", "12.5", "51.2%"});
    table_add_row(t, (const char *[]){"tp2", "1,234.25", "7%"});
    return t;
}

static void header_carries_units(void)
{
    table *t = sample();
    char *s = print_to_string(t, 0);
    CHECK_STR_CONTAINS(s, "layout       iteration (s)  mfu (%)\n");
    CHECK_STR_CONTAINS(s, "\n-----------------------------------\n");
    free(s);
    table_free(t);
}

static void numbers_right_text_left(void)
{
    table *t = sample();
    char *s = print_to_string(t, 2);
    CHECK_STR_CONTAINS(s, "\n  tp8 pp4 dp2           12.5    51.2%\n");
    CHECK_STR_CONTAINS(s, "\n  tp2               1,234.25       7%\n");
    CHECK_EQ_INT(table_rows(t), 2);
    free(s);
    table_free(t);
}

static void no_trailing_spaces(void)
{
    const char *names[] = {"a", "name"};
    table *t = table_new(2, names, NULL);
    table_add_row(t, (const char *[]){"1", "x"});
    table_add_row(t, (const char *[]){"22", "longer text"});
    char *s = print_to_string(t, 0);
    CHECK(strstr(s, " \n") == NULL);
    CHECK_STR_CONTAINS(s, " 1  x\n");
    free(s);
    table_free(t);
}

static void mixed_column_is_left_aligned(void)
{
    const char *names[] = {"value"};
    table *t = table_new(1, names, NULL);
    table_add_row(t, (const char *[]){"12"});
    table_add_row(t, (const char *[]){"n/a"});
    char *s = print_to_string(t, 0);
    CHECK_STR_CONTAINS(s, "\n12\nn/a\n");
    free(s);
    table_free(t);
}

TAP_MAIN({"header_carries_units", header_carries_units},
         {"numbers_right_text_left", numbers_right_text_left},
         {"no_trailing_spaces", no_trailing_spaces},
         {"mixed_column_is_left_aligned", mixed_column_is_left_aligned})
