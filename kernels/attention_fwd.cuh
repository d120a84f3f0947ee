// attention_fwd.cuh: clustersim-kernels' fused attention forward (the
// kernel, its shared-memory size and a host reference), apart from the
// program so that tests/kernels/ can run the same source on the CPU under
// an emulation of the CUDA built-ins it uses (no GPU in CI).  Needs, before
// it is included: <mma.h> or that emulation, <cmath>, <vector>, <algorithm>.
#ifndef CS_ATTENTION_FWD_CUH
#define CS_ATTENTION_FWD_CUH

// FlashAttention-style forward, our own.
//
// One block of four warps computes kBr = 64 query rows of one (sequence,
// head), 16 rows per warp, and streams the keys and values through shared
// memory kBc = 64 rows at a time.  Both products run on the tensor cores
// (WMMA 16x16x16, fp32 accumulation): S = Q K^T for the warp's rows, then,
// after the online-softmax step (a running row maximum and sum, so the
// score matrix never reaches device memory), O += P V.  WMMA's accumulator
// layout is opaque, so S and the running O pass through the warp's part of
// shared memory, where two lanes per row rescale them: a plain tiling, not
// FlashAttention-2's register-resident one, so it stays below PyTorch's
// kernel (kernels/sdpa_torch.py measures that one).
// Q, K, V, O: [bh][seq][D] in bf16 or fp16; D is 64 or 128.

constexpr int kBr = 64, kBc = 64, kWarps = 4, kThreads = 32 * kWarps, kWarpRows = kBr / kWarps;

// Shared memory: the fp32 parts first (running O, scores), then the Q, K,
// V and P tiles; every part is a multiple of 32 bytes, as WMMA needs.
template <class T, int D>
constexpr size_t attention_smem_bytes()
{
    return (size_t)kBr * D * sizeof(float) + (size_t)kBr * kBc * sizeof(float) +
           (size_t)(kBr + 2 * kBc) * D * sizeof(T) + (size_t)kBr * kBc * sizeof(T);
}

// Rows [r0, r0 + rows) of an [n][D] matrix into shared memory in 16-byte
// pieces; rows past n become zeros.
template <class T, int D>
__device__ void attention_load_tile(T *dst, const T *src, int r0, int rows, int n)
{
    constexpr int kPerRow = D * (int)sizeof(T) / 16;
    const uint4 *s = (const uint4 *)(src + (size_t)r0 * D);
    for (int i = threadIdx.x; i < rows * kPerRow; i += blockDim.x)
        ((uint4 *)dst)[i] = r0 + i / kPerRow < n ? s[i] : make_uint4(0, 0, 0, 0);
}

// S (16 x kBc, fp32, shared) = the warp's Q rows (in registers) x K^T.
// K^T read column-major is K's [key][D] rows as they lie.
template <class T, int D>
__device__ void attention_scores(const nvcuda::wmma::fragment<nvcuda::wmma::matrix_a, 16, 16, 16, T,
                                                              nvcuda::wmma::row_major> (&q)[D / 16],
                                 const T *Ks, float *Sw)
{
    using namespace nvcuda;
    wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::col_major> k;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> s;
    for (int j0 = 0; j0 < kBc; j0 += 16) {
        wmma::fill_fragment(s, 0.0f);
#pragma unroll
        for (int d = 0; d < D / 16; d++) {
            wmma::load_matrix_sync(k, Ks + j0 * D + 16 * d, D);
            wmma::mma_sync(s, q[d], k, s);
        }
        wmma::store_matrix_sync(Sw + j0, s, kBc, wmma::mem_row_major);
    }
}

// The online-softmax step for half a row (this lane's kBc / 2 scores):
// probabilities into P (as T, for the next product), the running maximum m
// and sum l updated; returns the factor the row's O must be scaled by.
// Keys at or past sk (the last tile's padding) get probability 0.
template <class T>
__device__ float attention_softmax(const float *Sw, T *Pw, int row, int half, int keys_left,
                                   float scale, float &m, float &l)
{
    constexpr int kHalf = kBc / 2;
    const float *s = Sw + row * kBc + half * kHalf;
    T *p = Pw + row * kBc + half * kHalf;
    const int valid = min(kHalf, max(0, keys_left - half * kHalf));
    float tile_max = -INFINITY;
    for (int j = 0; j < valid; j++) tile_max = fmaxf(tile_max, s[j] * scale);
    tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 1));
    const float m_new = fmaxf(m, tile_max);
    float sum = 0;
    for (int j = 0; j < kHalf; j++) {
        float e = j < valid ? __expf(s[j] * scale - m_new) : 0.0f;
        p[j] = T(e);
        sum += e;
    }
    sum += __shfl_xor_sync(0xffffffffu, sum, 1);
    const float alpha = __expf(m - m_new); // 0 on the first tile, where m is -inf
    l = l * alpha + sum;
    m = m_new;
    return alpha;
}

