/* devkernel: per-device kernel parameters and their sources (devkernel.h). */
#include "devkernel.h"

#include <string.h>

#define MAMF "ml-engineering MAMF table via component_measurements.csv: "
#define H200_GEMM "h200_measured.csv: bf16 8192^3 at 788 TFLOP/s in 16 full waves of 132 SMs: " \
                  "788 / 989.4 / (2048 / 2112) = 0.821"
#define H200_COPY "h200_measured.csv: device-to-device copy 4.3 of 4.8 TB/s (0.896)"
#define BORROWED "no measurement of this device in the references; the H200's: "
/* V100: DeepBench's training GEMMs (baidu-research/DeepBench
 * results/train/DeepBench_NV_V100.xlsx, sheet "Results - FP16 ip, Mixed
 * math": 16-bit inputs, 32-bit addition; DGX-1 V100, CUDA 10.1.243, driver
 * 418.67): the best of its shapes, 4096 x 7000 x 4096 NN in 2.092 ms, is
 * 112.3 of 125 TFLOP/s; a shape sweep's best, as the MAMF figures are. */
#define V100_GEMM "DeepBench DeepBench_NV_V100.xlsx (fp16 inputs, fp32 addition, DGX-1, " \
                  "CUDA 10.1): best shape 4096x7000x4096 at 112.3 of 125 TFLOP/s"
/* A100: GPUInspector.jl's memory_bandwidth (a device-to-device memcpy, read and
 * write bytes counted: DtoDfactor) on a DGX A100 (40 GB, HBM2) at PC2: peak
 * 1225.3 of a theoretical 1448.4 GiB/s (its docs, "Example: Data Bandwidth").
 * The only published A100 80 GB figure found is a read-only kernel's, 1.80 of
 * 2.04 TB/s (0.88, confirmed by Nsight Compute; NVIDIA developer forums,
 * "Trouble to reach peak bandwidth of A100"): not a copy, which also writes,
 * so the same die's copy is used for both, as the H200's copy is its own. */
#define A100_COPY "GPUInspector.jl docs (pc2): DGX A100 memcpy 1225.3 of 1448.4 GiB/s (0.846)"
#define A100_COPY_EFF (1225.3 / 1448.4)
/* V100 HBM2: Jia, Maggioni, Staiger, Scarpazza, "Dissecting the NVIDIA Volta
 * GPU Architecture via Microbenchmarking" (Citadel, arXiv 1804.06826, 2018),
 * Table 3.1: a kernel that loads one global array and stores another (a
 * copy) reaches 750 of 900 GB/s, 83.3%; measured on the PCIe V100 (CUDA 9.0),
 * and "global memory bandwidth does not differ between the PCIe and the
 * NVLink version" (its chapter 5).  Other V100 figures: a PyTorch elementwise
 * scale on a V100-SXM2-16GB, 783.3 GB/s (0.870; mli/transformers-benchmarks
 * micro_bench.ipynb at 53a232b); NVIDIA's whitepaper, STREAM Triad "95% DRAM
 * utilization" (a chart).  The copy is what the other devices' factor is.
 * Units: Table 3.1 labels both figures GiB/s while its text gives the peak
 * as 900 GB/s; the ratio the report prints itself, 83.3%, is the one taken
 * (were the 750 GiB/s, the ratio would be 805 / 900 = 0.895). */
#define V100_COPY_EFF (750.0 / 900.0)
#define V100_COPY "Jia et al. 2018 (arXiv 1804.06826) Table 3.1: V100 copy kernel 750 of 900 " \
    "GB/s (0.833; PCIe board, the same HBM2 as SXM; a PyTorch elementwise kernel on SXM2: 0.870)"
