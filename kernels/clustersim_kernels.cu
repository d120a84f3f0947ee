// clustersim-kernels: the calibration microbenchmarks.
//
// Measures, on the visible GPUs, the kernels clustersim's device model
// describes and writes one CSV row per measured kernel (format:
// docs/calibration.md): cuBLASLt matrix multiplies (bf16, fp16, tf32, fp8)
// over transformer shapes and attention's batched ones; a FlashAttention-
// style fused attention forward of our own; our own memory-bound kernels
// (LayerNorm, RMSNorm, GELU, SwiGLU, softmax, Adam, a copy); cudaMemcpy
// between device and host (pinned and pageable); NCCL collectives over all
// visible GPUs (one GPU: the single-rank case, same code).  Each row is
// the median, min and max over repeats after warm-up, timed with CUDA
// events; a repeat runs the kernel `inner` times so that it lasts at least
// ~0.2 ms, and the times are per kernel.
//
//   clustersim-kernels --out measurements.csv [--quick] [--only gemm,attention,...]
//
// Every CUDA, cuBLASLt and NCCL call is checked; a failure prints the call,
// the file and line and the library's message.  A kernel whose buffers do
// not fit, or for which cuBLASLt has no algorithm, is skipped with a note
// on stderr.  The output is written to OUT.partial and renamed to OUT at
// the end, so a failed run leaves no half-written OUT.
#include <cublasLt.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>
#include <mma.h>
#ifndef CS_NO_NCCL
#include <nccl.h>
#endif

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

// ---- error checks --------------------------------------------------------------

static void die(const char *what, const char *msg, const char *file, int line)
{
    fprintf(stderr, "clustersim-kernels: %s:%d: %s failed: %s\n", file, line, what, msg);
    exit(1);
}
#define CK(call)                                                                         \
    do {                                                                                 \
        cudaError_t e_ = (call);                                                         \
        if (e_ != cudaSuccess) die(#call, cudaGetErrorString(e_), __FILE__, __LINE__);   \
    } while (0)
#define CKB(call)                                                                        \
    do {                                                                                 \
        cublasStatus_t s_ = (call);                                                      \
        if (s_ != CUBLAS_STATUS_SUCCESS)                                                 \
            die(#call, cublasLtGetStatusString(s_), __FILE__, __LINE__);                 \
    } while (0)
#ifndef CS_NO_NCCL
#define CKN(call)                                                                        \
    do {                                                                                 \
        ncclResult_t r_ = (call);                                                        \
        if (r_ != ncclSuccess) die(#call, ncclGetErrorString(r_), __FILE__, __LINE__);   \
    } while (0)
#endif

// cudaMalloc that reports an allocation that does not fit instead of dying.
static void *dev_alloc(size_t bytes)
{
    void *p = nullptr;
    cudaError_t e = cudaMalloc(&p, bytes ? bytes : 1);
    if (e == cudaErrorMemoryAllocation) {
        (void)cudaGetLastError(); // clear the sticky-free error
        return nullptr;
    }
    CK(e);
    return p;
}

// ---- options and output --------------------------------------------------------

struct Opts {
    const char *out = nullptr;
    bool quick = false;
    std::string only; // empty: all families
    int reps = 20, warmup = 3;
};

static bool wanted(const Opts &o, const char *family)
{
    if (o.only.empty()) return true;
    std::string list = "," + o.only + ",";
    return list.find(std::string(",") + family + ",") != std::string::npos;
}

struct Row {
    const char *kernel, *dtype;
    double m, n, k, batch;
    int ranks;
    double bytes, flops;
};

static FILE *g_out;

struct Stats {
    double median_us, min_us, max_us;
    long iterations;
};

static void emit(const Row &r, const Stats &s)
{
    char shape[96];
    if (r.ranks > 0)
        snprintf(shape, sizeof shape, "%dx%.0f", r.ranks, r.bytes);
    else
        snprintf(shape, sizeof shape, "%.0fx%.0fx%.0fx%.0f", r.batch, r.m, r.n, r.k);
    fprintf(g_out, "%s,%s,%s,%.0f,%.0f,%.0f,%.0f,%d,%.0f,%.0f,%.4f,%.4f,%.4f,%ld\n", r.kernel,
            r.dtype, shape, r.m, r.n, r.k, r.batch, r.ranks, r.bytes, r.flops, s.median_us,
            s.min_us, s.max_us, s.iterations);
    fflush(g_out);
    fprintf(stderr, "  %-18s %-5s %-24s %12.3f us\n", r.kernel, r.dtype, shape, s.median_us);
}

// ---- timing --------------------------------------------------------------------

// Runs op (enqueueing one kernel on stream) warm-up times, then `reps`
// repeats of `inner` runs each between two events; inner is chosen so a
// repeat lasts about 0.2 ms.  Times are per run.  A slow kernel gets fewer
// repeats (at least 5) so that no row takes more than about 3 s: the sweep
// must fit in one call on a lent GPU.
template <class F>
static Stats time_op(const Opts &o, cudaStream_t stream, F op)
{
    cudaEvent_t a, b;
    CK(cudaEventCreate(&a));
    CK(cudaEventCreate(&b));
    for (int i = 0; i < o.warmup; i++) op();
    CK(cudaEventRecord(a, stream));
    op();
    CK(cudaEventRecord(b, stream));
    CK(cudaEventSynchronize(b));
    float once_ms = 0;
    CK(cudaEventElapsedTime(&once_ms, a, b));
    int inner = (int)std::min(1000.0, std::max(1.0, std::ceil(0.2 / std::max(once_ms, 1e-4f))));
    int reps = o.reps;
    if ((double)once_ms * inner * reps > 3000.0) reps = std::max(5, (int)(3000.0 / (once_ms * inner)));
    std::vector<double> t;
    for (int r = 0; r < reps; r++) {
        CK(cudaEventRecord(a, stream));
        for (int i = 0; i < inner; i++) op();
        CK(cudaEventRecord(b, stream));
        CK(cudaEventSynchronize(b));
        float ms = 0;
        CK(cudaEventElapsedTime(&ms, a, b));
        t.push_back(1000.0 * ms / inner);
    }
    CK(cudaEventDestroy(a));
    CK(cudaEventDestroy(b));
    std::sort(t.begin(), t.end());
    size_t n = t.size();
    double med = n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
    return Stats{med, t.front(), t.back(), (long)reps * inner};
}

// ---- random data -------------------------------------------------------------

__device__ __forceinline__ float hash_unit(size_t i, unsigned seed)
{
    unsigned x = (unsigned)(i * 2654435761u) ^ (seed * 0x9E3779B9u);
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    x ^= x >> 16;
    return (x >> 8) * (1.0f / 16777216.0f) - 0.5f; // [-0.5, 0.5)
}

template <class T>
__global__ void fill_kernel(T *p, size_t n, unsigned seed, float scale)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        p[i] = T(hash_unit(i, seed) * scale);
}

template <class T>
static void fill(T *p, size_t n, unsigned seed, float scale = 1.0f)
{
    fill_kernel<T><<<1024, 256>>>(p, n, seed, scale);
    CK(cudaGetLastError());
}

__global__ void fill_abs_kernel(float *p, size_t n, unsigned seed, float scale)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        p[i] = fabsf(hash_unit(i, seed)) * scale;
}

// Non-negative values (Adam's second moment, whose square root is taken).
static void fill_abs(float *p, size_t n, unsigned seed, float scale)
{
    fill_abs_kernel<<<1024, 256>>>(p, n, seed, scale);
    CK(cudaGetLastError());
}

// ---- matrix multiply (cuBLASLt) --------------------------------------------------

struct GemmType {
    const char *name;
    cudaDataType_t ab, cd;
    cublasComputeType_t compute;
    size_t ab_bytes, cd_bytes;
    int min_cc; // compute capability x 10 that has it
};

static const GemmType kGemmTypes[] = {
    {"bf16", CUDA_R_16BF, CUDA_R_16BF, CUBLAS_COMPUTE_32F, 2, 2, 80},
    {"fp16", CUDA_R_16F, CUDA_R_16F, CUBLAS_COMPUTE_32F, 2, 2, 70},
    {"tf32", CUDA_R_32F, CUDA_R_32F, CUBLAS_COMPUTE_32F_FAST_TF32, 4, 4, 80},
    {"fp8", CUDA_R_8F_E4M3, CUDA_R_16BF, CUBLAS_COMPUTE_32F, 1, 2, 89},
};

struct Lt {
    cublasLtHandle_t h;
    void *workspace;
    size_t workspace_bytes;
};

// Layout of a column-major rows x cols matrix, `batch` of them back to back.
static cublasLtMatrixLayout_t layout(cudaDataType_t t, uint64_t rows, uint64_t cols, int batch)
{
    cublasLtMatrixLayout_t l;
    CKB(cublasLtMatrixLayoutCreate(&l, t, rows, cols, (int64_t)rows));
    if (batch > 1) {
        int64_t stride = (int64_t)(rows * cols);
        CKB(cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &batch, sizeof batch));
        CKB(cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride,
                                             sizeof stride));
    }
    return l;
}

