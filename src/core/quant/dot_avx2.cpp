// AVX2 dot kernels. Each block's integer dot product is computed exactly in SIMD registers
// (maddubs/madd), reduced to one int per block (per super-block for K-quants), and then scaled
// and accumulated with the same float operations, in the same order, as dot_scalar.cpp, so the
// two give identical results. The plain float types (F32/F16/BF16) accumulate in 8 float lanes
// with FMA, like ggml's SIMD kernels.
#include "core/quant/fp_strict.h"  // first: no FMA contraction
#include "core/quant/quant_formats.h"
#include "rlx/core/half.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include <immintrin.h>

namespace rlx::quant {
namespace {

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

// 16 bytes of nibbles -> 32 bytes: low nibbles (elements 0..15), then high nibbles (16..31).
inline __m256i unpack_nibbles(const uint8_t* qs) {
  const __m128i b = load128(qs);
  const __m128i m = _mm_set1_epi8(0x0F);
  return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(b, 4), m), _mm_and_si128(b, m));
}

// As unpack_nibbles, then each nibble mapped through a 16-entry int8 table.
inline __m256i lookup_nibbles(const uint8_t* qs, const int8_t* table) {
  const __m128i t = load128(table);
  const __m128i b = load128(qs);
  const __m128i m = _mm_set1_epi8(0x0F);
  return _mm256_set_m128i(_mm_shuffle_epi8(t, _mm_and_si128(_mm_srli_epi16(b, 4), m)),
                          _mm_shuffle_epi8(t, _mm_and_si128(b, m)));
}