/* RTX 4090: zzc0721/torch-performance-test-data database.md (9d82827): test.py
 * times 30 back-to-back torch.mm of random square fp16 matrices (after 10
 * warm-up) at sizes 1024 to 10240 and keeps the best size, as a MAMF sweep
 * keeps its best shape.  Three physical RTX 4090 24 GB cards: 165.08
 * (PyTorch 2.4.0), 165.94 (2.7.1, CUDA 12.8), 171.06 (2.4.1) TFLOP/s; the
 * median, 165.94, over the datasheet's 165.2 (fp16 with fp32 accumulation at
 * the 2520 MHz boost; PyTorch asks cuBLAS for fp32 accumulation): the card
 * boosts past 2520 MHz on such a run.  At 8192^2 the same sweeps give
 * 155.5-158.6 (zzc0721 issue #78; mli/transformers-benchmarks issue #4), the
 * clock at the power limit, not published. */
#define RTX4090_GEMM "zzc0721/torch-performance-test-data database.md (9d82827): best-size " \
    "torch.mm fp16 on three physical RTX 4090 24 GB cards 165.08, 165.94, 171.06 TFLOP/s; " \
    "the median, 165.94, over the 165.2 datasheet peak (1.004: the card boosts past 2520 MHz " \
    "on a short run; its clock under sustained load is not published: at 8192^2, 155.5-158.6)"
/* FP8 (float8_e4m3fn) matrix multiplies reach less of their peak than bf16:
 * the same MAMF sweep's FP8 table (stas00/ml-engineering
 * compute/accelerator/README.md at 744d01e, "Maximum Achievable Matmul FLOPS
 * comparison table", FP8 rows; not in component_measurements.csv, which
 * copies only the bf16 rows): H100 SXM 1402.6 of 1979 (70.9%, torch
 * 2.7.0+cu126), H200 SXM 1453.4 of 1979 (73.4%, torch 2.7.1+cu128). */
#define MAMF_FP8 "ml-engineering MAMF table (744d01e), FP8 e4m3 rows: "
#define H200_FP8 MAMF_FP8 "H200 SXM 1453.4 of 1979 TFLOP/s (73.4%)"
#define NO_FP8 0, "no FP8 tensor cores: FP8 runs at the 16-bit rate and ceiling"
/* Unfused attention's batched score GEMMs (QK^T and dP write the s x s
 * matrix, P V, dV, dQ and dK read it; the other side is the head width) are
 * memory-bound, and a chain of them was timed below a copy's rate: Megatron's
 * attention alone on an A100 40 GB (FlashAttention paper, Dao et al. 2022,
 * arXiv 2205.14135, App. E.6, Table 20, read from transcriptions of the
 * paper: seq 2048, 8 heads of 64, batch 16, fp16, no dropout or mask,
 * forward and backward 13.21 ms).  One constant solved from that timing:
 * with the chain's two softmax passes at the copy's rate (16-bit, 4 and 6 B
 * a score: the fp32 fallback would alone exceed 13.21 ms), its six GEMMs
 * take the rest at 0.483 of HBM.  The other tables spread it (forward alone,
 * Table 18: 0.556; backward, Table 19: 0.458; the masked runs, Tables 12-13:
 * 0.537), and why the GEMMs fall short of a copy is not measured;
 * validate/megatron.md has the per-table figures; test_opcost re-derives
 * the 13.21. */
#define A100_GEMM_MEM_EFF 0.483
#define A100_GEMM_MEM "solved from Megatron's unfused attention timed alone on an A100 40 GB " \
    "(FlashAttention paper, arXiv 2205.14135, App. E.6 Table 20: seq 2048, 8 x 64 heads, " \
    "batch 16, fp16, 13.21 ms forward and backward): its six batched GEMMs at 0.483 of HBM " \
    "once the softmax passes are priced at the copy's rate (other tables: 0.458-0.556)"
#define GEMM_MEM_BORROWED A100_GEMM_MEM_EFF, \
    "no measurement of this device; the A100's, as a fraction of this device's HBM: " A100_GEMM_MEM

