// test_attention_emul: runs kernels/attention_fwd.cuh, the fused attention
// forward that clustersim-kernels times on GPUs, on the CPU under
// cuda_emul.h, and compares every output with the double-precision
// reference: in fp32 (where only the order of the sums differs, so any
// indexing, masking or online-softmax slip shows) and in bf16 (rounded as
// the tensor cores' inputs are).  Lengths that are, and are not, multiples
// of the 64-row tiles; head sizes 64 and 128.  TAP output.
#include "cuda_emul.h"

#include <cstdio>
#include <cstring>

// The kernel's dynamic shared memory (its blocks run one at a time here).
alignas(128) unsigned char smem_raw[256 * 1024];

#include "attention_fwd.cuh"

// bf16: the top 16 bits of a float, rounded to nearest even.
struct emu_bf16 {
    uint16_t bits;
    emu_bf16() = default;
    emu_bf16(float f)
    {
        uint32_t u;
        std::memcpy(&u, &f, 4);
        bits = (uint16_t)((u + 0x7fffu + ((u >> 16) & 1)) >> 16);
    }
    operator float() const
    {
        uint32_t u = (uint32_t)bits << 16;
        float f;
        std::memcpy(&f, &u, 4);
        return f;
    }
};

static int g_tests, g_failed;

static void ok(bool good, const char *fmt, double a, double b, const char *name)
{
    g_tests++;
    g_failed += !good;
    printf("%s %d - %s: ", good ? "ok" : "not ok", g_tests, name);
    printf(fmt, a, b);
    printf("\n");
}

static float pseudo_random(size_t i, unsigned seed) // in [-0.5, 0.5)
{
    uint32_t x = (uint32_t)(i * 2654435761u) ^ (seed * 0x9E3779B9u);
    x ^= x >> 16, x *= 0x7feb352du, x ^= x >> 15, x *= 0x846ca68bu, x ^= x >> 16;
    return (x >> 8) * (1.0f / 16777216.0f) - 0.5f;
}

// Largest |kernel - reference| over bh sequences of sq queries and sk keys.
template <class T, int D>
static double max_error(int bh, int sq, int sk, float spread)
{
    std::vector<T> q((size_t)bh * sq * D), k((size_t)bh * sk * D), v(k.size()), o(q.size());
    for (size_t i = 0; i < q.size(); i++) q[i] = T(spread * pseudo_random(i, 11));
    for (size_t i = 0; i < k.size(); i++) k[i] = T(spread * pseudo_random(i, 12)), v[i] = T(pseudo_random(i, 13));
    std::fill(o.begin(), o.end(), T(1e30f)); // rows the kernel misses stay wrong
    std::memset(smem_raw, 0xff, sizeof smem_raw); // NaNs wherever it reads unwritten shared memory
    static_assert(attention_smem_bytes<T, D>() <= sizeof smem_raw, "smem_raw is too small");
    emu::launch(dim3{(unsigned)((sq + kBr - 1) / kBr), (unsigned)bh, 1}, kThreads, attention_fwd<T, D>,
                (const T *)q.data(), (const T *)k.data(), (const T *)v.data(), o.data(), sq, sk,
                1.0f / std::sqrt((float)D));
    double worst = 0, want[D];
    for (int b = 0; b < bh; b++)
        for (int i = 0; i < sq; i++) {
            attention_reference_row(&q[((size_t)b * sq + i) * D], &k[(size_t)b * sk * D],
                                    &v[(size_t)b * sk * D], sk, D, want);
            for (int d = 0; d < D; d++) {
                double err = std::fabs(want[d] - (double)(float)o[((size_t)b * sq + i) * D + d]);
                worst = std::isnan(err) ? INFINITY : std::max(worst, err);
            }
        }
    return worst;
}

template <class T, int D>
static void check_shapes(const char *dtype, double tolerance)
{
    const int shapes[][3] = {{2, 100, 77}, {1, 64, 64}, {1, 1, 1}, {2, 130, 200}, {1, 64, 65}, {1, 17, 128}};
    for (auto &s : shapes) {
        char name[96];
        snprintf(name, sizeof name, "%s d%d bh %d, %d queries x %d keys", dtype, D, s[0], s[1], s[2]);
        ok(max_error<T, D>(s[0], s[1], s[2], 2.0f) < tolerance, "max abs error %.2e (tolerance %.0e)",
           max_error<T, D>(s[0], s[1], s[2], 2.0f), tolerance, name);
    }
}

int main()
{
    check_shapes<float, 64>("fp32", 1e-5);
    check_shapes<float, 128>("fp32", 1e-5);
    check_shapes<emu_bf16, 64>("bf16", 2e-2); // the GPU self-check's tolerance
    check_shapes<emu_bf16, 128>("bf16", 2e-2);
    // Large scores: the running maximum must keep exp() finite.
    ok(max_error<float, 64>(1, 70, 150, 40.0f) < 1e-4, "max abs error %.2e (tolerance %.0e)",
       max_error<float, 64>(1, 70, 150, 40.0f), 1e-4, "fp32 d64 scores up to +-100");
    printf("1..%d\n", g_tests);
    return g_failed != 0;
}
