// Internal: small AVX2 helpers shared by the SIMD dot kernels (dot_avx2.cpp, dot_k_avx2.cpp).
// Only included where __AVX2__, __FMA__ and __F16C__ are defined.
#pragma once
#include <immintrin.h>

#include <cstdint>
#include <cstring>

namespace rlx::quant::avx2 {

// Inline F16C conversion (exact, like f16_to_f32, without the call per block).
inline float h2f(uint16_t h) {
  return _cvtsh_ss(h);
}

inline int hsum_i32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(1, 0, 3, 2)));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, _MM_SHUFFLE(2, 3, 0, 1)));
  return _mm_cvtsi128_si32(s);
}

inline float hsum_f32(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

inline __m256i load256(const void* p) {
  return _mm256_loadu_si256(static_cast<const __m256i*>(p));
}
inline __m128i load128(const void* p) {
  return _mm_loadu_si128(static_cast<const __m128i*>(p));
}

// 16 bytes of nibbles -> 32 bytes (low nibbles, then high nibbles), each mapped through a
// 16-entry int8 table.
inline __m256i lookup_nibbles(const uint8_t* qs, const int8_t* table) {
  const __m128i t = load128(table);
  const __m128i b = load128(qs);
  const __m128i m = _mm_set1_epi8(0x0F);
  return _mm256_set_m128i(_mm_shuffle_epi8(t, _mm_and_si128(_mm_srli_epi16(b, 4), m)),
                          _mm_shuffle_epi8(t, _mm_and_si128(b, m)));
}

// Pairwise int16 sums of u*y for unsigned bytes u (<= 127 with |y| <= 127 never saturates).
inline __m256i mul_u8_i8(__m256i u, __m256i y) {
  return _mm256_maddubs_epi16(u, y);
}
// Same for signed q: |q| * (y with q's sign).
inline __m256i mul_i8_i8(__m256i q, __m256i y) {
  return _mm256_maddubs_epi16(_mm256_sign_epi8(q, q), _mm256_sign_epi8(y, q));
}
inline __m256i sum_pairs(__m256i p16) {
  return _mm256_madd_epi16(p16, _mm256_set1_epi16(1));
}

// Prefetches the `bytes` bytes from p into L1, one touch per cache line. The multi-row kernels
// call it for the rows that follow theirs: R rows read in lockstep are R short streams, which
// the hardware prefetcher follows worse than the one long stream of a row-by-row sweep.
inline void prefetch_range(const uint8_t* p, size_t bytes) {
  for (size_t o = 0; o < bytes; o += 64)
    _mm_prefetch(reinterpret_cast<const char*>(p + o), _MM_HINT_T0);
}

// Totals of 8 vectors of int32 lanes, as one vector (lane k = sum of v[k]).
inline __m256i reduce8(const __m256i* v) {
  const __m256i h01 = _mm256_hadd_epi32(v[0], v[1]), h23 = _mm256_hadd_epi32(v[2], v[3]);
  const __m256i h45 = _mm256_hadd_epi32(v[4], v[5]), h67 = _mm256_hadd_epi32(v[6], v[7]);
  const __m256i h0123 = _mm256_hadd_epi32(h01, h23), h4567 = _mm256_hadd_epi32(h45, h67);
  return _mm256_add_epi32(_mm256_permute2x128_si256(h0123, h4567, 0x20),
                          _mm256_permute2x128_si256(h0123, h4567, 0x31));
}

}  // namespace rlx::quant::avx2
