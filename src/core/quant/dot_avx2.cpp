// AVX2 dot kernels of the 32-element block formats and the plain float types (the K-quants are
// in dot_k_avx2.cpp). Each block's integer dot product is computed exactly in SIMD registers
// (maddubs/madd), reduced to one int per block, and then scaled and accumulated with the same
// float operations, in the same order, as dot_scalar.cpp, so the two give identical results.
// The plain float types (F32/F16/BF16) accumulate in 8 float lanes with FMA, like ggml's SIMD
// kernels.
#include "core/quant/fp_strict.h"  // first: no FMA contraction
#include "core/quant/quant_formats.h"
#include "rlx/core/half.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include "core/quant/avx2_util.h"

namespace rlx::quant {
namespace {

using namespace avx2;

// 16 bytes of nibbles -> 32 bytes: low nibbles (elements 0..15), then high nibbles (16..31).
inline __m256i unpack_nibbles(const uint8_t* qs) {
  const __m128i b = load128(qs);
  const __m128i m = _mm_set1_epi8(0x0F);
  return _mm256_set_m128i(_mm_and_si128(_mm_srli_epi16(b, 4), m), _mm_and_si128(b, m));
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

// ---- 32-element blocks ----

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

// Q8_0, 8 rows at a time with row r in float lane r: the 8 rows' integer dots of a block are
// reduced together, then each lane takes the scalar kernel's step sum += (d_w*d_a)*isum.
void q8_0_rows8(const uint8_t* w, size_t stride, const BlockQ8_0* a, int64_t nb, float* out) {
  __m256 sum = _mm256_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    const __m256i y = load256(a[i].qs);
    prefetch_range(w + 8 * stride + i * 8 * sizeof(BlockQ8_0), 8 * sizeof(BlockQ8_0));
    const BlockQ8_0* b[8];
    __m256i v[8];
    for (int r = 0; r < 8; ++r) {
      b[r] = reinterpret_cast<const BlockQ8_0*>(w + size_t(r) * stride) + i;
      v[r] = sum_pairs(mul_i8_i8(load256(b[r]->qs), y));
    }
    const __m128i dw =
        _mm_setr_epi16(short(b[0]->d), short(b[1]->d), short(b[2]->d), short(b[3]->d),
                       short(b[4]->d), short(b[5]->d), short(b[6]->d), short(b[7]->d));
    const __m256 scale = _mm256_mul_ps(_mm256_cvtph_ps(dw), _mm256_set1_ps(h2f(a[i].d)));
    sum = _mm256_add_ps(sum, _mm256_mul_ps(scale, _mm256_cvtepi32_ps(reduce8(v))));
  }
  _mm256_storeu_ps(out, sum);
}

void dot_q8_0_rows(const void* wp, size_t stride, int nrows, const void* ap, int64_t n,
                   float* out) {
  const auto* w = static_cast<const uint8_t*>(wp);
  const auto* a = static_cast<const BlockQ8_0*>(ap);
  int r = 0;
  for (; r + 8 <= nrows; r += 8) q8_0_rows8(w + size_t(r) * stride, stride, a, n / 32, out + r);
  for (; r < nrows; ++r) out[r] = dot_q8_0(w + size_t(r) * stride, ap, n);
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

// Two rows of a plain float type against one activation row: each row keeps dot_float's four
// accumulators and order (so results match it bit for bit); the activation is loaded and
// converted once for both, and the next two rows are prefetched.
template <class T, __m256 (*kLoad)(const T*), float (*kToF32)(T)>
void float_rows2(const T* w0, const T* w1, const T* a, int64_t n, const uint8_t* next, float* out) {
  __m256 s[2][4];
  for (auto& row : s)
    for (auto& v : row) v = _mm256_setzero_ps();
  int64_t i = 0;
  for (; i + 32 <= n; i += 32) {
    prefetch_range(next + 2 * sizeof(T) * size_t(i), 64 * sizeof(T));
    for (int j = 0; j < 4; ++j) {
      const __m256 x = kLoad(a + i + 8 * j);
      s[0][j] = _mm256_fmadd_ps(kLoad(w0 + i + 8 * j), x, s[0][j]);
      s[1][j] = _mm256_fmadd_ps(kLoad(w1 + i + 8 * j), x, s[1][j]);
    }
  }
  for (; i + 8 <= n; i += 8) {
    const __m256 x = kLoad(a + i);
    s[0][0] = _mm256_fmadd_ps(kLoad(w0 + i), x, s[0][0]);
    s[1][0] = _mm256_fmadd_ps(kLoad(w1 + i), x, s[1][0]);
  }
  const T* w[2] = {w0, w1};
  for (int r = 0; r < 2; ++r) {
    float sum =
        hsum_f32(_mm256_add_ps(_mm256_add_ps(s[r][0], s[r][1]), _mm256_add_ps(s[r][2], s[r][3])));
    for (int64_t t = i; t < n; ++t) sum += kToF32(w[r][t]) * kToF32(a[t]);
    out[r] = sum;
  }
}

template <class T, __m256 (*kLoad)(const T*), float (*kToF32)(T)>
void dot_float_rows(const void* wp, size_t stride, int nrows, const void* ap, int64_t n,
                    float* out) {
  const auto* w = static_cast<const uint8_t*>(wp);
  const T* a = static_cast<const T*>(ap);
  auto row = [&](int r) { return reinterpret_cast<const T*>(w + size_t(r) * stride); };
  int r = 0;
  for (; r + 2 <= nrows; r += 2)
    float_rows2<T, kLoad, kToF32>(row(r), row(r + 1), a, n, w + size_t(r + 2) * stride, out + r);
  if (r < nrows) out[r] = dot_float<T, kLoad, kToF32>(row(r), ap, n);
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

DotKernels avx2_dot_kernels(DType t) {
  switch (t) {
    case DType::F32:
      return {dot_float<float, load_f32, id_f32>, nullptr};
    case DType::F16:
      return {dot_float<uint16_t, load_f16, f16_scalar>,
              dot_float_rows<uint16_t, load_f16, f16_scalar>};
    case DType::BF16:
      return {dot_float<uint16_t, load_bf16, bf16_scalar>,
              dot_float_rows<uint16_t, load_bf16, bf16_scalar>};
    case DType::Q4_0:
      return {dot_q4_0, nullptr};
    case DType::Q4_1:
      return {dot_q4_1, nullptr};
    case DType::Q5_0:
      return {dot_q5_0, nullptr};
    case DType::Q5_1:
      return {dot_q5_1, nullptr};
    case DType::Q8_0:
      return {dot_q8_0, dot_q8_0_rows};
    case DType::IQ4_NL:
      return {dot_iq4_nl, nullptr};
    case DType::MXFP4:
      return {dot_mxfp4, nullptr};
    case DType::Q2_K:
    case DType::Q3_K:
    case DType::Q4_K:
    case DType::Q5_K:
    case DType::Q6_K:
    case DType::IQ4_XS:
      return avx2_k_dot_kernels(t);
    default:
      return {};
  }
}

}  // namespace rlx::quant

#else  // no AVX2: the scalar kernels serve

namespace rlx::quant {
DotKernels avx2_dot_kernels(DType) {
  return {};
}
}  // namespace rlx::quant

#endif