// D (m x n) = A^T B with A stored k x m and B k x n ("TN", the layout fp8
// needs on Hopper), `batch` times.  Returns false when skipped.
static bool gemm_one(const Opts &o, Lt &lt, const GemmType &ty, const char *kernel, int64_t m,
                     int64_t n, int64_t k, int batch)
{
    size_t a_b = (size_t)(k * m) * batch * ty.ab_bytes, b_b = (size_t)(k * n) * batch * ty.ab_bytes,
           d_b = (size_t)(m * n) * batch * ty.cd_bytes;
    void *A = dev_alloc(a_b), *B = dev_alloc(b_b), *D = dev_alloc(d_b);
    bool ok = A && B && D;
    cublasLtMatmulDesc_t desc = nullptr;
    cublasLtMatrixLayout_t la = nullptr, lb = nullptr, ld = nullptr;
    cublasLtMatmulPreference_t pref = nullptr;
    cublasLtMatmulHeuristicResult_t heur = {};
    int found = 0;
    cublasStatus_t heur_status = CUBLAS_STATUS_SUCCESS;
    if (ok) {
        if (ty.ab == CUDA_R_16BF) fill((__nv_bfloat16 *)A, a_b / 2, 1), fill((__nv_bfloat16 *)B, b_b / 2, 2);
        else if (ty.ab == CUDA_R_16F) fill((__half *)A, a_b / 2, 1), fill((__half *)B, b_b / 2, 2);
        else if (ty.ab == CUDA_R_32F) fill((float *)A, a_b / 4, 1), fill((float *)B, b_b / 4, 2);
        else fill((__nv_fp8_e4m3 *)A, a_b, 1), fill((__nv_fp8_e4m3 *)B, b_b, 2);
        CKB(cublasLtMatmulDescCreate(&desc, ty.compute, CUDA_R_32F));
        cublasOperation_t tA = CUBLAS_OP_T, tB = CUBLAS_OP_N;
        CKB(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSA, &tA, sizeof tA));
        CKB(cublasLtMatmulDescSetAttribute(desc, CUBLASLT_MATMUL_DESC_TRANSB, &tB, sizeof tB));
        la = layout(ty.ab, k, m, batch);
        lb = layout(ty.ab, k, n, batch);
        ld = layout(ty.cd, m, n, batch);
        CKB(cublasLtMatmulPreferenceCreate(&pref));
        CKB(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                 &lt.workspace_bytes, sizeof lt.workspace_bytes));
        // A shape the data type cannot take (fp8 wants multiples of 16) may
        // come back as NOT_SUPPORTED or INVALID_VALUE: either skips the row.
        heur_status = cublasLtMatmulAlgoGetHeuristic(lt.h, desc, la, lb, ld, ld, pref, 1, &heur, &found);
        ok = heur_status == CUBLAS_STATUS_SUCCESS && found > 0 && heur.state == CUBLAS_STATUS_SUCCESS;
    }
    float alpha = 1, beta = 0;
    if (ok) { // one untimed run: a refusal at run time skips the row instead of ending the sweep
        heur_status = cublasLtMatmul(lt.h, desc, &alpha, A, la, B, lb, &beta, D, ld, D, ld, &heur.algo,
                                     lt.workspace, lt.workspace_bytes, 0);
        CK(cudaStreamSynchronize(0));
        ok = heur_status == CUBLAS_STATUS_SUCCESS;
    }
    if (ok) {
        Stats s = time_op(o, 0, [&] {
            CKB(cublasLtMatmul(lt.h, desc, &alpha, A, la, B, lb, &beta, D, ld, D, ld, &heur.algo,
                               lt.workspace, lt.workspace_bytes, 0));
        });
        emit(Row{kernel, ty.name, (double)m, (double)n, (double)k, (double)batch, 0,
                 (double)(a_b + b_b + d_b), 2.0 * m * n * k * batch}, s);
    } else {
        fprintf(stderr, "  skipped %s %s %lldx%lldx%lld batch %d: %s (%s)\n", kernel, ty.name, (long long)m,
                (long long)n, (long long)k, batch, A && B && D ? "no cuBLASLt algorithm" : "does not fit",
                cublasLtGetStatusString(heur_status));
    }
    if (pref) CKB(cublasLtMatmulPreferenceDestroy(pref));
    if (la) CKB(cublasLtMatrixLayoutDestroy(la));
    if (lb) CKB(cublasLtMatrixLayoutDestroy(lb));
    if (ld) CKB(cublasLtMatrixLayoutDestroy(ld));
    if (desc) CKB(cublasLtMatmulDescDestroy(desc));
    CK(cudaFree(A));
    CK(cudaFree(B));
    CK(cudaFree(D));
    return ok;
}

