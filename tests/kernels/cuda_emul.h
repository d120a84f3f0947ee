// cuda_emul.h: just enough of CUDA's device built-ins and of WMMA to run a
// kernel's own source on the CPU, so that CI, which has no GPU, tests what
// kernels/ computes.  Each CUDA thread is a std::thread; the blocks of a
// grid run one after another.  A block's threads meet at __syncthreads (a
// std::barrier), a warp's at __syncwarp and in the shuffles.  A fragment
// holds its whole 16 x 16 tile in every lane, and only lane 0 stores one:
// like the hardware, the emulation gives no ordering that the kernel does
// not ask for with __syncwarp or __syncthreads.  Dynamic shared memory is
// the array `smem_raw` the kernel declares, defined by the test.
#ifndef CS_CUDA_EMUL_H
#define CS_CUDA_EMUL_H

#include <algorithm>
#include <barrier>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <type_traits>
#include <vector>

#define __global__
#define __device__
#define __forceinline__ inline
#define __launch_bounds__(threads)
#define __shared__
#define __align__(n) __attribute__((aligned(n)))

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};
struct uint4 {
    unsigned x, y, z, w;
};
inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return {x, y, z, w}; }

namespace emu {
constexpr int kWarpSize = 32;
struct block_state {
    explicit block_state(int threads) : block(threads), shuffle((size_t)threads)
    {
        for (int w = 0; w < threads / kWarpSize; w++)
            warp.push_back(std::make_unique<std::barrier<>>(kWarpSize));
    }
    std::barrier<> block;
    std::vector<std::unique_ptr<std::barrier<>>> warp;
    std::vector<float> shuffle; // one slot per thread
};
inline thread_local dim3 thread_idx;
inline dim3 block_idx, block_dim;
inline block_state *block_now;

// Runs kernel(args...) over grid x block threads; blockDim.x threads per
// block (one dimension), whole warps.
template <class Kernel, class... Args>
void launch(dim3 grid, int threads, Kernel kernel, Args... args)
{
    block_dim = dim3{(unsigned)threads, 1, 1};
    for (unsigned by = 0; by < grid.y; by++)
        for (unsigned bx = 0; bx < grid.x; bx++) {
            block_idx = dim3{bx, by, 1};
            block_state state(threads);
            block_now = &state;
            std::vector<std::thread> team;
            for (int t = 0; t < threads; t++)
                team.emplace_back([=] {
                    thread_idx = dim3{(unsigned)t, 0, 0};
                    kernel(args...);
                });
            for (auto &th : team) th.join();
        }
}
inline int lane() { return (int)thread_idx.x % kWarpSize; }
inline std::barrier<> &warp_barrier() { return *block_now->warp[thread_idx.x / kWarpSize]; }
} // namespace emu

#define threadIdx (emu::thread_idx)
#define blockIdx (emu::block_idx)
#define blockDim (emu::block_dim)

inline void __syncthreads() { emu::block_now->block.arrive_and_wait(); }
inline void __syncwarp(unsigned = 0xffffffffu) { emu::warp_barrier().arrive_and_wait(); }
inline float __shfl_xor_sync(unsigned, float value, int lane_mask)
{
    float *slot = &emu::block_now->shuffle[threadIdx.x - emu::lane()];
    slot[emu::lane()] = value;
    __syncwarp();
    float got = slot[emu::lane() ^ lane_mask];
    __syncwarp();
    return got;
}
inline float __expf(float x) { return std::exp(x); }
using std::max;
using std::min;

namespace nvcuda::wmma {
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };

// The tile's element (r, c) is x[16 r + c], in every lane.
template <class Use, int M, int N, int K, class T, class Layout = void>
struct fragment {
    static_assert(M == 16 && N == 16 && K == 16, "the emulation has the 16x16x16 shape only");
    float x[256];
};

template <class F>
void fill_fragment(F &f, float value)
{
    std::fill(std::begin(f.x), std::end(f.x), value);
}

template <class T>
void load_tile(float *x, const T *p, unsigned ldm, bool row_major)
{
    for (int r = 0; r < 16; r++)
        for (int c = 0; c < 16; c++)
            x[16 * r + c] = (float)(row_major ? p[(size_t)r * ldm + c] : p[(size_t)c * ldm + r]);
}

template <class Use, class T, class Layout>
void load_matrix_sync(fragment<Use, 16, 16, 16, T, Layout> &f, const T *p, unsigned ldm)
{
    load_tile(f.x, p, ldm, std::is_same_v<Layout, row_major>);
}

inline void load_matrix_sync(fragment<accumulator, 16, 16, 16, float> &f, const float *p, unsigned ldm,
                             layout_t layout)
{
    load_tile(f.x, p, ldm, layout == mem_row_major);
}

inline void store_matrix_sync(float *p, const fragment<accumulator, 16, 16, 16, float> &f, unsigned ldm,
                              layout_t layout)
{
    if (emu::lane() != 0) return;
    for (int r = 0; r < 16; r++)
        for (int c = 0; c < 16; c++)
            (layout == mem_row_major ? p[(size_t)r * ldm + c] : p[(size_t)c * ldm + r]) = f.x[16 * r + c];
}

// d = a b + c, accumulated in float.
template <class T, class LA, class LB>
void mma_sync(fragment<accumulator, 16, 16, 16, float> &d, const fragment<matrix_a, 16, 16, 16, T, LA> &a,
              const fragment<matrix_b, 16, 16, 16, T, LB> &b,
              const fragment<accumulator, 16, 16, 16, float> &c)
{
    float out[256];
    for (int r = 0; r < 16; r++)
        for (int col = 0; col < 16; col++) {
            float acc = c.x[16 * r + col];
            for (int k = 0; k < 16; k++) acc += a.x[16 * r + k] * b.x[16 * k + col];
            out[16 * r + col] = acc;
        }
    std::copy(std::begin(out), std::end(out), d.x);
}
} // namespace nvcuda::wmma

#endif