// 32 bits -> 32 bytes, 0x10 where the bit is set (the 5th bit of Q5_0/Q5_1 values).
inline __m256i fifth_bits(const uint8_t* qh_bytes) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  const __m256i shuf = _mm256_setr_epi8(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2,
                                        2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
  const __m256i v = _mm256_shuffle_epi8(_mm256_set1_epi32(int(qh)), shuf);
  const __m256i bit = _mm256_set1_epi64x(int64_t(0x8040201008040201ULL));
  const __m256i set = _mm256_cmpeq_epi8(_mm256_and_si256(v, bit), bit);
  return _mm256_and_si256(set, _mm256_set1_epi8(0x10));
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

// ---- 32-element blocks ----

// Totals of 8 vectors of int32 lanes, as one vector (lane k = sum of v[k]).
inline __m256i reduce8(const __m256i* v) {
  const __m256i h01 = _mm256_hadd_epi32(v[0], v[1]), h23 = _mm256_hadd_epi32(v[2], v[3]);
  const __m256i h45 = _mm256_hadd_epi32(v[4], v[5]), h67 = _mm256_hadd_epi32(v[6], v[7]);
  const __m256i h0123 = _mm256_hadd_epi32(h01, h23), h4567 = _mm256_hadd_epi32(h45, h67);
  return _mm256_add_epi32(_mm256_permute2x128_si256(h0123, h4567, 0x20),
                          _mm256_permute2x128_si256(h0123, h4567, 0x31));
}

// Drives a dot over 32-element blocks: lanes(i) gives block i's int32 partial sums, scale(i)
// its d_w*d_a and, with kExtra, extra(i) the term added for the weight minimum (m*s). The
// integers of 8 blocks are reduced together; the float steps per block are the scalar
// kernel's: sum += scale*float(isum) [+ extra].
template <bool kExtra, class Lanes, class Scale, class Extra>
inline float dot_blocks(int64_t nb, Lanes lanes, Scale scale, Extra extra) {
  float sum = 0;
  int64_t i = 0;
  for (; i + 8 <= nb; i += 8) {
    __m256i v[8];
    alignas(32) float prod[8];
    for (int k = 0; k < 8; ++k) {
      v[k] = lanes(i + k);
      prod[k] = scale(i + k);
    }
    const __m256 isum = _mm256_cvtepi32_ps(reduce8(v));
    _mm256_store_ps(prod, _mm256_mul_ps(_mm256_load_ps(prod), isum));
    for (int k = 0; k < 8; ++k) {
      if constexpr (kExtra)
        sum += prod[k] + extra(i + k);
      else
        sum += prod[k];
    }
  }
  for (; i < nb; ++i) {
    const float p = scale(i) * float(hsum_i32(lanes(i)));
    if constexpr (kExtra)
      sum += p + extra(i);
    else
      sum += p;
  }
  return sum;
}

constexpr auto kNoExtra = [](int64_t) { return 0.f; };

float dot_q4_0(const void* wp, const void* ap, int64_t n) {
  const auto* w = static_cast<const BlockQ4_0*>(wp);
  const auto* a = static_cast<const BlockQ8_0*>(ap);
  return dot_blocks<false>(
      n / 32,
      [&](int64_t i) {
        const __m256i q = _mm256_sub_epi8(unpack_nibbles(w[i].qs), _mm256_set1_epi8(8));
        return sum_pairs(mul_i8_i8(q, load256(a[i].qs)));
      },
      [&](int64_t i) { return h2f(w[i].d) * h2f(a[i].d); }, kNoExtra);
}

float dot_q4_1(const void* wp, const void* ap, int64_t n) {
  const auto* w = static_cast<const BlockQ4_1*>(wp);
  const auto* a = static_cast<const BlockQ8_1*>(ap);
  return dot_blocks<true>(
      n / 32,
      [&](int64_t i) { return sum_pairs(mul_u8_i8(unpack_nibbles(w[i].qs), load256(a[i].qs))); },
      [&](int64_t i) { return h2f(w[i].d) * h2f(a[i].d); },
      [&](int64_t i) { return h2f(w[i].m) * h2f(a[i].s); });
}

float dot_q5_0(const void* wp, const void* ap, int64_t n) {
  const auto* w = static_cast<const BlockQ5_0*>(wp);
  const auto* a = static_cast<const BlockQ8_0*>(ap);
  return dot_blocks<false>(
      n / 32,
      [&](int64_t i) {
        __m256i q = _mm256_or_si256(unpack_nibbles(w[i].qs), fifth_bits(w[i].qh));
        q = _mm256_sub_epi8(q, _mm256_set1_epi8(16));
        return sum_pairs(mul_i8_i8(q, load256(a[i].qs)));
      },
      [&](int64_t i) { return h2f(w[i].d) * h2f(a[i].d); }, kNoExtra);
}

float dot_q5_1(const void* wp, const void* ap, int64_t n) {
  const auto* w = static_cast<const BlockQ5_1*>(wp);
  const auto* a = static_cast<const BlockQ8_1*>(ap);
  return dot_blocks<true>(
      n / 32,
      [&](int64_t i) {
        const __m256i q = _mm256_or_si256(unpack_nibbles(w[i].qs), fifth_bits(w[i].qh));
        return sum_pairs(mul_u8_i8(q, load256(a[i].qs)));
      },
      [&](int64_t i) { return h2f(w[i].d) * h2f(a[i].d); },
      [&](int64_t i) { return h2f(w[i].m) * h2f(a[i].s); });
}

float dot_q8_0(const void* wp, const void* ap, int64_t n) {
  const auto* w = static_cast<const BlockQ8_0*>(wp);
  const auto* a = static_cast<const BlockQ8_0*>(ap);
  return dot_blocks<false>(
      n / 32, [&](int64_t i) { return sum_pairs(mul_i8_i8(load256(w[i].qs), load256(a[i].qs))); },
      [&](int64_t i) { return h2f(w[i].d) * h2f(a[i].d); }, kNoExtra);
}

float dot_iq4_nl(const void* wp, const void* ap, int64_t n) {
  const auto* w = static_cast<const BlockIQ4_NL*>(wp);
  const auto* a = static_cast<const BlockQ8_0*>(ap);
  return dot_blocks<false>(
      n / 32,
      [&](int64_t i) {
        return sum_pairs(mul_i8_i8(lookup_nibbles(w[i].qs, kIq4nlValues), load256(a[i].qs)));
      },
      [&](int64_t i) { return h2f(w[i].d) * h2f(a[i].d); }, kNoExtra);
}

float dot_mxfp4(const void* wp, const void* ap, int64_t n) {
  const auto* w = static_cast<const BlockMXFP4*>(wp);
  const auto* a = static_cast<const BlockQ8_0*>(ap);
  return dot_blocks<false>(
      n / 32,
      [&](int64_t i) {
        return sum_pairs(mul_i8_i8(lookup_nibbles(w[i].qs, kMxfp4Values), load256(a[i].qs)));
      },
      [&](int64_t i) { return e8m0_to_f32_half(w[i].e) * h2f(a[i].d); }, kNoExtra);
}

// ---- K-quants (activation Q8_K) ----

// int16 scales for a 32-element group whose halves have scales s0 (elements 0..15) and s1.
inline __m256i scales16(int s0, int s1) {
  return _mm256_set_m128i(_mm_set1_epi16(int16_t(s1)), _mm_set1_epi16(int16_t(s0)));
}

// Q2_K: u in [0,3], x = d*(sc&15)*u - dmin*(sc>>4); the min term comes from bsums.
float dot_q2_k(const void* wp, const void* ap, int64_t n) {
  const auto* w = static_cast<const BlockQ2_K*>(wp);
  const auto* a = static_cast<const BlockQ8_K*>(ap);
  float sum = 0;
  const __m256i m3 = _mm256_set1_epi8(3);
  for (int64_t i = 0; i < n / kQK; ++i) {
    const uint8_t* sc = w[i].scales;
    __m256i acc = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i bits = load256(w[i].qs + 32 * h);
      for (int j = 0; j < 4; ++j) {
        const int g = 4 * h + j;  // 32-element group
        const __m256i u = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * j), m3);
        const __m256i p = mul_u8_i8(u, load256(a[i].qs + 32 * g));
        acc = _mm256_add_epi32(
            acc, _mm256_madd_epi16(p, scales16(sc[2 * g] & 0xF, sc[2 * g + 1] & 0xF)));
      }
    }
    int summs = 0;
    for (int j = 0; j < 16; ++j) summs += (sc[j] >> 4) * a[i].bsums[j];
    const float dall = a[i].d * h2f(w[i].d), dmin = a[i].d * h2f(w[i].dmin);
    sum += dall * float(hsum_i32(acc)) - dmin * float(summs);
  }
  return sum;
}