// O (16 x D, fp32, shared) = alpha O + P V, alpha per row (this lane's half
// of its row is scaled first; the warp synchronises before the product).
template <class T, int D>
__device__ void attention_accumulate(const T *Pw, const T *Vs, float *Ow, int row, int half,
                                     float alpha)
{
    using namespace nvcuda;
    float *o_half = Ow + row * D + half * (D / 2);
    for (int d = 0; d < D / 2; d++) o_half[d] *= alpha;
    __syncwarp();
    wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> p[kBc / 16];
    wmma::fragment<wmma::matrix_b, 16, 16, 16, T, wmma::row_major> v;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> o;
#pragma unroll
    for (int j = 0; j < kBc / 16; j++) wmma::load_matrix_sync(p[j], Pw + 16 * j, kBc);
    for (int n0 = 0; n0 < D; n0 += 16) {
        wmma::load_matrix_sync(o, Ow + n0, D, wmma::mem_row_major);
#pragma unroll
        for (int j = 0; j < kBc / 16; j++) {
            wmma::load_matrix_sync(v, Vs + 16 * j * D + n0, D);
            wmma::mma_sync(o, p[j], v, o);
        }
        wmma::store_matrix_sync(Ow + n0, o, D, wmma::mem_row_major);
    }
}

template <class T, int D>
__global__ void __launch_bounds__(kThreads) attention_fwd(const T *Q, const T *K, const T *V, T *O,
                                                          int sq, int sk, float scale)
{
    using namespace nvcuda;
    extern __shared__ __align__(128) unsigned char smem_raw[];
    float *Os = (float *)smem_raw, *Ss = Os + kBr * D;
    T *Qs = (T *)(Ss + kBr * kBc), *Ks = Qs + kBr * D, *Vs = Ks + kBc * D, *Ps = Vs + kBc * D;
    const int bh = blockIdx.y, q0 = blockIdx.x * kBr, warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    const int row = lane / 2, half = lane % 2; // two lanes per row of the warp's 16
    float *Ow = Os + warp * kWarpRows * D, *Sw = Ss + warp * kWarpRows * kBc;
    T *Pw = Ps + warp * kWarpRows * kBc;
    const T *k = K + (size_t)bh * sk * D, *v = V + (size_t)bh * sk * D;

    attention_load_tile<T, D>(Qs, Q + (size_t)bh * sq * D, q0, kBr, sq);
    for (int i = threadIdx.x; i < kBr * D; i += kThreads) Os[i] = 0;
    __syncthreads();
    wmma::fragment<wmma::matrix_a, 16, 16, 16, T, wmma::row_major> q[D / 16];
#pragma unroll
    for (int d = 0; d < D / 16; d++) wmma::load_matrix_sync(q[d], Qs + warp * kWarpRows * D + 16 * d, D);

    float m = -INFINITY, l = 0;
    for (int k0 = 0; k0 < sk; k0 += kBc) {
        __syncthreads(); // every warp is done with the previous K and V tiles
        attention_load_tile<T, D>(Ks, k, k0, kBc, sk);
        attention_load_tile<T, D>(Vs, v, k0, kBc, sk);
        __syncthreads();
        attention_scores<T, D>(q, Ks, Sw);
        __syncwarp();
        float alpha = attention_softmax<T>(Sw, Pw, row, half, sk - k0, scale, m, l);
        __syncwarp();
        attention_accumulate<T, D>(Pw, Vs, Ow, row, half, alpha);
        __syncwarp();
    }
    const int r = q0 + warp * kWarpRows + row;
    if (r < sq) {
        const float inv_l = 1.0f / l, *o_half = Ow + row * D + half * (D / 2);
        T *dst = O + ((size_t)bh * sq + r) * D + half * (D / 2);
        for (int d = 0; d < D / 2; d++) dst[d] = T(o_half[d] * inv_l);
    }
}

// softmax(q K^T / sqrt(D)) V for one query row, in double on the host.
template <class T>
static void attention_reference_row(const T *q, const T *k, const T *v, int sk, int D, double *out)
{
    std::vector<double> p(sk);
    double mx = -1e300, sum = 0;
    for (int j = 0; j < sk; j++) {
        double x = 0;
        for (int d = 0; d < D; d++) x += (double)(float)(q[d]) * (double)(float)(k[(size_t)j * D + d]);
        p[j] = x / std::sqrt((double)D);
        mx = std::max(mx, p[j]);
    }
    for (int j = 0; j < sk; j++) sum += p[j] = std::exp(p[j] - mx);
    for (int d = 0; d < D; d++) {
        out[d] = 0;
        for (int j = 0; j < sk; j++) out[d] += p[j] / sum * (double)(float)(v[(size_t)j * D + d]);
    }
}

#endif
