/* calib_csv: the measurements file that kernels/clustersim-kernels writes.
 *
 * Owns reading it (through csvread: every error names the file and line)
 * and writing it (synthetic measurements).  The format, documented with
 * every column and unit in docs/calibration.md: '#' lines before the table
 * carry the device as "# key: value"; then a header line and one row per
 * measured kernel with the columns of calib_csv_columns, in any order. */
#ifndef CS_CALIB_CSV_H
#define CS_CALIB_CSV_H

#include <stdio.h>

#include "calib.h"

/* The device a file was measured on ("# key: value" lines). */
typedef struct calib_devinfo {
    char name[128];   /* device_name */
    int sms;          /* device_sms, 0 when absent */
    int gpus;         /* gpus (visible), 0 when absent */
} calib_devinfo;

#define CALIB_CSV_NCOLUMNS 14
extern const char *const calib_csv_columns[CALIB_CSV_NCOLUMNS];

/* Reads path; *rows is malloc'ed (the caller frees it).  A missing column,
 * an unknown kernel or data type, text where a number belongs, a negative
 * size or a time that is not positive, or a file with no rows is an error
 * naming the file and line. */
int calib_csv_read(const char *path, calib_meas **rows, int *n, calib_devinfo *info,
                   cs_err *err);

/* Writes the comment lines of info and the rows. */
void calib_csv_write(FILE *f, const calib_meas *rows, int n, const calib_devinfo *info);

#endif