// Q3_K: q = u - 4 with u = 2 low bits + 4*(high bit) in [0,7]; the -4 goes through bsums.
float dot_q3_k(const void* wp, const void* ap, int64_t n) {
  const auto* w = static_cast<const BlockQ3_K*>(wp);
  const auto* a = static_cast<const BlockQ8_K*>(ap);
  float sum = 0;
  const __m256i m3 = _mm256_set1_epi8(3), m1 = _mm256_set1_epi8(1);
  int8_t sc[16];
  for (int64_t i = 0; i < n / kQK; ++i) {
    unpack_q3_k_scales(w[i].scales, sc);
    const __m256i hmask = load256(w[i].hmask);
    __m256i acc = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i bits = load256(w[i].qs + 32 * h);
      for (int j = 0; j < 4; ++j) {
        const int g = 4 * h + j;
        const __m256i lo = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * j), m3);
        const __m256i hi = _mm256_and_si256(_mm256_srli_epi16(hmask, g), m1);
        const __m256i u = _mm256_or_si256(lo, _mm256_slli_epi16(hi, 2));
        const __m256i p = mul_u8_i8(u, load256(a[i].qs + 32 * g));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, scales16(sc[2 * g], sc[2 * g + 1])));
      }
    }
    int corr = 0;
    for (int j = 0; j < 16; ++j) corr += sc[j] * a[i].bsums[j];
    const int isum = hsum_i32(acc) - 4 * corr;
    sum += h2f(w[i].d) * a[i].d * float(isum);
  }
  return sum;
}

