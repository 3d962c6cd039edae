// Blocked GEMM in the BLIS style: A is packed once into 6-row panels ([panel][k][6]); each
// thread expands 16 weight rows at a time into a [k][16] strip that stays in L1/L2 while every
// activation panel streams past it through a 6×16 register tile (12 accumulators).
#include "backends/cpu/gemm.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "backends/cpu/simd.h"

namespace rlx::cpu {
namespace {

constexpr int64_t kMR = 6;    // activation rows per register tile
constexpr int64_t kNR = 16;   // weight rows per register tile (two 8-float vectors)
constexpr int64_t kKc = 256;  // K per block: a 16 KiB weight block stays in L1

// Packs columns [k0, k0 + kc) of the activation rows (zero rows past M) into 6-row panels:
// Ap[p][k][i] = A[6p + i][k0 + k].
void pack_activations(const ActivationRowLoader& load_a, int64_t M, int64_t k0, int64_t kc,
                      float* Ap, ThreadPool& pool) {
  const int64_t panels = (M + kMR - 1) / kMR;
  pool.parallel_for(panels, 4, [&](int64_t p0, int64_t p1) {
    thread_local std::vector<float> scratch;
    if (scratch.size() < size_t(kKc)) scratch.resize(size_t(kKc));
    for (int64_t p = p0; p < p1; ++p) {
      const int64_t rows = std::min(kMR, M - p * kMR);
      float* panel = Ap + p * kc * kMR;
      for (int64_t i = 0; i < kMR; ++i) {
        if (i >= rows) {
          for (int64_t k = 0; k < kc; ++k) panel[k * kMR + i] = 0.f;
          continue;
        }
        const float* src = load_a(p * kMR + i, k0, kc, scratch.data());
        for (int64_t k = 0; k < kc; ++k) panel[k * kMR + i] = src[k];
      }
    }
  });
}

#if RLX_AVX2
// Stores the 8×8 block r[j] (row j, columns k..k+7) transposed: Bp[(k + c) * 16 + 8g + j].
inline void store_transposed_8x8(__m256 r[8], float* Bp, int64_t k, int64_t g) {
  transpose8(r);
  for (int c = 0; c < 8; ++c) _mm256_storeu_ps(Bp + (k + c) * kNR + g * 8, r[c]);
}
#endif

// Bp[k][r] = rows[r * K + k] for a strip of kNR rows (rows past `valid` are zero).
void pack_strip(const float* rows, int64_t valid, int64_t K, float* Bp) {
  int64_t k = 0;
#if RLX_AVX2
  if (valid == kNR)
    for (; k + 8 <= K; k += 8)
      for (int64_t g = 0; g < 2; ++g) {
        __m256 r[8];
        for (int j = 0; j < 8; ++j) r[j] = _mm256_loadu_ps(rows + (g * 8 + j) * K + k);
        store_transposed_8x8(r, Bp, k, g);
      }
#endif
  for (; k < K; ++k)
    for (int64_t r = 0; r < kNR; ++r) Bp[k * kNR + r] = r < valid ? rows[r * K + k] : 0.f;
}

// The same straight from F16 weight rows (`stride` elements apart), converting in registers:
// a full strip skips the float rows buffer. False when the strip is partial or kc is not a
// multiple of 8 (the caller then converts rows and packs them).
bool pack_strip_f16(const uint16_t* rows, int64_t stride, int64_t valid, int64_t kc, float* Bp) {
#if RLX_AVX2
  if (valid != kNR || kc % 8 != 0) return false;
  for (int64_t k = 0; k < kc; k += 8)
    for (int64_t g = 0; g < 2; ++g) {
      __m256 r[8];
      for (int j = 0; j < 8; ++j)
        r[j] = _mm256_cvtph_ps(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows + (g * 8 + j) * stride + k)));
      store_transposed_8x8(r, Bp, k, g);
    }
  return true;
#else
  (void)rows, (void)stride, (void)valid, (void)kc, (void)Bp;
  return false;
#endif
}