// tokens x hidden x hidden, x 4 hidden (MLP up), 4 hidden -> hidden (MLP
// down); thin and odd shapes that break tiles; attention's batched ones.
static void run_gemm(const Opts &o, int cc)
{
    Lt lt;
    CKB(cublasLtCreate(&lt.h));
    lt.workspace_bytes = 32u << 20;
    lt.workspace = dev_alloc(lt.workspace_bytes);
    if (!lt.workspace) die("workspace", "32 MiB do not fit", __FILE__, __LINE__);
    const int64_t hidden_all[] = {1024, 2048, 4096, 8192, 12288, 16384, 32768};
    const int64_t odd[][3] = {{256, 256, 256},   {512, 512, 512},   {1000, 1000, 1000},
                              {4095, 4097, 4099}, {8191, 3001, 5003}, {2049, 12289, 4097},
                              {333, 7777, 1234}, {777, 777, 777},   {8192, 8192, 8192}};
    // hidden 32768 (an MLP operand of 4.3e9 elements) runs after everything
    // else: if cuBLASLt faults on it, only its rows are lost.
    const int nh = o.quick ? 4 : 6, huge = o.quick ? 0 : 1;
    for (const GemmType &ty : kGemmTypes) {
        if (cc < ty.min_cc) {
            fprintf(stderr, "  %s: not on compute capability %d.%d\n", ty.name, cc / 10, cc % 10);
            continue;
        }
        for (int h = 0; h < nh; h++)
            for (int64_t tokens = 2048; tokens <= 8192; tokens *= 4) {
                gemm_one(o, lt, ty, "gemm", tokens, hidden_all[h], hidden_all[h], 1);
                gemm_one(o, lt, ty, "gemm", tokens, 4 * hidden_all[h], hidden_all[h], 1);
                gemm_one(o, lt, ty, "gemm", tokens, hidden_all[h], 4 * hidden_all[h], 1);
            }
        for (auto &s : odd) gemm_one(o, lt, ty, "gemm", s[0], s[1], s[2], 1);
        for (int64_t k = 128; k <= 512; k *= 2) gemm_one(o, lt, ty, "gemm", 8192, 8192, k, 1);
        for (int64_t seq = 1024; seq <= (o.quick ? 2048 : 4096); seq *= 2)
            for (int bh = 32; bh <= 128; bh *= 4)
                for (int64_t hd = 64; hd <= 128; hd *= 2) {
                    gemm_one(o, lt, ty, "gemm_batched", seq, seq, hd, bh); // Q K^T
                    gemm_one(o, lt, ty, "gemm_batched", seq, hd, seq, bh); // P V
                }
    }
    for (const GemmType &ty : kGemmTypes)
        for (int h = nh; h < nh + huge && cc >= ty.min_cc; h++)
            for (int64_t tokens = 2048; tokens <= 8192; tokens *= 4) {
                gemm_one(o, lt, ty, "gemm", tokens, hidden_all[h], hidden_all[h], 1);
                gemm_one(o, lt, ty, "gemm", tokens, 4 * hidden_all[h], hidden_all[h], 1);
                gemm_one(o, lt, ty, "gemm", tokens, hidden_all[h], 4 * hidden_all[h], 1);
            }
    CK(cudaFree(lt.workspace));
    CKB(cublasLtDestroy(lt.h));
}

