/* Unit tests: the device catalog against ../shared/reference/devices.csv,
 * and the built-in systems and their validation. */
#include <stdlib.h>
#include <string.h>

#include "device.h"
#include "devkernel.h"
#include "system.h"
#include "tiers_spec.h"
#include "reference.h"
#include "tap.h"

/* Parses one data row of devices.csv into a dev_type (figures in its units). */
static int parse_row(char *line, dev_type *d)
{
    char *f[12];
    int n = 0;
    for (char *p = line; n < 12; n++) {
        f[n] = p;
        char *c = strchr(p, ',');
        if (!c) {
            n++;
            break;
        }
        *c = 0;
        p = c + 1;
    }
    if (n < 12)
        return -1;
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%.47s", f[0]); /* names are short; -O3 checks the bound */
    d->memory_bytes = atof(f[1]) * 1e9;
    d->hbm_bw_bytes_per_s = atof(f[2]) * 1e12;
    d->fp32_flops_per_s = atof(f[3]) * 1e12;
    d->tf32_flops_per_s = atof(f[4]) * 1e12;
    d->bf16_flops_per_s = atof(f[5]) * 1e12;
    d->fp16_flops_per_s = atof(f[6]) * 1e12;
    d->fp8_flops_per_s = atof(f[7]) * 1e12;
    d->nvlink_bw_bytes_per_s = atof(f[8]) * 1e9;
    d->pcie_gen = atoi(f[9]);
    d->tdp_w = atof(f[10]);
    d->sms = atoi(f[11]);
    return 0;
}

/* Checks every row of fp against the catalog; returns the rows read. */
static int rows_match(FILE *fp)
{
    char line[512];
    int rows = 0;
    while (fgets(line, sizeof line, fp)) {
        line[strcspn(line, "\r\n")] = 0;
        if (line[0] == '#' || strncmp(line, "device,", 7) == 0 || !line[0])
            continue;
        dev_type ref;
        CHECK(parse_row(line, &ref) == 0);
        const dev_type *d = dev_find(ref.name, NULL);
        CHECK(d != NULL);
        if (!d)
            continue;
        rows++;
        CHECK_REL(d->memory_bytes, ref.memory_bytes, 1e-9);
        CHECK_REL(d->hbm_bw_bytes_per_s, ref.hbm_bw_bytes_per_s, 1e-9);
        CHECK_REL(d->fp32_flops_per_s, ref.fp32_flops_per_s, 1e-9);
        CHECK_REL(d->bf16_flops_per_s, ref.bf16_flops_per_s, 1e-9);
        CHECK_REL(d->fp16_flops_per_s, ref.fp16_flops_per_s, 1e-9);
        CHECK_REL(d->fp8_flops_per_s, ref.fp8_flops_per_s, 1e-9);
        CHECK_REL(d->tf32_flops_per_s, ref.tf32_flops_per_s, 1e-9);
        CHECK_REL(d->nvlink_bw_bytes_per_s, ref.nvlink_bw_bytes_per_s, 1e-9);
        CHECK_EQ_INT(d->pcie_gen, ref.pcie_gen);
        CHECK_EQ_INT(d->sms, ref.sms);
        CHECK_REL(d->tdp_w, ref.tdp_w, 1e-9);
    }
    return rows;
}

/* The catalog is the shared reference's devices plus the offload study's
 * (validate/devices_offload.csv), every field equal. */
static void catalog_matches_reference(void)
{
    FILE *fp = reference_open("devices.csv");
    const char *dir = getenv("CLUSTERSIM_VALIDATE");
    char path[512];
    snprintf(path, sizeof path, "%s/devices_offload.csv", dir ? dir : "validate");
    FILE *extra = fopen(path, "r");
    CHECK(fp != NULL);
    CHECK(extra != NULL);
    if (!fp || !extra) {
        if (fp)
            fclose(fp);
        if (extra)
            fclose(extra);
        return;
    }
    int rows = rows_match(fp) + rows_match(extra);
    fclose(fp);
    fclose(extra);
    CHECK_EQ_INT(rows, dev_catalog_count());
}