// c[i * ldc + j] (+)= sum_k a[k][i] * b[k][j] for a full 6×16 tile.
void tile_6x16(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, bool accumulate) {
#if RLX_AVX2
  __m256 c0[kMR], c1[kMR];
  for (int i = 0; i < kMR; ++i) {
    c0[i] = accumulate ? _mm256_loadu_ps(c + i * ldc) : _mm256_setzero_ps();
    c1[i] = accumulate ? _mm256_loadu_ps(c + i * ldc + 8) : _mm256_setzero_ps();
  }
  for (int64_t k = 0; k < kc; ++k, a += kMR, b += kNR) {
    const __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    for (int i = 0; i < kMR; ++i) {
      const __m256 ai = _mm256_broadcast_ss(a + i);
      c0[i] = _mm256_fmadd_ps(ai, b0, c0[i]);
      c1[i] = _mm256_fmadd_ps(ai, b1, c1[i]);
    }
  }
  for (int i = 0; i < kMR; ++i) {
    _mm256_storeu_ps(c + i * ldc, c0[i]);
    _mm256_storeu_ps(c + i * ldc + 8, c1[i]);
  }
#else
  float acc[kMR][kNR];
  for (int i = 0; i < kMR; ++i)
    for (int j = 0; j < kNR; ++j) acc[i][j] = accumulate ? c[i * ldc + j] : 0.f;
  for (int64_t k = 0; k < kc; ++k, a += kMR, b += kNR)
    for (int i = 0; i < kMR; ++i)
      for (int j = 0; j < kNR; ++j) acc[i][j] += a[i] * b[j];
  for (int i = 0; i < kMR; ++i)
    for (int j = 0; j < kNR; ++j) c[i * ldc + j] = acc[i][j];
#endif
}

// A partial tile (rows < 6 or cols < 16) goes through a scratch tile.
void edge_tile(int64_t kc, const float* a, const float* b, float* c, int64_t ldc, int64_t rows,
               int64_t cols, bool accumulate) {
  float t[kMR * kNR] = {};
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) t[i * kNR + j] = accumulate ? c[i * ldc + j] : 0.f;
  tile_6x16(kc, a, b, t, kNR, true);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) c[i * ldc + j] = t[i * kNR + j];
}

template <class T>
T& thread_scratch(size_t n) {
  thread_local T buf;
  if (buf.size() < n) buf.resize(n);
  return buf;
}

}  // namespace

void gemm_f32_bt(const ActivationRowLoader& load_a, int64_t M, int64_t K, int64_t N,
                 const WeightRowLoader& load_b, const WeightRowPrefetch& prefetch_b, float* C,
                 ThreadPool& pool, const uint16_t* b_f16) {
  const int64_t panels = (M + kMR - 1) / kMR;
  const int64_t strips = (N + kNR - 1) / kNR;
  // Strips are handed out in chunks (about 4 per thread), so a thread that loses its core for
  // a while does less instead of everyone waiting for it.
  const int64_t chunk = std::max<int64_t>(1, (strips + 4 * pool.size() - 1) / (4 * pool.size()));
  std::vector<float>& Ap = thread_scratch<std::vector<float>>(size_t(panels * kKc * kMR));
  // K blocks outermost: one block's activation slab (M x 256 floats) stays in L2 while the
  // strips pass over it; C accumulates across blocks.
  for (int64_t k0 = 0; k0 < K; k0 += kKc) {
    const int64_t kc = std::min(kKc, K - k0);
    pack_activations(load_a, M, k0, kc, Ap.data(), pool);
    const float* ap = Ap.data();
    pool.parallel_for_dynamic(strips, chunk, [&](int64_t s0, int64_t s1) {
      struct Buffers {
        std::vector<float> rows, strip;
      };
      thread_local Buffers buf;
      if (buf.rows.size() < size_t(kNR * kKc)) buf.rows.resize(size_t(kNR * kKc));
      if (buf.strip.size() < size_t(kNR * kKc)) buf.strip.resize(size_t(kNR * kKc));
      for (int64_t s = s0; s < s1; ++s) {
        const int64_t n0 = s * kNR, cols = std::min(kNR, N - n0);
        if (!b_f16 || !pack_strip_f16(b_f16 + n0 * K + k0, K, cols, kc, buf.strip.data())) {
          load_b(n0, cols, k0, kc, buf.rows.data());
          pack_strip(buf.rows.data(), cols, kc, buf.strip.data());
        }
        // The next strip is prefetched a few rows per activation panel: issued all at once,
        // the 16 rows x 8 lines overflow the core's miss buffers and most prefetches are
        // dropped (F16 weight loads stalled on DRAM for ~6% of prefill).
        const int64_t next_rows = s + 1 < s1 ? std::min(kNR, N - n0 - kNR) : 0;
        const float* b = buf.strip.data();
        for (int64_t p = 0; p < panels; ++p) {
          const int64_t r0 = p * next_rows / panels, r1 = (p + 1) * next_rows / panels;
          if (r1 > r0) prefetch_b(n0 + kNR + r0, r1 - r0, k0, kc);
          const float* a = ap + p * kc * kMR;
          float* c = C + p * kMR * N + n0;
          const int64_t rows = std::min(kMR, M - p * kMR);
          if (rows == kMR && cols == kNR)
            tile_6x16(kc, a, b, c, N, k0 > 0);
          else
            edge_tile(kc, a, b, c, N, rows, cols, k0 > 0);
        }
      }
    });
  }
}

}  // namespace rlx::cpu