// ---- fused attention (FlashAttention-style forward, our own): attention_fwd.cuh -----------

#include "attention_fwd.cuh"

template <class T, int D>
static void attention_launch(const T *Q, const T *K, const T *V, T *O, int bh, int sq, int sk)
{
    const size_t smem = attention_smem_bytes<T, D>();
    static bool raised = false; // the opt-in above 48 KB, once per instantiation (out of the timed loop)
    if (!raised)
        CK(cudaFuncSetAttribute(attention_fwd<T, D>, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem));
    raised = true;
    dim3 grid((sq + kBr - 1) / kBr, bh);
    attention_fwd<T, D><<<grid, kThreads, smem>>>(Q, K, V, O, sq, sk, 1.0f / sqrtf((float)D));
    CK(cudaGetLastError());
}

template <class T>
static void attention_any(int hd, const T *Q, const T *K, const T *V, T *O, int bh, int sq, int sk)
{
    if (hd == 64) attention_launch<T, 64>(Q, K, V, O, bh, sq, sk);
    else attention_launch<T, 128>(Q, K, V, O, bh, sq, sk);
}

// The largest absolute difference between the kernel and the reference on
// a small case whose lengths are not multiples of the tiles.
template <class T, int D>
static double attention_check_one()
{
    const int bh = 2, sq = 100, sk = 77;
    const size_t nq = (size_t)bh * sq * D, nk = (size_t)bh * sk * D;
    T *q = (T *)dev_alloc(nq * sizeof(T)), *k = (T *)dev_alloc(nk * sizeof(T)),
      *v = (T *)dev_alloc(nk * sizeof(T)), *o = (T *)dev_alloc(nq * sizeof(T));
    fill(q, nq, 11, 2.0f), fill(k, nk, 12, 2.0f), fill(v, nk, 13, 1.0f);
    attention_launch<T, D>(q, k, v, o, bh, sq, sk);
    std::vector<T> hq(nq), hk(nk), hv(nk), ho(nq);
    CK(cudaMemcpy(hq.data(), q, nq * sizeof(T), cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(hk.data(), k, nk * sizeof(T), cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(hv.data(), v, nk * sizeof(T), cudaMemcpyDeviceToHost));
    CK(cudaMemcpy(ho.data(), o, nq * sizeof(T), cudaMemcpyDeviceToHost));
    double worst = 0, want[D];
    for (int b = 0; b < bh; b++)
        for (int i = 0; i < sq; i++) {
            attention_reference_row(&hq[((size_t)b * sq + i) * D], &hk[(size_t)b * sk * D],
                                    &hv[(size_t)b * sk * D], sk, D, want);
            for (int d = 0; d < D; d++)
                worst = std::max(worst, std::fabs(want[d] - (double)(float)(ho[((size_t)b * sq + i) * D + d])));
        }
    CK(cudaFree(q));
    CK(cudaFree(k));
    CK(cudaFree(v));
    CK(cudaFree(o));
    return worst;
}

// Checks every instantiation against the reference.  A wrong kernel costs
// only the attention rows: the rest of the sweep still runs.
static bool attention_check()
{
    const struct { const char *what; double err; } checks[] = {
        {"bf16 d64", attention_check_one<__nv_bfloat16, 64>()},
        {"bf16 d128", attention_check_one<__nv_bfloat16, 128>()},
        {"fp16 d64", attention_check_one<__half, 64>()},
        {"fp16 d128", attention_check_one<__half, 128>()},
    };
    bool ok = true;
    for (const auto &c : checks) {
        bool good = c.err < 2e-2; // bf16 rounding of P and O is about 4e-3 here
        fprintf(stderr, "  attention self-check %-9s max abs error %.2e against a CPU reference%s\n",
                c.what, c.err, good ? "" : ": WRONG");
        ok = ok && good;
    }
    if (!ok) fprintf(stderr, "  attention: skipped, the fused kernel disagrees with the reference\n");
    return ok;
}

template <class T>
static void attention_one(const Opts &o, const char *dtype, int bh, int seq, int hd)
{
    size_t n = (size_t)bh * seq * hd;
    T *q = (T *)dev_alloc(n * sizeof(T)), *k = (T *)dev_alloc(n * sizeof(T)),
      *v = (T *)dev_alloc(n * sizeof(T)), *out = (T *)dev_alloc(n * sizeof(T));
    if (q && k && v && out) {
        fill(q, n, 1), fill(k, n, 2), fill(v, n, 3);
        Stats s = time_op(o, 0, [&] { attention_any(hd, q, k, v, out, bh, seq, seq); });
        emit(Row{"attention", dtype, (double)seq, (double)seq, (double)hd, (double)bh, 0,
                 4.0 * n * sizeof(T), 4.0 * bh * (double)seq * seq * hd}, s);
    } else {
        fprintf(stderr, "  skipped attention %s bh %d seq %d: does not fit\n", dtype, bh, seq);
    }
    CK(cudaFree(q));
    CK(cudaFree(k));
    CK(cudaFree(v));
    CK(cudaFree(out));
}

// Sequence lengths 512..16k, 16 or 32 heads of 64 or 128, about 16k tokens.
static void run_attention(const Opts &o)
{
    if (!attention_check()) return;
    for (int seq = 512; seq <= (o.quick ? 2048 : 16384); seq *= 2)
        for (int hd = 64; hd <= 128; hd *= 2)
            for (int heads = 16; heads <= 32; heads *= 2) {
                int bh = std::max(1, 16384 / seq) * heads;
                attention_one<__nv_bfloat16>(o, "bf16", bh, seq, hd);
                attention_one<__half>(o, "fp16", bh, seq, hd);
            }
}

// ---- memory-bound kernels (our own) ----------------------------------------------
// bf16 activations of rows x cols; bytes counted = read + written once:
// LayerNorm, RMSNorm, GELU, softmax 4 B per element, SwiGLU 6 (two halves
// in, one out), the copy 4; Adam reads fp32 parameter, gradient and two
// moments and writes three of them: 28 B per element.

typedef __nv_bfloat16 bf16;

__device__ __forceinline__ float block_sum(float x, float *red)
{
    for (int s = 16; s > 0; s /= 2) x += __shfl_xor_sync(0xffffffffu, x, s);
    int w = threadIdx.x / 32, nw = blockDim.x / 32;
    __syncthreads();
    if (threadIdx.x % 32 == 0) red[w] = x;
    __syncthreads();
    float t = 0;
    for (int i = 0; i < nw; i++) t += red[i];
    return t;
}

__device__ __forceinline__ float block_max(float x, float *red)
{
    for (int s = 16; s > 0; s /= 2) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, s));
    int w = threadIdx.x / 32, nw = blockDim.x / 32;
    __syncthreads();
    if (threadIdx.x % 32 == 0) red[w] = x;
    __syncthreads();
    float t = -INFINITY;
    for (int i = 0; i < nw; i++) t = fmaxf(t, red[i]);
    return t;
}

