/* cli_system: `clustersim system` and `clustersim devices`. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "devkernel.h"
#include "opcost.h"

static void system_help(void)
{
    printf("usage: clustersim system [NAME [--nodes N]] [--format table|csv]\n\n"
           "Without NAME: the built-in systems.  With NAME: its node type, network and the\n"
           "graph built for N nodes (default 1): vertices, links by kind, GPUs; the memory\n"
           "tiers of a node (PCIe, host DRAM per socket, NVMe drives) with their sources.\n"
           "NAME:nvme=N (N from 1 to 64): the built-in NAME with N of its NVMe drives per\n"
           "node, each at its datasheet rates and together at most the node's measured\n"
           "NVMe link where one is published, as a drive-count sweep names it; every\n"
           "--system takes it.  A CPU optimizer rate carried from another host's\n"
           "measurement prints its range (base to turbo clocks) as its uncertainty.\n");
}

static void list_systems(cli_format fmt)
{
    if (fmt == CLI_CSV)
        printf("system,description\n");
    for (int i = 0; i < sys_catalog_count(); i++) {
        if (fmt == CLI_CSV)
            printf("%s,\"%s\"\n", sys_catalog_name(i), sys_catalog_summary(i));
        else
            printf("%-14s %s\n", sys_catalog_name(i), sys_catalog_summary(i));
    }
}

static void count_links(topo *t, int counts[5], double min_bw[5])
{
    for (int k = 0; k < 5; k++) {
        counts[k] = 0;
        min_bw[k] = 0;
    }
    for (int l = 0; l < topo_link_count(t); l++) {
        const topo_link *lk = topo_link_at(t, l);
        int k = (int)lk->kind;
        if (counts[k] == 0 || lk->bw_bytes_per_s < min_bw[k])
            min_bw[k] = lk->bw_bytes_per_s;
        counts[k]++;
    }
}

/* A CPU rate's kind as printed (tiers.h: tier_rate_kind). */
static const char *rate_kind(tier_rate_kind k)
{
    switch (k) {
    case TIER_RATE_MEASURED: return "measured";
    case TIER_RATE_DERIVED: return "derived";
    case TIER_RATE_ASSUMED: return "assumed";
    case TIER_RATE_NONE: break;
    }
    return "none";
}

/* A CPU rate with its kind, its range where carried, and its source. */
static void describe_cpu_rate(const char *label, const char *what, double rate,
                              tier_rate_kind kind, const double range[2], const char *source)
{
    printf("%-13s %.2fe9 parameters/s per node%s, %s", label, rate / 1e9, what, rate_kind(kind));
    if (range[1] > 0) /* carried: the clock that runs is not published (tiers_cpu.h) */
        printf(", uncertain: %.2fe9 to %.2fe9 (base to turbo clocks)", range[0] / 1e9,
               range[1] / 1e9);
    printf("\n              source: %s\n", source);
}

/* The memory tiers behind the GPUs of a node, each with its source. */
static void describe_tiers(const sys_node_type *n)
{
    sys_tiers eff = tiers_effective(&n->tiers, n->host_mem_bytes, n->host_mem_bw_bytes_per_s);
    const sys_tiers *tr = &eff;
    printf("pcie          %.1f GB/s per direction per x16 link, %d GPU(s) per PCIe switch\n",
           n->pcie_bw_bytes_per_s / 1e9, n->gpus_per_pcie_switch);
    printf("host dram     %.0f GB, %d socket(s) (NUMA domains) x %.1f GB/s = %.1f GB/s, "
           "%d cores\n              source: %s\n",
           tr->host.dram_bytes / 1e9, tr->host.sockets,
           tr->host.dram_bw_per_socket_bytes_per_s / 1e9, tiers_dram_bw(tr) / 1e9,
           tr->host.cores, tr->host.source);
    if (tr->host.cpu_adam_params_per_s > 0) /* measured or derived where known (tiers.h) */
        describe_cpu_rate("cpu adam", "", tr->host.cpu_adam_params_per_s, tr->host.cpu_adam_kind,
                          tr->host.cpu_adam_range_params_per_s, tr->host.cpu_adam_source);
    if (tr->host.cpu_grad_pass_params_per_s > 0)
        describe_cpu_rate("cpu grads", " (unscale pass)", tr->host.cpu_grad_pass_params_per_s,
                          tr->host.cpu_grad_pass_kind, tr->host.cpu_grad_pass_range_params_per_s,
                          tr->host.cpu_grad_pass_source);
    if (tr->nvme.drives == 0) {
        printf("nvme          none\n");
        return;
    }
    printf("nvme          %d x %.2f TB, read %.1f GB/s, write %.1f GB/s each (%.1f / %.1f GB/s "
           "per node)\n              source: %s\n",
           tr->nvme.drives, tr->nvme.capacity_bytes / 1e12, tr->nvme.read_bw_bytes_per_s / 1e9,
           tr->nvme.write_bw_bytes_per_s / 1e9,
           tr->nvme.drives * tr->nvme.read_bw_bytes_per_s / 1e9, /* the drives' sums */
           tr->nvme.drives * tr->nvme.write_bw_bytes_per_s / 1e9, tr->nvme.source);
    if (tr->nvme.link_bw_bytes_per_s > 0) /* measured: caps the sums above (tiers.h) */
        printf("nvme link     %.1f GB/s, measured; reads and writes take turns: the node reads "
               "%.1f and writes %.1f GB/s\n              source: %s\n",
               tr->nvme.link_bw_bytes_per_s / 1e9, tiers_nvme_read_bw(tr) / 1e9,
               tiers_nvme_write_bw(tr) / 1e9, tr->nvme.link_source);
}