template <bool kFive, class Block>
float dot_q45_k(const void* wp, const void* ap, int64_t n) {
  const auto* w = static_cast<const Block*>(wp);
  const auto* a = static_cast<const BlockQ8_K*>(ap);
  float sum = 0;
  const __m256i m4 = _mm256_set1_epi8(0x0F), m1 = _mm256_set1_epi8(1);
  for (int64_t i = 0; i < n / kQK; ++i) {
    uint8_t sc[8], mn[8];
    for (int j = 0; j < 8; ++j) scale_min_k4(j, w[i].scales, &sc[j], &mn[j]);
    __m256i acc = _mm256_setzero_si256();
    __m256i qh = _mm256_setzero_si256();
    if constexpr (kFive) qh = load256(w[i].qh);
    for (int c = 0; c < 4; ++c) {
      const __m256i bits = load256(w[i].qs + 32 * c);
      __m256i lo = _mm256_and_si256(bits, m4);
      __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
      if constexpr (kFive) {
        lo = _mm256_or_si256(
            lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), m1), 4));
        hi = _mm256_or_si256(
            hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), m1), 4));
      }
      const __m256i plo = mul_u8_i8(lo, load256(a[i].qs + 64 * c));
      const __m256i phi = mul_u8_i8(hi, load256(a[i].qs + 64 * c + 32));
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(plo, _mm256_set1_epi16(sc[2 * c])));
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(phi, _mm256_set1_epi16(sc[2 * c + 1])));
    }
    int summ = 0;
    for (int j = 0; j < 8; ++j) summ += mn[j] * (a[i].bsums[2 * j] + a[i].bsums[2 * j + 1]);
    const float d = h2f(w[i].d) * a[i].d, dmin = h2f(w[i].dmin) * a[i].d;
    sum += d * float(hsum_i32(acc)) - dmin * float(summ);
  }
  return sum;
}

// Q6_K: q = u - 32 with u in [0,63]; the -32 goes through bsums.
float dot_q6_k(const void* wp, const void* ap, int64_t n) {
  const auto* w = static_cast<const BlockQ6_K*>(wp);
  const auto* a = static_cast<const BlockQ8_K*>(ap);
  float sum = 0;
  const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(3);
  for (int64_t i = 0; i < n / kQK; ++i) {
    const int8_t* sc = w[i].scales;
    __m256i acc = _mm256_setzero_si256();
    for (int h = 0; h < 2; ++h) {
      const __m256i ql0 = load256(w[i].ql + 64 * h), ql1 = load256(w[i].ql + 64 * h + 32);
      const __m256i qh = load256(w[i].qh + 32 * h);
      const __m256i low[4] = {_mm256_and_si256(ql0, m4), _mm256_and_si256(ql1, m4),
                              _mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4),
                              _mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4)};
      for (int g = 0; g < 4; ++g) {
        const __m256i hb = _mm256_and_si256(_mm256_srli_epi16(qh, 2 * g), m3);
        const __m256i u = _mm256_or_si256(low[g], _mm256_slli_epi16(hb, 4));
        const int e = 128 * h + 32 * g;
        const __m256i p = mul_u8_i8(u, load256(a[i].qs + e));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, scales16(sc[e / 16], sc[e / 16 + 1])));
      }
    }
    int corr = 0;
    for (int j = 0; j < 16; ++j) corr += sc[j] * a[i].bsums[j];
    const int isum = hsum_i32(acc) - 32 * corr;
    sum += h2f(w[i].d) * a[i].d * float(isum);
  }
  return sum;
}