// One block per row; rms: RMSNorm, else LayerNorm (unit scale, zero shift).
__global__ void norm_kernel(const bf16 *x, bf16 *y, int cols, bool rms)
{
    __shared__ float red[32];
    const bf16 *xr = x + (size_t)blockIdx.x * cols;
    bf16 *yr = y + (size_t)blockIdx.x * cols;
    float s = 0, s2 = 0;
    for (int i = threadIdx.x; i < cols; i += blockDim.x) {
        float v = __bfloat162float(xr[i]);
        s += v, s2 += v * v;
    }
    float mean = rms ? 0 : block_sum(s, red) / cols;
    float var = block_sum(s2, red) / cols - mean * mean;
    float inv = rsqrtf(var + 1e-5f);
    for (int i = threadIdx.x; i < cols; i += blockDim.x)
        yr[i] = __float2bfloat16((__bfloat162float(xr[i]) - mean) * inv);
}

__global__ void softmax_kernel(const bf16 *x, bf16 *y, int cols)
{
    __shared__ float red[32];
    const bf16 *xr = x + (size_t)blockIdx.x * cols;
    bf16 *yr = y + (size_t)blockIdx.x * cols;
    float mx = -INFINITY;
    for (int i = threadIdx.x; i < cols; i += blockDim.x) mx = fmaxf(mx, __bfloat162float(xr[i]));
    mx = block_max(mx, red);
    float s = 0;
    for (int i = threadIdx.x; i < cols; i += blockDim.x) s += __expf(__bfloat162float(xr[i]) - mx);
    float inv = 1.0f / block_sum(s, red);
    for (int i = threadIdx.x; i < cols; i += blockDim.x)
        yr[i] = __float2bfloat16(__expf(__bfloat162float(xr[i]) - mx) * inv);
}

__global__ void gelu_kernel(const bf16 *x, bf16 *y, size_t n)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        float v = __bfloat162float(x[i]);
        y[i] = __float2bfloat16(0.5f * v * (1 + tanhf(0.7978845608f * (v + 0.044715f * v * v * v))));
    }
}

// x: rows x 2 cols (gate | up), y: rows x cols.
// A block per row (grid-stride over rows): no 64-bit division per element,
// which would make the kernel instruction-bound rather than memory-bound.
__global__ void swiglu_kernel(const bf16 *x, bf16 *y, size_t rows, int cols)
{
    for (size_t r = blockIdx.x; r < rows; r += gridDim.x) {
        const bf16 *gate = x + r * 2 * cols, *up = gate + cols;
        bf16 *out = y + r * cols;
        for (int c = threadIdx.x; c < cols; c += blockDim.x) {
            float g = __bfloat162float(gate[c]);
            out[c] = __float2bfloat16(__fdividef(g, 1.0f + __expf(-g)) * __bfloat162float(up[c]));
        }
    }
}

__global__ void copy_kernel(const uint4 *x, uint4 *y, size_t n16)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n16; i += (size_t)gridDim.x * blockDim.x)
        y[i] = x[i];
}