static void device_aliases_and_errors(void)
{
    cs_err err;
    CHECK(dev_find("h100", &err) == dev_find("H100-SXM5-80GB", &err));
    CHECK(dev_find("A100", &err) == dev_find("A100-SXM4-80GB", &err));
    CHECK(dev_find("b200", &err) == NULL);
    CHECK_STR_CONTAINS(err.msg, "unknown device 'b200'");
    CHECK_STR_CONTAINS(err.msg, "H200-SXM-141GB");
}

static void builtin_systems(void)
{
    sys_system s;
    cs_err err;
    CHECK(sys_from_catalog("dgx-h100", 4, &s, &err) == 0);
    CHECK_EQ_INT(sys_total_gpus(&s), 32);
    CHECK_EQ_INT(s.net.kind, SYS_NET_RAIL);
    CHECK_REL(s.groups[0].node.nvlink_bw_bytes_per_s, 450e9, 1e-12);
    CHECK_REL(s.groups[0].node.nic_bw_bytes_per_s, 50e9, 1e-12);
    CHECK(sys_from_catalog("dgx-a100-80g", 2, &s, &err) == 0);
    CHECK_EQ_INT(s.net.kind, SYS_NET_RAIL); /* a DGX SuperPOD (RA-09950-001): units of 20 */
    CHECK_EQ_INT(s.net.nics_per_leaf, 20);
    CHECK_EQ_INT(s.net.routing, SYS_ROUTE_DEST); /* InfiniBand */
    CHECK(s.net.topology_source && s.net.routing_source);
    CHECK_REL(s.groups[0].node.nic_bw_bytes_per_s, 25e9, 1e-12);
    CHECK(sys_from_catalog("dgx2-v100", 1, &s, &err) == 0);
    CHECK_EQ_INT(sys_total_gpus(&s), 16);
    CHECK_EQ_INT(s.groups[0].node.nic_of_gpu[15], 7);
    CHECK(sys_from_catalog("dgx-h200", 1, &s, &err) == 0);
    CHECK_REL(s.groups[0].node.gpu->memory_bytes, 141e9, 1e-12);
}

/* Tiers: DRAM per socket is channels x MT/s x 8 bytes and equals the
 * topology's host memory figure; the offload papers' boxes have NVMe. */
