/* units: parsing and printing of the quantities users type and read.
 *
 * Owns the rules for sizes ("64K", "8G": powers of 1024, as nccl-tests reads
 * them), counts, and positive numbers, each with an error that says what was
 * wrong and what would be valid.  Conversions between picoseconds and
 * seconds live here too, so no module invents its own. */
#ifndef CS_UNITS_H
#define CS_UNITS_H

#include <stdint.h>

#include "cs_error.h"

#define PS_PER_S 1000000000000ULL
#define PS_PER_US 1000000ULL

/* Parses "1024", "64K", "16M", "8G", "1T", "1.5G", "64KiB", "8GB" (K = 1024).
 * what names the option in the error ("--min"). */
int units_parse_size(const char *text, const char *what, uint64_t *size_bytes, cs_err *err);

/* Parses a whole number >= min_value. */
int units_parse_int(const char *text, const char *what, long min_value, long max_value,
                    long *value, cs_err *err);

/* Parses a finite number > 0 (or >= 0 when allow_zero). */
int units_parse_positive(const char *text, const char *what, int allow_zero,
                         double *value, cs_err *err);

/* Finds text among names[0..n) (case-insensitive) and stores its index; on
 * failure the message lists the valid names: "--mlp: 'relu' is not one of gelu, swiglu". */
int units_parse_name(const char *text, const char *what, const char *const *names, int n,
                     int *index, cs_err *err);

/* Picoseconds for a duration in seconds, rounded up so nothing takes 0 time
 * by accident; saturates at UINT64_MAX. */
uint64_t units_s_to_ps_ceil(double seconds);
double units_ps_to_s(uint64_t time_ps);

/* "1.00 GiB"-style text for a byte count. */
void units_format_size(uint64_t size_bytes, char *buf, int buflen);

/* A duration in the unit that fits: "3.09 h" from an hour up, "12.50 min"
 * from a minute, "0.527 s" (3 significant digits) below; never "0.00 h". */
void units_format_duration(double seconds, char *buf, int buflen);

#endif