__global__ void adam_kernel(float *p, const float *g, float *m, float *v, size_t n, float lr, float b1,
                            float b2, float c1, float c2)
{
    for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x) {
        float gi = g[i], mi = b1 * m[i] + (1 - b1) * gi, vi = b2 * v[i] + (1 - b2) * gi * gi;
        m[i] = mi, v[i] = vi;
        p[i] -= lr * (mi * c1) / (sqrtf(vi * c2) + 1e-8f);
    }
}

static int g_grid; // blocks for grid-stride kernels: 8 per SM

static void membound_one(const Opts &o, int kind, size_t rows, int cols)
{
    static const char *names[] = {"layernorm", "rmsnorm", "gelu", "swiglu", "softmax", "adam", "copy_d2d"};
    static const double bytes_per_elem[] = {4, 4, 4, 6, 4, 28, 4};
    size_t n = rows * cols, in_b = kind == 3 ? 4 * n : kind == 5 ? 4 * n : 2 * n;
    void *x = dev_alloc(in_b), *y = dev_alloc(kind == 5 ? 4 * n : 2 * n);
    void *m = kind == 5 ? dev_alloc(4 * n) : nullptr, *v = kind == 5 ? dev_alloc(4 * n) : nullptr;
    if (!x || !y || (kind == 5 && (!m || !v))) {
        fprintf(stderr, "  skipped %s %zux%d: does not fit\n", names[kind], rows, cols);
    } else {
        if (kind == 5) fill((float *)x, n, 1), fill((float *)y, n, 2), fill((float *)m, n, 3), fill_abs((float *)v, n, 4, 0.1f);
        else fill((bf16 *)x, in_b / 2, 1);
        bf16 *xb = (bf16 *)x, *yb = (bf16 *)y;
        Stats s = time_op(o, 0, [&] {
            switch (kind) {
            case 0: case 1: norm_kernel<<<(unsigned)rows, 256>>>(xb, yb, cols, kind == 1); break;
            case 2: gelu_kernel<<<g_grid, 256>>>(xb, yb, n); break;
            case 3: swiglu_kernel<<<g_grid, 256>>>(xb, yb, rows, cols); break;
            case 4: softmax_kernel<<<(unsigned)rows, 256>>>(xb, yb, cols); break;
            case 5: adam_kernel<<<g_grid, 256>>>((float *)y, (float *)x, (float *)m, (float *)v, n, 1e-4f, 0.9f, 0.95f, 1.1f, 1.05f); break;
            default: copy_kernel<<<g_grid, 256>>>((const uint4 *)x, (uint4 *)y, n * 2 / 16); break;
            }
            CK(cudaGetLastError());
        });
        emit(Row{names[kind], kind == 5 ? "fp32" : "bf16", (double)rows, (double)cols, 0, 1, 0,
                 bytes_per_elem[kind] * n, 0}, s);
    }
    CK(cudaFree(x));
    CK(cudaFree(y));
    CK(cudaFree(m));
    CK(cudaFree(v));
}

static void run_membound(const Opts &o)
{
    for (int kind = 0; kind < 7; kind++)
        for (size_t rows = 1024; rows <= (o.quick ? 16384u : 65536u); rows *= 4)
            for (int cols = 1024; cols <= 16384; cols *= 2) membound_one(o, kind, rows, cols);
}

// ---- copies -----------------------------------------------------------------------

static void run_copies(const Opts &o)
{
    size_t max = o.quick ? (64u << 20) : (1u << 30);
    for (size_t size = 4096; size <= max; size *= 4) {
        void *d = dev_alloc(size), *d2 = dev_alloc(size), *pinned = nullptr, *pageable = malloc(size);
        if (cudaMallocHost(&pinned, size) != cudaSuccess) { // a sandbox may limit pinned memory
            (void)cudaGetLastError();
            pinned = nullptr;
            fprintf(stderr, "  copies: pinning %zu bytes failed: the pinned rows of this size are skipped\n", size);
        }
        if (!d || !d2 || !pageable) die("copy buffers", "do not fit", __FILE__, __LINE__);
        memset(pageable, 1, size);
        if (pinned) memset(pinned, 1, size);
        struct { const char *name; void *dst; const void *src; cudaMemcpyKind kind; double bytes; } c[] = {
            {"copy_h2d_pinned", d, pinned, cudaMemcpyHostToDevice, (double)size},
            {"copy_d2h_pinned", pinned, d, cudaMemcpyDeviceToHost, (double)size},
            {"copy_h2d_pageable", d, pageable, cudaMemcpyHostToDevice, (double)size},
            {"copy_d2h_pageable", pageable, d, cudaMemcpyDeviceToHost, (double)size},
            {"copy_d2d_memcpy", d2, d, cudaMemcpyDeviceToDevice, 2.0 * size}, // read + written
        };
        for (auto &x : c) {
            if (!x.dst || !x.src) continue; // pinned memory refused
            Stats s = time_op(o, 0, [&] { CK(cudaMemcpyAsync(x.dst, x.src, size, x.kind, 0)); });
            emit(Row{x.name, "bf16", 0, 0, 0, 1, 0, x.bytes, 0}, s);
        }
        CK(cudaFree(d));
        CK(cudaFree(d2));
        if (pinned) CK(cudaFreeHost(pinned));
        free(pageable);
    }
}