float dot_iq4_xs(const void* wp, const void* ap, int64_t n) {
  const auto* w = static_cast<const BlockIQ4_XS*>(wp);
  const auto* a = static_cast<const BlockQ8_K*>(ap);
  float sum = 0;
  for (int64_t i = 0; i < n / kQK; ++i) {
    __m256i acc = _mm256_setzero_si256();
    for (int ib = 0; ib < 8; ++ib) {
      const int ls = ((w[i].scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) |
                     (((w[i].scales_h >> (2 * ib)) & 3) << 4);
      const __m256i q = lookup_nibbles(w[i].qs + 16 * ib, kIq4nlValues);
      const __m256i p = mul_i8_i8(q, load256(a[i].qs + 32 * ib));
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, _mm256_set1_epi16(int16_t(ls - 32))));
    }
    sum += h2f(w[i].d) * a[i].d * float(hsum_i32(acc));
  }
  return sum;
}

// ---- float types: 4 x 8 lanes of FMA, tail in scalar ----

inline __m256 load_f16(const uint16_t* p) {
  return _mm256_cvtph_ps(load128(p));
}
inline __m256 load_bf16(const uint16_t* p) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(load128(p)), 16));
}

template <class T, __m256 (*kLoad)(const T*), float (*kToF32)(T)>
float dot_float(const void* wp, const void* ap, int64_t n) {
  const T* w = static_cast<const T*>(wp);
  const T* a = static_cast<const T*>(ap);
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    s0 = _mm256_fmadd_ps(kLoad(w + i), kLoad(a + i), s0);
    s1 = _mm256_fmadd_ps(kLoad(w + i + 8), kLoad(a + i + 8), s1);
    s2 = _mm256_fmadd_ps(kLoad(w + i + 16), kLoad(a + i + 16), s2);
    s3 = _mm256_fmadd_ps(kLoad(w + i + 24), kLoad(a + i + 24), s3);
  }
  for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(kLoad(w + i), kLoad(a + i), s0);
  float sum = hsum_f32(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
  for (; i < n; ++i) sum += kToF32(w[i]) * kToF32(a[i]);
  return sum;
}

inline __m256 load_f32(const float* p) {
  return _mm256_loadu_ps(p);
}
inline float id_f32(float x) {
  return x;
}
inline float f16_scalar(uint16_t x) {
  return f16_to_f32(x);
}
inline float bf16_scalar(uint16_t x) {
  return bf16_to_f32(x);
}

}  // namespace

VecDotFn avx2_vec_dot(DType t) {
  switch (t) {
    case DType::F32:
      return dot_float<float, load_f32, id_f32>;
    case DType::F16:
      return dot_float<uint16_t, load_f16, f16_scalar>;
    case DType::BF16:
      return dot_float<uint16_t, load_bf16, bf16_scalar>;
    case DType::Q4_0:
      return dot_q4_0;
    case DType::Q4_1:
      return dot_q4_1;
    case DType::Q5_0:
      return dot_q5_0;
    case DType::Q5_1:
      return dot_q5_1;
    case DType::Q8_0:
      return dot_q8_0;
    case DType::IQ4_NL:
      return dot_iq4_nl;
    case DType::MXFP4:
      return dot_mxfp4;
    case DType::Q2_K:
      return dot_q2_k;
    case DType::Q3_K:
      return dot_q3_k;
    case DType::Q4_K:
      return dot_q45_k<false, BlockQ4_K>;
    case DType::Q5_K:
      return dot_q45_k<true, BlockQ5_K>;
    case DType::Q6_K:
      return dot_q6_k;
    case DType::IQ4_XS:
      return dot_iq4_xs;
    default:
      return nullptr;
  }
}

}  // namespace rlx::quant

#else  // no AVX2: the scalar kernels serve

namespace rlx::quant {
VecDotFn avx2_vec_dot(DType) {
  return nullptr;
}
}  // namespace rlx::quant

#endif