static void describe(const sys_system *sys, topo *t)
{
    static const char *kinds[] = {"nvlink", "pcie", "memory", "nic", "network"};
    const sys_node_type *n = &sys->groups[0].node;
    printf("system        %s\n", sys->name);
    printf("nodes         %d x %s\n", sys_total_nodes(sys), n->name);
    printf("gpus          %d x %s (%.0f GB, %.1f TFLOP/s bf16 peak)\n", sys_total_gpus(sys),
           n->gpu->name, n->gpu->memory_bytes / 1e9, n->gpu->bf16_flops_per_s / 1e12);
    printf("fabric        %s, %.0f GB/s per GPU per direction\n",
           n->fabric == SYS_FABRIC_NVSWITCH ? "NVSwitch" : "PCIe", n->nvlink_bw_bytes_per_s / 1e9);
    printf("nics          %d x %.0f Gb/s per node\n", n->nics, n->nic_bw_bytes_per_s * 8 / 1e9);
    printf("network       %s, oversubscription %.2g:1\n", sys_net_kind_name(sys->net.kind),
           sys->net.oversubscription);
    if (sys->net.topology_source)
        printf("              source: %s\n", sys->net.topology_source);
    if (sys->net.routing_source) /* switched networks: how equal-cost links are chosen */
        printf("routing       %s\n              source: %s\n", sys_routing_name(sys->net.routing),
               sys->net.routing_source);
    describe_tiers(n);
    printf("graph         %d vertices, %d directed links\n", topo_vertex_count(t),
           topo_link_count(t));
    int counts[5];
    double min_bw[5];
    count_links(t, counts, min_bw);
    for (int k = 0; k < 5; k++)
        if (counts[k])
            printf("  %-10s  %6d links, narrowest %.1f GB/s\n", kinds[k], counts[k],
                   min_bw[k] / 1e9);
}

typedef struct system_opts {
    long nodes;
    cli_format fmt;
} system_opts;

static int parse_one(int c, const char *arg, void *ctx)
{
    system_opts *o = ctx;
    if (c == 'n')
        return cli_parse_int("system", "--nodes", arg, 1, 65536, &o->nodes);
    return cli_parse_format("system", arg, &o->fmt);
}

int cmd_system(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        system_help();
        return CLI_OK;
    }
    static const struct option opts[] = {
        {"nodes", required_argument, 0, 'n'}, {"format", required_argument, 0, 'f'}, {0, 0, 0, 0}};
    system_opts o = {1, CLI_TABLE};
    int first, rc;
    const cli_args args = {.first = &first};
    if ((rc = cli_getopt_each("system", argc, argv, opts, &args, parse_one, &o)))
        return rc;
    if (first >= argc) {
        list_systems(o.fmt);
        return CLI_OK;
    }
    if (first + 1 < argc)
        return cli_bad_input("system", "unexpected argument '%s'", argv[first + 1]);
    sys_system sys;
    topo *t = NULL;
    if ((rc = cli_build_topo("system", argv[first], o.nodes, &sys, &t)))
        return rc;
    describe(&sys, t);
    topo_free(t);
    return CLI_OK;
}