// ---- NCCL collectives ---------------------------------------------------------------
// One process drives every visible GPU (ncclCommInitAll); with one GPU this
// is the single-rank case through the same code.  Sizes follow nccl-tests:
// all-reduce the buffer, all-gather and reduce-scatter the gathered buffer,
// all-to-all and send/recv each rank's send buffer.  Times: an event on
// GPU 0 before, every stream waits on it, each records when done, GPU 0
// waits on all of them and records the end.

#ifndef CS_NO_NCCL
struct Coll {
    int n;
    std::vector<ncclComm_t> comm;
    std::vector<cudaStream_t> stream;
    std::vector<cudaEvent_t> done;
    std::vector<void *> send, recv;
};

static void coll_launch(Coll &c, int op, size_t size)
{
    size_t count = size / 2; // bf16 elements
    CKN(ncclGroupStart());
    for (int r = 0; r < c.n; r++) {
        CK(cudaSetDevice(r));
        void *s = c.send[r], *d = c.recv[r];
        cudaStream_t st = c.stream[r];
        switch (op) {
        case 0: CKN(ncclAllReduce(s, d, count, ncclBfloat16, ncclSum, c.comm[r], st)); break;
        case 1: CKN(ncclAllGather(s, d, count / c.n, ncclBfloat16, c.comm[r], st)); break;
        case 2: CKN(ncclReduceScatter(s, d, count / c.n, ncclBfloat16, ncclSum, c.comm[r], st)); break;
        case 3:
            for (int p = 0; p < c.n; p++) {
                size_t chunk = count / c.n;
                CKN(ncclSend((char *)s + p * chunk * 2, chunk, ncclBfloat16, p, c.comm[r], st));
                CKN(ncclRecv((char *)d + p * chunk * 2, chunk, ncclBfloat16, p, c.comm[r], st));
            }
            break;
        default:
            CKN(ncclSend(s, count, ncclBfloat16, (r + 1) % c.n, c.comm[r], st));
            CKN(ncclRecv(d, count, ncclBfloat16, (r + c.n - 1) % c.n, c.comm[r], st));
        }
    }
    CKN(ncclGroupEnd());
}

static Stats coll_time(const Opts &o, Coll &c, int op, size_t size)
{
    cudaEvent_t start;
    CK(cudaSetDevice(0));
    CK(cudaEventCreate(&start));
    auto once = [&] {
        CK(cudaSetDevice(0));
        CK(cudaEventRecord(start, c.stream[0]));
        for (int r = 1; r < c.n; r++) CK(cudaStreamWaitEvent(c.stream[r], start, 0));
        coll_launch(c, op, size);
        for (int r = 0; r < c.n; r++) {
            CK(cudaSetDevice(r));
            CK(cudaEventRecord(c.done[r], c.stream[r]));
        }
        CK(cudaSetDevice(0));
        for (int r = 1; r < c.n; r++) CK(cudaStreamWaitEvent(c.stream[0], c.done[r], 0));
    };
    Stats s = time_op(o, c.stream[0], once);
    CK(cudaEventDestroy(start));
    return s;
}

static void run_nccl(const Opts &o, int ngpus)
{
    static const char *names[] = {"allreduce", "allgather", "reducescatter", "alltoall", "sendrecv"};
    Coll c;
    c.n = ngpus;
    c.comm.resize(ngpus), c.stream.resize(ngpus), c.done.resize(ngpus), c.send.resize(ngpus), c.recv.resize(ngpus);
    std::vector<int> devs(ngpus);
    for (int r = 0; r < ngpus; r++) devs[r] = r;
    ncclResult_t init = ncclCommInitAll(c.comm.data(), ngpus, devs.data());
    if (init != ncclSuccess) { // a sandbox may refuse what NCCL needs: lose the collectives only
        fprintf(stderr, "  nccl: skipped, ncclCommInitAll: %s (%s)\n", ncclGetErrorString(init),
                ncclGetLastError(nullptr));
        return;
    }
    size_t max = o.quick ? (64u << 20) : (8ull << 30);
    for (int r = 0; r < ngpus; r++) {
        CK(cudaSetDevice(r));
        CK(cudaStreamCreate(&c.stream[r]));
        CK(cudaEventCreateWithFlags(&c.done[r], cudaEventDisableTiming));
        c.send[r] = dev_alloc(max), c.recv[r] = dev_alloc(max);
        if (!c.send[r] || !c.recv[r]) die("NCCL buffers", "two of the largest size do not fit", __FILE__, __LINE__);
        CK(cudaMemset(c.send[r], 0, max));
    }
    for (int op = 0; op < 5; op++)
        for (size_t size = 1024; size <= max; size *= 2) {
            if (size / 2 % ngpus) continue; // sizes divide among ranks
            emit(Row{names[op], "bf16", 0, 0, 0, 1, ngpus, (double)size, 0}, coll_time(o, c, op, size));
        }
    for (int r = 0; r < ngpus; r++) {
        CK(cudaSetDevice(r));
        CK(cudaFree(c.send[r]));
        CK(cudaFree(c.recv[r]));
        CK(cudaStreamDestroy(c.stream[r]));
        CK(cudaEventDestroy(c.done[r]));
        CKN(ncclCommDestroy(c.comm[r]));
    }
    CK(cudaSetDevice(0));
}
#endif

// ---- device header and main -----------------------------------------------------------

static int attr(cudaDeviceAttr a, int dev)
{
    int v = 0;
    CK(cudaDeviceGetAttribute(&v, a, dev));
    return v;
}