static void builtin_tiers(void)
{
    sys_system s;
    cs_err err;
    CHECK(sys_from_catalog("dgx2-v100", 1, &s, &err) == 0);
    const sys_node_type *n = &s.groups[0].node;
    CHECK_REL(n->tiers.host.dram_bw_per_socket_bytes_per_s, 6 * 2666e6 * 8, 1e-12);
    CHECK_REL(tiers_dram_bw(&n->tiers), n->host_mem_bw_bytes_per_s, 1e-12);
    CHECK_REL(n->host_mem_bytes, 1.5e12, 1e-12);
    CHECK_EQ_INT(n->tiers.nvme.drives, 8);
    CHECK_REL(tiers_nvme_bytes(&n->tiers), 8 * 3.84e12, 1e-12);
    CHECK(sys_from_catalog("rtx4090-box", 1, &s, &err) == 0);
    n = &s.groups[0].node;
    CHECK_EQ_INT(sys_total_gpus(&s), 1);
    CHECK_EQ_INT(n->fabric, SYS_FABRIC_PCIE);
    CHECK_REL(n->pcie_bw_bytes_per_s, dev_pcie_x16_bw_bytes_per_s(4), 1e-12);
    CHECK_REL(tiers_nvme_read_bw(&n->tiers), 13e9, 1e-12);
    CHECK_REL(tiers_nvme_write_bw(&n->tiers), 6.8e9, 1e-12);
    /* Fuyou's published testbed (Crispig/Ratel evaluation_data.md): the
     * same GPU, its link at the 21 GB/s measured there (Ratel, ICDE 2025,
     * Table I: BW_G), 2x Xeon Gold 5320 (26 cores, 8 channels of
     * DDR4-2933 each, Intel ARK), 768 GB, 12 D7-P5510 (6.5 / 3.4 GB/s) */
    CHECK(sys_from_catalog("fuyou-server", 1, &s, &err) == 0);
    n = &s.groups[0].node;
    CHECK_EQ_INT(sys_total_gpus(&s), 1);
    CHECK_REL(n->pcie_bw_bytes_per_s, 21e9, 1e-12);
    CHECK_EQ_INT(n->tiers.host.cores, 52);
    CHECK_REL(n->host_mem_bytes, 768e9, 1e-12);
    CHECK_REL(n->host_mem_bw_bytes_per_s, 2 * 8 * 2933e6 * 8, 1e-12);
    CHECK_EQ_INT(n->tiers.nvme.drives, 12);
    /* the drives' sums (78, 40.8 GB/s) are more than the SSDs' link carried
     * each way on the testbed: 32 GB/s (Ratel Fig. 1) */
    CHECK_REL(n->tiers.nvme.link_bw_bytes_per_s, 32e9, 1e-12);
    CHECK_REL(tiers_nvme_read_bw(&n->tiers), 32e9, 1e-12);
    CHECK_REL(tiers_nvme_write_bw(&n->tiers), 32e9, 1e-12);
    /* every other built-in: no link measured, the drives' sums */
    for (int i = 0; i < sys_catalog_count(); i++) {
        if (strcmp(sys_catalog_name(i), "fuyou-server") == 0)
            continue;
        CHECK(sys_from_catalog(sys_catalog_name(i), 1, &s, &err) == 0);
        const tier_nvme *nv = &s.groups[0].node.tiers.nvme;
        CHECK(nv->link_bw_bytes_per_s == 0);
        CHECK_REL(tiers_nvme_read_bw(&s.groups[0].node.tiers) + 1,
                  nv->drives * nv->read_bw_bytes_per_s + 1, 1e-12);
        CHECK_REL(tiers_nvme_write_bw(&s.groups[0].node.tiers) + 1,
                  nv->drives * nv->write_bw_bytes_per_s + 1, 1e-12);
    }
    CHECK(sys_from_catalog("dgx-h100", 1, &s, &err) == 0);
    s.groups[0].node.tiers.nvme.link_bw_bytes_per_s = -1;
    CHECK(sys_validate(&s, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "the NVMe link's bandwidth must be >= 0");
    s.groups[0].node.tiers.nvme.link_bw_bytes_per_s = NAN;
    CHECK(sys_validate(&s, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "the NVMe link's bandwidth must be >= 0");
    s.groups[0].node.tiers.nvme.link_bw_bytes_per_s = 32e9; /* no drives behind it */
    s.groups[0].node.tiers.nvme.drives = 0;
    CHECK(sys_validate(&s, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "an NVMe link needs NVMe drives behind it");
    memset(&s.groups[0].node.tiers, 0, sizeof s.groups[0].node.tiers); /* not described */
    s.groups[0].node.tiers.nvme.link_bw_bytes_per_s = -1;
    CHECK(sys_validate(&s, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "the NVMe link's bandwidth must be >= 0");
    CHECK(sys_from_catalog("dgx-h100", 1, &s, &err) == 0);
    s.groups[0].node.tiers.nvme.drives = 2;
    s.groups[0].node.tiers.nvme.write_bw_bytes_per_s = 0;
    CHECK(sys_validate(&s, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "NVMe drives need read and write bandwidth");
    s.groups[0].node.tiers.nvme.drives = 0;
    s.groups[0].node.tiers.host.sockets = 0;
    CHECK(sys_validate(&s, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "host tier needs >= 1 socket");
}

static void system_errors(void)
{
    sys_system s;
    cs_err err;
    CHECK(sys_from_catalog("dgx-h900", 1, &s, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "unknown system 'dgx-h900'");
    CHECK_STR_CONTAINS(err.msg, "dgx-h100");
    CHECK(sys_from_catalog("dgx-h100", 0, &s, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "at least 1");
    CHECK(sys_from_catalog("dgx-h100", 2, &s, &err) == 0);
    s.groups[0].node.nic_of_gpu[3] = 9;
    CHECK(sys_validate(&s, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "GPU 3 uses NIC 9");
    s.groups[0].node.nic_of_gpu[3] = 3;
    s.groups[0].node.nics = 0;
    CHECK(sys_validate(&s, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "no NICs");
    s.groups[0].node.nics = 8;
    s.net.oversubscription = 0.5;
    CHECK(sys_validate(&s, &err) == -1);
    CHECK_STR_CONTAINS(err.msg, "oversubscription");
}

static void heterogeneous_system(void)
{
    sys_system s, v;
    cs_err err;
    CHECK(sys_from_catalog("dgx-h100", 2, &s, &err) == 0);
    CHECK(sys_from_catalog("dgx-a100-80g", 3, &v, &err) == 0);
    s.groups[1] = v.groups[0];
    s.ngroups = 2;
    CHECK(sys_validate(&s, &err) == 0);
    CHECK_EQ_INT(sys_total_nodes(&s), 5);
    CHECK_EQ_INT(sys_total_gpus(&s), 40);
}

/* Every catalog device carries its kernel parameters, each with a source:
 * a device added without them fails here. */
static void every_device_has_sources(void)
{
    CHECK_EQ_INT(dev_kernel_count(), dev_catalog_count());
    for (int i = 0; i < dev_catalog_count(); i++) {
        const dev_type *d = dev_catalog_at(i);
        const dev_kernel *k = dev_kernel_of(d);
        CHECK(k != NULL);
        if (!k) {
            printf("# %s has no kernel parameters (costmodel/devkernel.c)\n", d->name);
            continue;
        }
        /* a best-shape figure over the peak at the rated boost clock: a card
         * that boosts past it (the RTX 4090 on a short run: 1.004) may exceed 1 */
        CHECK(k->gemm_ceiling > 0.5 && k->gemm_ceiling <= 1.1);
        CHECK(k->hbm_eff > 0.5 && k->hbm_eff <= 1);
        CHECK(k->boost_mhz > 0 && k->sustained_mhz <= k->boost_mhz);
        /* FP8 units have a ceiling of their own; without them FP8 runs as 16-bit */
        CHECK(d->fp8_flops_per_s > 0 ? k->fp8_ceiling > 0.5 && k->fp8_ceiling <= 1
                                     : k->fp8_ceiling == 0);
        CHECK(k->score_gemm_eff > 0.3 && k->score_gemm_eff <= k->hbm_eff); /* below a copy's */
        const char *sources[] = {k->gemm_source, k->hbm_source, k->clock_source, k->fp8_source,
                                 k->score_gemm_source};
        for (int j = 0; j < 5; j++)
            CHECK(sources[j] && strlen(sources[j]) > 10);
    }
    /* the measured ones: MAMF over the peak (component_measurements.csv) */
    CHECK_REL(dev_kernel_of(dev_find("a100", NULL))->gemm_ceiling, 267.9 / 312, 1e-12);
    CHECK_REL(dev_kernel_of(dev_find("h100", NULL))->gemm_ceiling, 792.1 / 989.4, 1e-12);
    /* DeepBench's V100 (fp16 inputs, fp32 addition): 4096 x 7000 x 4096 in 2.092 ms */
    CHECK_REL(dev_kernel_of(dev_find("v100", NULL))->gemm_ceiling,
              2.0 * 4096 * 7000 * 4096 / 2.092e-3 / 125e12, 1e-3);
    /* the V100s' own copy (Jia et al. 2018, Table 3.1: 750 of 900 GB/s), both parts;
     * the RTX 4090's own ceiling (the median of three physical cards' best-size
     * torch.mm, 165.94 of 165.2 TFLOP/s): neither borrows the H200's any more */
    const char *v100s[] = {"V100-SXM2-32GB", "V100-SXM3-32GB-H"};
    for (int i = 0; i < 2; i++) {
        const dev_kernel *k = dev_kernel_of(dev_find(v100s[i], NULL));
        CHECK_REL(k->hbm_eff, 750.0 / 900.0, 1e-12);
        CHECK_STR_CONTAINS(k->hbm_source, "Jia et al. 2018");
    }
    const dev_kernel *rtx = dev_kernel_of(dev_find("RTX-4090-24GB", NULL));
    CHECK_REL(rtx->gemm_ceiling, 165.94 / 165.2, 1e-12);
    CHECK(strstr(rtx->gemm_source, "H200") == NULL);
    /* under sustained load: the A100's ceiling at 1305 of 1410 MHz; the H100 has no
     * published sustained clock and keeps its measured ceiling */
    CHECK_REL(dev_kernel_gemm_fraction(dev_kernel_of(dev_find("a100", NULL)), 0),
              267.9 / 312 * 1305 / 1410, 1e-12);
    CHECK_REL(dev_kernel_gemm_fraction(dev_kernel_of(dev_find("h100", NULL)), 0), 792.1 / 989.4,
              1e-12);
    /* FP8: the sweep's FP8 table (H100 1402.6, H200 1453.4 of 1979); the A100 has
     * no FP8 units and keeps its 16-bit ceiling */
    CHECK_REL(dev_kernel_gemm_fraction(dev_kernel_of(dev_find("h100", NULL)), 1), 1402.6 / 1979,
              1e-12);
    CHECK_REL(dev_kernel_gemm_fraction(dev_kernel_of(dev_find("h200", NULL)), 1), 1453.4 / 1979,
              1e-12);
    CHECK_REL(dev_kernel_gemm_fraction(dev_kernel_of(dev_find("a100", NULL)), 1),
              267.9 / 312 * 1305 / 1410, 1e-12);
}

/* NAME:nvme=N: the built-in with N drives at its datasheet rates (a
 * published sweep over the drive count); every malformed spec names the rule */
static void system_spec(void)
{
    sys_system a, b;
    cs_err err;
    CHECK(sys_from_spec("fuyou-server", 1, &a, &err) == 0);
    CHECK(sys_from_catalog("fuyou-server", 1, &b, &err) == 0);
    CHECK_EQ_INT(a.groups[0].node.tiers.nvme.drives, b.groups[0].node.tiers.nvme.drives);
    CHECK(sys_from_spec("fuyou-server:nvme=3", 1, &a, &err) == 0);
    const sys_tiers *t = &a.groups[0].node.tiers;
    CHECK_EQ_INT(t->nvme.drives, 3);
    CHECK_REL(tiers_nvme_read_bw(t), 3 * 6.5e9, 1e-12);
    CHECK_REL(tiers_nvme_write_bw(t), 3 * 3.4e9, 1e-12);
    CHECK_REL(tiers_dram_bw(t), tiers_dram_bw(&b.groups[0].node.tiers), 1e-12);
    /* six drives read past the testbed's measured link, write under it */
    CHECK(sys_from_spec("fuyou-server:nvme=6", 1, &a, &err) == 0);
    CHECK_REL(tiers_nvme_read_bw(t), 32e9, 1e-12);
    CHECK_REL(tiers_nvme_write_bw(t), 6 * 3.4e9, 1e-12);
    CHECK(sys_from_spec("dgx2-v100:nvme=2", 2, &a, &err) == 0);
    CHECK_EQ_INT(a.groups[0].node.tiers.nvme.drives, 2);
    const char *bad[][2] = {
        {"fuyou-server:nvme=0", "whole number of drives from 1 to 64"},
        {"fuyou-server:nvme=65", "whole number of drives from 1 to 64"},
        {"fuyou-server:nvme=3x", "whole number of drives from 1 to 64"},
        {"fuyou-server:nvme=", "whole number of drives from 1 to 64"},
        {"fuyou-server:nvme=+3", "whole number of drives from 1 to 64"}, /* strtol takes these */
        {"fuyou-server:nvme= 3", "whole number of drives from 1 to 64"},
        {"fuyou-server:nvme=-3", "whole number of drives from 1 to 64"},
        {"fuyou-server:nvme=00000000000000000003", "whole number of drives from 1 to 64"},
        {"fuyou-server:ssd=3", "the one override is ':nvme=N'"},
        {":nvme=3", "name a built-in system before ':nvme='"},
        {"fuyou-serve:nvme=3", "unknown system 'fuyou-serve'"},
        {"dgx-h800:nvme=3", "dgx-h800 has no NVMe drives to count"},
        /* 64 characters: longer than any built-in name, still an unknown system */
        {"fuyou-server-fuyou-server-fuyou-server-fuyou-server-fuyou-server:nvme=3",
         "unknown system 'fuyou-server-fuyou-server-fuyou-server-fuyou-server-fuyou-server'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(sys_from_spec(bad[i][0], 1, &a, &err) == -1);
        CHECK_STR_CONTAINS(err.msg, bad[i][1]);
    }
}

TAP_MAIN({"device catalog equals shared/reference/devices.csv", catalog_matches_reference},
         {"every device carries kernel parameters with sources", every_device_has_sources},
         {"device aliases and unknown names", device_aliases_and_errors},
         {"built-in systems carry their datasheet figures", builtin_systems},
         {"bad system descriptions are rejected with the cause", system_errors},
         {"memory tiers: DRAM, CPUs and NVMe of the built-in nodes", builtin_tiers},
         {"two GPU types in one system", heterogeneous_system},
         {"NAME:nvme=N overrides the drive count, bad specs named", system_spec})
