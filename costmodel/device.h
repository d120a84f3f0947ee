/* device: the catalog of GPU types with their datasheet figures.
 *
 * Owns dev_type and the built-in catalog, whose figures are the vendor
 * datasheet peaks of ../shared/reference/devices.csv (dense, no sparsity).
 * A unit test holds the built-in table to that file.  Calibration (a later
 * issue) derives achieved efficiencies from these peaks; nothing here is an
 * achieved figure. */
#ifndef CS_DEVICE_H
#define CS_DEVICE_H

#include "cs_error.h"

typedef struct dev_type {
    char name[48];
    double memory_bytes;          /* vendor figure, decimal bytes */
    double hbm_bw_bytes_per_s;
    double fp32_flops_per_s;
    double tf32_flops_per_s;      /* 0 when the device has none */
    double bf16_flops_per_s;      /* 0 when the device has none */
    double fp16_flops_per_s;
    double fp8_flops_per_s;       /* 0 when the device has none */
    double nvlink_bw_bytes_per_s; /* per GPU, per direction */
    int pcie_gen;
    double tdp_w;
    int sms;
} dev_type;

/* Number of built-in device types and the i-th one. */
int dev_catalog_count(void);
const dev_type *dev_catalog_at(int i);

/* Looks a device up by exact name or by a case-insensitive alias
 * ("h100", "a100-80g", ...).  On failure err lists the valid names. */
const dev_type *dev_find(const char *name, cs_err *err);

/* PCIe x16 bandwidth per direction for a generation (bytes/s), 0 if unknown. */
double dev_pcie_x16_bw_bytes_per_s(int gen);

#endif
