/* cs_error: formatting of caller-owned error messages. */
#include "cs_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int cs_fail(cs_err *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int cs_fail_prefix(cs_err *err, const char *fmt, ...)
{
    if (err) {
        char prefix[512];
        char old[sizeof err->msg];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        memcpy(old, err->msg, sizeof old);
        /* prefix first, then as much of the old message as still fits */
        size_t used = strlen(prefix);
        memcpy(err->msg, prefix, used + 1);
        strncat(err->msg, old, sizeof err->msg - used - 1);
    }
    return -1;
}
