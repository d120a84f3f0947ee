/* cs_error: the error-buffer convention shared by every module.
 *
 * Functions that can fail return 0 on success and -1 on failure, and fill a
 * caller-owned cs_err with a message a user can act on (what was wrong, where,
 * what would be valid).  Only the command layer prints it and picks the exit
 * status; library code never prints and never exits. */
#ifndef CS_ERROR_H
#define CS_ERROR_H

#include <stddef.h>

typedef struct cs_err {
    char msg[1024];
} cs_err;

/* Formats the message into err (if err is not NULL) and returns -1, so that a
 * failing function can end with `return cs_fail(err, "...", ...);`. */
int cs_fail(cs_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prepends context ("while reading X: ") to an existing message; returns -1. */
int cs_fail_prefix(cs_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