/* --sources: what the kernel model takes from each device, and from where. */
static void print_sources(cli_format fmt)
{
    if (fmt == CLI_CSV)
        printf("device,gemm_ceiling,gemm_source,hbm_eff,hbm_source,sustained_mhz,boost_mhz,"
               "clock_source,gemm_sustained,fp8_ceiling,fp8_source,fp8_sustained,score_gemm_eff,"
               "score_gemm_source\n");
    for (int i = 0; i < dev_catalog_count(); i++) {
        const dev_type *d = dev_catalog_at(i);
        const dev_kernel *k = dev_kernel_of(d);
        if (!k) { /* cannot happen: test_device_system holds the two tables together */
            printf(fmt == CLI_CSV ? "%s,,,,,,,,,,,,,\n" : "%s: no kernel parameters\n", d->name);
            continue;
        }
        if (fmt == CLI_CSV) {
            printf("%s,%.4f,\"%s\",%.4f,\"%s\",%.0f,%.0f,\"%s\",%.4f,%.4f,\"%s\",%.4f,%.4f,"
                   "\"%s\"\n",
                   d->name, k->gemm_ceiling, k->gemm_source, k->hbm_eff, k->hbm_source,
                   k->sustained_mhz, k->boost_mhz, k->clock_source, dev_kernel_gemm_fraction(k, 0),
                   k->fp8_ceiling, k->fp8_source, dev_kernel_gemm_fraction(k, 1), k->score_gemm_eff,
                   k->score_gemm_source);
            continue;
        }
        double sustained = dev_kernel_gemm_fraction(k, 0);
        printf("%s\n  gemm ceiling  %.3f of the 16-bit peak (%.1f TFLOP/s)\n    source: %s\n"
               "  HBM           %.3f of %.3f TB/s\n    source: %s\n"
               "  clock         sustained %.0f MHz, boost %.0f MHz (0: not published)\n"
               "    source: %s\n"
               "  sustained     %.3f of the peak (%.1f TFLOP/s): the ceiling x sustained / boost "
               "clock where published\n",
               d->name, k->gemm_ceiling, k->gemm_ceiling * opcost_peak_flops(d, MODEL_BF16) / 1e12,
               k->gemm_source, k->hbm_eff, d->hbm_bw_bytes_per_s / 1e12, k->hbm_source,
               k->sustained_mhz, k->boost_mhz, k->clock_source, sustained,
               sustained * opcost_peak_flops(d, MODEL_BF16) / 1e12);
        if (k->fp8_ceiling > 0)
            printf("  fp8 ceiling   %.3f of the FP8 peak (%.1f TFLOP/s)\n    source: %s\n",
                   k->fp8_ceiling, k->fp8_ceiling * d->fp8_flops_per_s / 1e12, k->fp8_source);
        else
            printf("  fp8           %s\n", k->fp8_source);
        printf("  score GEMMs   %.3f of HBM (unfused attention's batched QK^T, P V)\n"
               "    source: %s\n",
               k->score_gemm_eff, k->score_gemm_source);
    }
}

int cmd_devices(int argc, char **argv)
{
    if (cli_wants_help(argc, argv)) {
        printf("usage: clustersim devices [--sources] [--format table|csv]\n\n"
               "The GPU catalog: datasheet peaks (dense) from the vendors.  --sources: what\n"
               "the built-in kernel model takes from each device (matrix-multiply ceilings,\n"
               "16-bit and FP8; achievable HBM fraction, of a copy and of unfused attention's\n"
               "score GEMMs; clocks) and where each figure comes from.\n");
        return CLI_OK;
    }
    cli_format fmt = CLI_TABLE;
    int sources = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--sources") == 0) {
            sources = 1;
        } else if (strcmp(argv[i], "--format") == 0 && i + 1 < argc) {
            int rc = cli_parse_format("devices", argv[++i], &fmt);
            if (rc)
                return rc;
        } else {
            return cli_bad_input("devices", "unexpected argument '%s'; see --help", argv[i]);
        }
    }
    if (sources) {
        print_sources(fmt);
        return CLI_OK;
    }
    if (fmt == CLI_CSV)
        printf("device,memory_gb,hbm_tb_s,bf16_tflops,fp16_tflops,fp8_tflops,"
               "nvlink_gbps_per_dir,sms\n");
    else
        printf("%-16s %9s %8s %11s %11s %10s %15s %4s\n", "device", "memory_GB", "hbm_TB/s",
               "bf16_TFLOPs", "fp16_TFLOPs", "fp8_TFLOPs", "nvlink_GB/s/dir", "sms");
    for (int i = 0; i < dev_catalog_count(); i++) {
        const dev_type *d = dev_catalog_at(i);
        printf(fmt == CLI_CSV ? "%s,%.0f,%.3f,%.1f,%.1f,%.1f,%.0f,%d\n"
                              : "%-16s %9.0f %8.3f %11.1f %11.1f %10.1f %15.0f %4d\n",
               d->name, d->memory_bytes / 1e9, d->hbm_bw_bytes_per_s / 1e12,
               d->bf16_flops_per_s / 1e12, d->fp16_flops_per_s / 1e12, d->fp8_flops_per_s / 1e12,
               d->nvlink_bw_bytes_per_s / 1e9, d->sms);
    }
    return CLI_OK;
}
