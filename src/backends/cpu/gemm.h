// Packed single-precision GEMM for many-token linears (prefill): C = A · Bᵀ where A is
// M×K activations and B is N×K weight rows produced on demand as floats (dequantized, or
// converted from 16 bits), so a quantized matrix is expanded 16 rows at a time, never whole.
#pragma once
#include <cstdint>
#include <functional>

#include "rlx/core/thread_pool.h"

namespace rlx::cpu {

// Writes columns [k0, k0 + kc) of weight rows [n0, n0 + rows) (rows <= 16) as floats: row r
// at dst + r * kc. k0 is a multiple of 256 (so of every block size); kc <= 256.
using WeightRowLoader =
    std::function<void(int64_t n0, int64_t rows, int64_t k0, int64_t kc, float* dst)>;
// Hints that the loader will soon read the same part of rows [n0, n0 + rows): weight rows are
// far apart in memory, too many streams for the hardware prefetcher, so the GEMM asks for the
// next strip while it multiplies the current one.
using WeightRowPrefetch = std::function<void(int64_t n0, int64_t rows, int64_t k0, int64_t kc)>;
// Returns columns [k0, k0 + kc) of activation row m as floats (k0 and kc as for the weight
// loader): a pointer into the caller's data, or `scratch` (kc floats) filled with a transformed
// copy (e.g. after the dot kernels' rounding, which is local to blocks of 256 or fewer).
using ActivationRowLoader =
    std::function<const float*(int64_t m, int64_t k0, int64_t kc, float* scratch)>;

// C[m * N + n] = sum_k A[m][k] * B[n][k] for m < M, n < N. Per block of 256 columns of K, the
// activations are packed once (M x 256 floats, not M x K), then threads take strips of N.
// b_f16: the same weights as contiguous F16 rows, when they are: full strips are then converted
// and transposed in registers, without load_b's float rows.
void gemm_f32_bt(const ActivationRowLoader& load_a, int64_t M, int64_t K, int64_t N,
                 const WeightRowLoader& load_b, const WeightRowPrefetch& prefetch_b, float* C,
                 ThreadPool& pool, const uint16_t* b_f16 = nullptr);

}  // namespace rlx::cpu