static const dev_kernel table[] = {
    {"V100-SXM2-32GB", 112.3 / 125.0, V100_GEMM, NO_FP8, V100_COPY_EFF, V100_COPY, 0, 1530,
     "V100 datasheet boost 1530 MHz; sustained not published", GEMM_MEM_BORROWED},
    {"A100-SXM4-40GB", 267.9 / 312.0, MAMF "A100-SXM4-80GB 267.9 of 312 TFLOP/s (same GA100 die "
     "and clocks)", NO_FP8, A100_COPY_EFF, A100_COPY, 1305, 1410,
     "glennklockwood.com garden/peak-FLOPS: 1305 MHz at the power limit under HPL",
     A100_GEMM_MEM_EFF, A100_GEMM_MEM},
    {"A100-SXM4-80GB", 267.9 / 312.0, MAMF "A100-SXM4-80GB 267.9 of 312 TFLOP/s", NO_FP8,
     A100_COPY_EFF,
     "no copy measured on the 80 GB (its one figure, 0.88, is a read-only kernel's); the 40 GB's "
     "(same GA100 die, HBM2): " A100_COPY, 1305, 1410,
     "glennklockwood.com garden/peak-FLOPS: 1305 MHz at the power limit under HPL",
     A100_GEMM_MEM_EFF, "the 40 GB's (same GA100 die): " A100_GEMM_MEM},
    {"H100-SXM5-80GB", 792.1 / 989.4, MAMF "H100-SXM5-80GB 792.1 of 989.4 TFLOP/s",
     1402.6 / 1979.0, MAMF_FP8 "H100 SXM 1402.6 of 1979 TFLOP/s (70.9%)", 0.896,
     BORROWED H200_COPY, 0, 1830, "H100 peak 989.4 TFLOP/s at 1830 MHz; sustained not published",
     GEMM_MEM_BORROWED},
    {"H200-SXM-141GB", 0.821, H200_GEMM, 1453.4 / 1979.0, H200_FP8, 0.896, H200_COPY, 0,
     1830, "H200 peak 989.4 TFLOP/s at 1830 MHz; sustained not published", GEMM_MEM_BORROWED},
    /* the DGX-2H's V100: the same die as the DGX-2's, its peak at the higher
     * clock (device.c): DeepBench's best-shape fraction of the peak */
    {"V100-SXM3-32GB-H", 112.3 / 125.0, "borrowed: the 300 W V100's (same GV100 die; the fraction "
     "of its peak, here at the DGX-2H's clock): " V100_GEMM, NO_FP8, V100_COPY_EFF, V100_COPY, 0,
     1530.0 * 2.1 / 2.0,
     "implied by the DGX-2H's 2.1 PFLOPS rating over the DGX-2's 2.0 at the V100's 1530 MHz; "
     "sustained not published", GEMM_MEM_BORROWED},
    {"RTX-4090-24GB", 165.94 / 165.2, RTX4090_GEMM, 1453.4 / 1979.0,
     "no FP8 measurement of this device in the references; the H200's: " H200_FP8, 0.896,
     BORROWED H200_COPY, 0, 2520, "RTX 4090 datasheet boost 2520 MHz; sustained not published",
     GEMM_MEM_BORROWED},
};

#define NTABLE ((int)(sizeof table / sizeof table[0]))

int dev_kernel_count(void) { return NTABLE; }

double dev_kernel_gemm_fraction(const dev_kernel *k, int fp8)
{
    double ceiling = fp8 && k->fp8_ceiling > 0 ? k->fp8_ceiling : k->gemm_ceiling;
    if (k->sustained_mhz > 0 && k->boost_mhz > 0)
        return ceiling * k->sustained_mhz / k->boost_mhz;
    return ceiling;
}

const dev_kernel *dev_kernel_at(int i) { return i >= 0 && i < NTABLE ? &table[i] : NULL; }

const dev_kernel *dev_kernel_of(const dev_type *dev)
{
    for (int i = 0; dev && i < NTABLE; i++)
        if (strcmp(table[i].device, dev->name) == 0)
            return &table[i];
    return NULL;
}
