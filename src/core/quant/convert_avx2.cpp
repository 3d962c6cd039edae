// AVX2 forms of the conversions the prefill GEMM runs per call: dequantizing Q4_K/Q6_K weight
// tiles and quantizing activations to Q8_K. Each element goes through the scalar code's float
// operations (separate multiply and subtract, no FMA), so results are bit for bit the same.
#include "core/quant/fp_strict.h"  // first: no FMA contraction
#include "core/quant/quant_formats.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>

#include <cmath>
#include <cstring>

#include "rlx/core/half.h"

namespace rlx::quant {
namespace {

// 8 unsigned bytes at p (already masked/shifted into `v`'s low lanes) as floats.
inline __m256 bytes_to_f32(__m128i v) {
  return _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(v));
}

// y[0..31] = d * q - m for 32 unsigned values q in the bytes of v.
inline void scale_sub_32(__m256i v, float d, float m, float* y) {
  const __m256 vd = _mm256_set1_ps(d), vm = _mm256_set1_ps(m);
  const __m128i lo = _mm256_castsi256_si128(v), hi = _mm256_extracti128_si256(v, 1);
  const __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
  for (int k = 0; k < 4; ++k)
    _mm256_storeu_ps(y + 8 * k, _mm256_sub_ps(_mm256_mul_ps(vd, bytes_to_f32(parts[k])), vm));
}

void dequantize_q4_k_avx2(const void* src, float* y, int64_t n) {
  const auto* b = static_cast<const BlockQ4_K*>(src);
  const __m256i m4 = _mm256_set1_epi8(0x0F);
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float d = f16_to_f32(b[i].d), dmin = f16_to_f32(b[i].dmin);
    for (int c = 0; c < 4; ++c, y += 64) {
      uint8_t sc, m;
      scale_min_k4(2 * c, b[i].scales, &sc, &m);
      const float d1 = d * float(sc), m1 = dmin * float(m);
      scale_min_k4(2 * c + 1, b[i].scales, &sc, &m);
      const float d2 = d * float(sc), m2 = dmin * float(m);
      const __m256i q = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].qs + 32 * c));
      scale_sub_32(_mm256_and_si256(q, m4), d1, m1, y);
      scale_sub_32(_mm256_and_si256(_mm256_srli_epi16(q, 4), m4), d2, m2, y + 32);
    }
  }
}

// y[0..31] = (d * sc) * (u - 32) with u the 6-bit values in the bytes of v; the scale of the
// first 16 elements is s0, of the last 16 s1 (each the float d * scale, as the scalar code).
inline void q6_store_32(__m256i u, float s0, float s1, float* y) {
  const __m128i lo = _mm256_castsi256_si128(u), hi = _mm256_extracti128_si256(u, 1);
  const __m128i parts[4] = {lo, _mm_srli_si128(lo, 8), hi, _mm_srli_si128(hi, 8)};
  const __m256 off = _mm256_set1_ps(32.f);
  for (int k = 0; k < 4; ++k) {
    const __m256 q = _mm256_sub_ps(bytes_to_f32(parts[k]), off);  // exact: small integers
    _mm256_storeu_ps(y + 8 * k, _mm256_mul_ps(_mm256_set1_ps(k < 2 ? s0 : s1), q));
  }
}

void dequantize_q6_k_avx2(const void* src, float* y, int64_t n) {
  const auto* b = static_cast<const BlockQ6_K*>(src);
  const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(3);
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float d = f16_to_f32(b[i].d);
    for (int h = 0; h < 2; ++h, y += 128) {
      const uint8_t* ql = b[i].ql + 64 * h;
      const __m256i l0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql));
      const __m256i l1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ql + 32));
      const __m256i qh = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b[i].qh + 32 * h));
      const int8_t* sc = b[i].scales + 8 * h;
      const __m256i low[4] = {_mm256_and_si256(l0, m4), _mm256_and_si256(l1, m4),
                              _mm256_and_si256(_mm256_srli_epi16(l0, 4), m4),
                              _mm256_and_si256(_mm256_srli_epi16(l1, 4), m4)};
      for (int g = 0; g < 4; ++g) {  // elements 32g..32g+31 of this half
        const __m256i high = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * g), m3);
        const __m256i u = _mm256_or_si256(low[g], _mm256_slli_epi16(high, 4));
        // The scalar code computes d * float(sc) first, then multiplies by q.
        q6_store_32(u, d * float(sc[2 * g]), d * float(sc[2 * g + 1]), y + 32 * g);
      }
    }
  }
}

// Q8_K as the reference quantizer: the scale comes from the first element of largest
// magnitude; q = min(127, round-half-even(iscale * x)) (cvtps rounds like the magic-number
// trick for these magnitudes); bsums per 16.
void quantize_q8_k_avx2(const float* x, void* dst, int64_t n) {
  auto* y = static_cast<BlockQ8_K*>(dst);
  const __m256 sign = _mm256_set1_ps(-0.f);
  for (int64_t i = 0; i < n / kQK; ++i, x += kQK) {
    __m256 vmax = _mm256_setzero_ps();
    for (int j = 0; j < kQK; j += 8)
      vmax = _mm256_max_ps(vmax, _mm256_andnot_ps(sign, _mm256_loadu_ps(x + j)));
    alignas(32) float lanes[8];
    _mm256_store_ps(lanes, vmax);
    float amax = 0;
    for (float v : lanes) amax = v > amax ? v : amax;
    if (amax == 0.f) {
      std::memset(&y[i], 0, sizeof(BlockQ8_K));
      continue;
    }
    float max = 0;
    for (int j = 0; j < kQK; ++j)
      if (std::fabs(x[j]) == amax) {
        max = x[j];
        break;
      }
    const float iscale = -127.f / max;
    const __m256 vs = _mm256_set1_ps(iscale);
    const __m256i top = _mm256_set1_epi32(127);
    for (int j = 0; j < kQK; j += 32) {
      __m256i q[4];
      for (int k = 0; k < 4; ++k)
        q[k] = _mm256_min_epi32(
            _mm256_cvtps_epi32(_mm256_mul_ps(vs, _mm256_loadu_ps(x + j + 8 * k))), top);
      // int32 -> int8 keeping order: pack pairs, then undo the 128-bit lane interleave.
      const __m256i w01 = _mm256_packs_epi32(q[0], q[1]), w23 = _mm256_packs_epi32(q[2], q[3]);
      const __m256i b = _mm256_packs_epi16(w01, w23);
      const __m256i ordered =
          _mm256_permutevar8x32_epi32(b, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(y[i].qs + j), ordered);
    }
    fill_q8_k_bsums(y[i]);
    y[i].d = 1 / iscale;
  }
}

}  // namespace

Converters avx2_converters(DType t) {
  switch (t) {
    case DType::Q4_K:
      return {dequantize_q4_k_avx2, nullptr};
    case DType::Q6_K:
      return {dequantize_q6_k_avx2, nullptr};
    case DType::Q8_K:
      return {nullptr, quantize_q8_k_avx2};
    default:
      return {};
  }
}

}  // namespace rlx::quant

#else  // no AVX2: the scalar conversions serve

namespace rlx::quant {
Converters avx2_converters(DType) {
  return {};
}
}  // namespace rlx::quant

#endif