static void write_header(int ngpus)
{
    cudaDeviceProp p;
    CK(cudaGetDeviceProperties(&p, 0));
    int driver = 0, runtime = 0;
    CK(cudaDriverGetVersion(&driver));
    CK(cudaRuntimeGetVersion(&runtime));
    time_t now = time(nullptr);
    char date[32];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    fprintf(g_out, "# clustersim-kernels measurements, format 1 (docs/calibration.md)\n");
    fprintf(g_out, "# device_name: %s\n# device_sms: %d\n", p.name, p.multiProcessorCount);
    fprintf(g_out, "# device_sm_clock_mhz: %d\n# device_mem_clock_mhz: %d\n",
            attr(cudaDevAttrClockRate, 0) / 1000, attr(cudaDevAttrMemoryClockRate, 0) / 1000);
    fprintf(g_out, "# device_memory_bytes: %zu\n# device_l2_bytes: %d\n# device_mem_bus_bits: %d\n",
            p.totalGlobalMem, p.l2CacheSize, attr(cudaDevAttrGlobalMemoryBusWidth, 0));
    fprintf(g_out, "# compute_capability: %d.%d\n# driver_version: %d\n# cuda_runtime_version: %d\n",
            p.major, p.minor, driver, runtime);
    fprintf(g_out, "# cublaslt_version: %zu\n", cublasLtGetVersion());
#ifndef CS_NO_NCCL
    int nccl = 0;
    CKN(ncclGetVersion(&nccl));
    fprintf(g_out, "# nccl_version: %d\n", nccl);
#else
    fprintf(g_out, "# nccl_version: none (built without NCCL)\n");
#endif
    fprintf(g_out, "# gpus: %d\n# date_utc: %s\n", ngpus, date);
    fprintf(g_out, "kernel,dtype,shape,m,n,k,batch,ranks,bytes,flops,time_median_us,time_min_us,"
                   "time_max_us,iterations\n");
}

static void usage(FILE *f)
{
    fprintf(f, "usage: clustersim-kernels --out FILE.csv [--quick] [--only LIST] [--reps N]\n"
               "  LIST: comma-separated families of gemm, attention, membound, copy, nccl\n"
               "  --quick: smaller sweep (minutes); --reps: timed repeats (default 20)\n");
}

static int parse(int argc, char **argv, Opts &o)
{
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        if (a == "--quick") o.quick = true;
        else if (a == "--out" && i + 1 < argc) o.out = argv[++i];
        else if (a == "--only" && i + 1 < argc) o.only = argv[++i];
        else if (a == "--reps" && i + 1 < argc && atoi(argv[i + 1]) > 0) o.reps = atoi(argv[++i]);
        else if (a == "--help" || a == "-h") { usage(stdout); exit(0); }
        else { fprintf(stderr, "clustersim-kernels: bad argument '%s'\n", argv[i]); usage(stderr); return 2; }
    }
    static const char *families[] = {"gemm", "attention", "membound", "copy", "nccl"};
    std::string list = o.only + ",";
    for (size_t p = 0, q; !o.only.empty() && (q = list.find(',', p)) != std::string::npos; p = q + 1) {
        std::string f = list.substr(p, q - p);
        if (std::find_if(std::begin(families), std::end(families), [&](const char *x) { return f == x; }) ==
            std::end(families)) {
            fprintf(stderr, "clustersim-kernels: --only: unknown family '%s'\n", f.c_str());
            return 2;
        }
    }
    if (!o.out) { usage(stderr); return 2; }
    return 0;
}

int main(int argc, char **argv)
{
    Opts o;
    if (int rc = parse(argc, argv, o)) return rc;
    int ngpus = 0;
    cudaError_t found = cudaGetDeviceCount(&ngpus);
    if (found != cudaSuccess || ngpus == 0) { // checked first: nothing is written without a GPU
        fprintf(stderr, "clustersim-kernels: no CUDA GPU is visible (%s); run it on a machine with an "
                        "NVIDIA GPU and its driver (kernels/run_calibration.sh)\n",
                found != cudaSuccess ? cudaGetErrorString(found) : "no devices");
        return 1;
    }
    CK(cudaSetDevice(0));
    std::string partial = std::string(o.out) + ".partial";
    g_out = fopen(partial.c_str(), "w");
    if (!g_out) { fprintf(stderr, "clustersim-kernels: cannot write %s\n", partial.c_str()); return 2; }
    write_header(ngpus);
    int cc = attr(cudaDevAttrComputeCapabilityMajor, 0) * 10 + attr(cudaDevAttrComputeCapabilityMinor, 0);
    g_grid = 8 * attr(cudaDevAttrMultiProcessorCount, 0);
    if (wanted(o, "gemm")) run_gemm(o, cc);
    if (wanted(o, "attention")) run_attention(o);
    if (wanted(o, "membound")) run_membound(o);
    if (wanted(o, "copy")) run_copies(o);
#ifndef CS_NO_NCCL
    if (wanted(o, "nccl")) run_nccl(o, ngpus);
#else
    if (wanted(o, "nccl")) fprintf(stderr, "  nccl: skipped (built without NCCL)\n");
#endif
    if (fclose(g_out) != 0 || rename(partial.c_str(), o.out) != 0) {
        fprintf(stderr, "clustersim-kernels: cannot write %s\n", o.out);
        return 1;
    }
    fprintf(stderr, "wrote %s\n", o.out);
    return 0;
}
