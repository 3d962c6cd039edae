// AVX2 dot kernels of the K-quants (256-element super-blocks, activations in Q8_K). Integer
// products are exact in SIMD registers and reduced to one int per super-block; the float steps
// per super-block are the scalar kernel's (dot_scalar.cpp), in the same order, so results are
// bit for bit the same. Q4_K/Q5_K/Q6_K also have multi-row forms (vec_dot_rows) that run R
// weight rows against one activation row: the rows' instruction streams are independent, which
// hides latencies, and the activation's per-super-block work is shared.
#include "core/quant/fp_strict.h"  // first: no FMA contraction
#include "core/quant/quant_formats.h"

#if defined(__AVX2__) && defined(__FMA__) && defined(__F16C__)
#include "core/quant/avx2_util.h"

namespace rlx::quant {
namespace {

using namespace avx2;

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

// Shuffle mask for _mm256_shuffle_epi8 that broadcasts int16 element j of each 128-bit lane.
inline __m256i bcast16_mask(int j) {
  return _mm256_set1_epi16(int16_t((2 * j) | ((2 * j + 1) << 8)));
}
// The same for int16 element j in the low lane and j+1 in the high one.
inline __m256i bcast16_pair_mask(int j) {
  return _mm256_set_m128i(_mm_set1_epi16(int16_t((2 * j + 2) | ((2 * j + 3) << 8))),
                          _mm_set1_epi16(int16_t((2 * j) | ((2 * j + 1) << 8))));
}

// The 8 scales (low 128-bit lane) and 8 mins (high lane) of a Q4_K/Q5_K super-block as int16,
// from its 12 packed bytes. The bit shuffling is scalar: the integer ALUs are idle while the
// vector units do the products.
inline __m256i k4_scales_mins(const uint8_t* scales) {
  uint32_t w[3];
  std::memcpy(w, scales, 12);
  constexpr uint32_t k6 = 0x3F3F3F3F, k4 = 0x0F0F0F0F, k2 = 0x03030303;
  // scales 0-3: w0 & 63; 4-7: low nibbles of w2 | top 2 bits of w0 << 4 (per byte)
  const uint64_t sc = (w[0] & k6) | uint64_t((w[2] & k4) | ((w[0] >> 6) & k2) << 4) << 32;
  // mins 0-3: w1 & 63; 4-7: high nibbles of w2 | top 2 bits of w1 << 4
  const uint64_t mn = (w[1] & k6) | uint64_t(((w[2] >> 4) & k4) | ((w[1] >> 6) & k2) << 4) << 32;
  return _mm256_cvtepu8_epi16(_mm_set_epi64x(int64_t(mn), int64_t(sc)));
}

template <class Block>
inline const Block& block_at(const uint8_t* w, size_t stride, int r, int64_t i) {
  return reinterpret_cast<const Block*>(w + size_t(r) * stride)[i];
}

// Q4_K (Q5_K with kFive): x = d*sc*q - dmin*m per 32-element group, q in [0,15] ([0,31]); the
// min term comes from the activation's bsums. The integer part of one super-block: acc's int32
// lanes total isum = sum sc*q*y, mins' total summ = sum m*bsum. bs32 holds y's sums per 32.
template <bool kFive, class Block>
inline void q45_k_ints(const Block& b, const BlockQ8_K& y, __m128i bs32, __m256i& acc,
                       __m128i& mins) {
  const __m256i m4 = _mm256_set1_epi8(0x0F), m1 = _mm256_set1_epi8(1);
  const __m256i sm = k4_scales_mins(b.scales);
  const __m256i sc = _mm256_permute4x64_epi64(sm, 0x44);  // scales in both lanes
  mins = _mm_madd_epi16(_mm256_extracti128_si256(sm, 1), bs32);
  __m256i qh = _mm256_setzero_si256();
  if constexpr (kFive) qh = load256(b.qh);
  acc = _mm256_setzero_si256();
  for (int c = 0; c < 4; ++c) {
    const __m256i bits = load256(b.qs + 32 * c);
    __m256i lo = _mm256_and_si256(bits, m4);
    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(bits, 4), m4);
    if constexpr (kFive) {
      lo = _mm256_or_si256(
          lo, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c), m1), 4));
      hi = _mm256_or_si256(
          hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * c + 1), m1), 4));
    }
    const __m256i plo = mul_u8_i8(lo, load256(y.qs + 64 * c));
    const __m256i phi = mul_u8_i8(hi, load256(y.qs + 64 * c + 32));
    acc =
        _mm256_add_epi32(acc, _mm256_madd_epi16(plo, _mm256_shuffle_epi8(sc, bcast16_mask(2 * c))));
    acc = _mm256_add_epi32(
        acc, _mm256_madd_epi16(phi, _mm256_shuffle_epi8(sc, bcast16_mask(2 * c + 1))));
  }
}

// Sums of the activation's 8 groups of 32 (from its 16 sums of 16), as int16.
inline __m128i bsums32(const BlockQ8_K& y) {
  const __m256i bs = load256(y.bsums);
  return _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
}

// R rows of w (stride bytes apart), nb super-blocks; row by row per super-block.
template <bool kFive, class Block, int R>
void q45_k_rows(const uint8_t* w, size_t stride, const BlockQ8_K* a, int64_t nb, float* out) {
  __m128 sum[R];
  for (int r = 0; r < R; ++r) sum[r] = _mm_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    const BlockQ8_K& y = a[i];
    const __m128i bs32 = bsums32(y);
    const __m128 yd = _mm_set1_ps(y.d);
    if constexpr (R > 1) prefetch_range(w + R * stride + i * R * sizeof(Block), R * sizeof(Block));
    for (int r = 0; r < R; ++r) {
      const Block& b = block_at<Block>(w, stride, r, i);
      __m256i acc;
      __m128i mins;
      q45_k_ints<kFive>(b, y, bs32, acc, mins);
      // [isum, summ] in lanes 0 and 1, then the scalar kernel's float steps:
      // sum += (d_w*d_y)*isum - (dmin_w*d_y)*summ.
      __m128i t = _mm_hadd_epi32(
          _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1)), mins);
      t = _mm_hadd_epi32(t, t);
      uint32_t dpair;  // d and dmin, the block's first 4 bytes
      std::memcpy(&dpair, &b, 4);
      const __m128 d = _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi32_si128(int(dpair))), yd);
      const __m128 p = _mm_mul_ps(d, _mm_cvtepi32_ps(t));
      sum[r] = _mm_add_ss(sum[r], _mm_sub_ss(p, _mm_movehdup_ps(p)));
    }
  }
  for (int r = 0; r < R; ++r) out[r] = _mm_cvtss_f32(sum[r]);
}

// Four rows with row r in float lane r: the reductions to isum/summ and the float steps are
// done once for the four rows (the same operations per lane as the scalar kernel).
template <bool kFive, class Block>
void q45_k_rows4(const uint8_t* w, size_t stride, const BlockQ8_K* a, int64_t nb, float* out) {
  // d and dmin of each row (fp16 pairs) -> d0..d3 in the low 8 bytes, dmin0..dmin3 above.
  const __m128i split = _mm_setr_epi8(0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15);
  __m128 sum = _mm_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    const BlockQ8_K& y = a[i];
    const __m128i bs32 = bsums32(y);
    prefetch_range(w + 4 * stride + i * 4 * sizeof(Block), 4 * sizeof(Block));
    __m256i acc[4];
    __m128i mins[4];
    uint32_t dm[4];
    for (int r = 0; r < 4; ++r) {
      const Block& b = block_at<Block>(w, stride, r, i);
      q45_k_ints<kFive>(b, y, bs32, acc[r], mins[r]);
      std::memcpy(&dm[r], &b, 4);
    }
    const __m256i ha =
        _mm256_hadd_epi32(_mm256_hadd_epi32(acc[0], acc[1]), _mm256_hadd_epi32(acc[2], acc[3]));
    const __m128i isum = _mm_add_epi32(_mm256_castsi256_si128(ha), _mm256_extracti128_si256(ha, 1));
    const __m128i summ =
        _mm_hadd_epi32(_mm_hadd_epi32(mins[0], mins[1]), _mm_hadd_epi32(mins[2], mins[3]));
    const __m128i dh =
        _mm_shuffle_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(dm)), split);
    const __m256 d = _mm256_mul_ps(_mm256_cvtph_ps(dh), _mm256_set1_ps(y.d));
    const __m256 p = _mm256_mul_ps(d, _mm256_cvtepi32_ps(_mm256_set_m128i(summ, isum)));
    sum = _mm_add_ps(sum, _mm_sub_ps(_mm256_castps256_ps128(p), _mm256_extractf128_ps(p, 1)));
  }
  _mm_storeu_ps(out, sum);
}

// Q6_K: q = u - 32 with u in [0,63] and int8 scales per 16 elements; the -32 goes through the
// activation's bsums. The integer part of one super-block: int32 lanes totalling isum.
inline __m256i q6_k_ints(const BlockQ6_K& b, const BlockQ8_K& y, __m256i bs) {
  const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);
  const __m256i sc16 = _mm256_cvtepi8_epi16(load128(b.scales));
  // Group g (32 elements) of half h uses scales 8h+2g (first 16) and 8h+2g+1: scales 0-7
  // and 8-15 each broadcast to both lanes, then shuffled per group.
  const __m256i sch[2] = {_mm256_permute4x64_epi64(sc16, 0x44),
                          _mm256_permute4x64_epi64(sc16, 0xEE)};
  // 32 * sum(scale * bsum), taken off at the end.
  __m256i acc = _mm256_slli_epi32(_mm256_madd_epi16(sc16, bs), 5);
  acc = _mm256_sub_epi32(_mm256_setzero_si256(), acc);
  for (int h = 0; h < 2; ++h) {
    const __m256i ql0 = load256(b.ql + 64 * h), ql1 = load256(b.ql + 64 * h + 32);
    const __m256i qh = load256(b.qh + 32 * h);
    // u = low nibble | 2 high bits << 4; the high bits of group g are qh bits 2g, 2g+1.
    const __m256i u[4] = {
        _mm256_or_si256(_mm256_and_si256(ql0, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 4), m30)),
        _mm256_or_si256(_mm256_and_si256(ql1, m4), _mm256_and_si256(_mm256_slli_epi16(qh, 2), m30)),
        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql0, 4), m4), _mm256_and_si256(qh, m30)),
        _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(ql1, 4), m4),
                        _mm256_and_si256(_mm256_srli_epi16(qh, 2), m30))};
    for (int g = 0; g < 4; ++g) {
      const __m256i p = mul_u8_i8(u[g], load256(y.qs + 128 * h + 32 * g));
      const __m256i s = _mm256_shuffle_epi8(sch[h], bcast16_pair_mask(2 * g));
      acc = _mm256_add_epi32(acc, _mm256_madd_epi16(p, s));
    }
  }
  return acc;
}

// R rows of w (stride bytes apart), nb super-blocks; row by row per super-block.
template <int R>
void q6_k_rows(const uint8_t* w, size_t stride, const BlockQ8_K* a, int64_t nb, float* out) {
  __m128 sum[R];
  for (int r = 0; r < R; ++r) sum[r] = _mm_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    const BlockQ8_K& y = a[i];
    const __m256i bs = load256(y.bsums);
    const __m128 yd = _mm_set_ss(y.d);
    if constexpr (R > 1)
      prefetch_range(w + R * stride + i * R * sizeof(BlockQ6_K), R * sizeof(BlockQ6_K));
    for (int r = 0; r < R; ++r) {
      const BlockQ6_K& b = block_at<BlockQ6_K>(w, stride, r, i);
      const __m256i acc = q6_k_ints(b, y, bs);
      // sum += (d_w*d_y)*isum, as the scalar kernel.
      const __m128 isum = _mm_cvtepi32_ps(_mm_cvtsi32_si128(hsum_i32(acc)));
      const __m128 d = _mm_mul_ss(_mm_set_ss(h2f(b.d)), yd);
      sum[r] = _mm_add_ss(sum[r], _mm_mul_ss(d, isum));
    }
  }
  for (int r = 0; r < R; ++r) out[r] = _mm_cvtss_f32(sum[r]);
}

// Four rows with row r in float lane r (reduction and float steps once for the four rows).
void q6_k_rows4(const uint8_t* w, size_t stride, const BlockQ8_K* a, int64_t nb, float* out) {
  __m128 sum = _mm_setzero_ps();
  for (int64_t i = 0; i < nb; ++i) {
    const BlockQ8_K& y = a[i];
    const __m256i bs = load256(y.bsums);
    prefetch_range(w + 4 * stride + i * 4 * sizeof(BlockQ6_K), 4 * sizeof(BlockQ6_K));
    __m256i acc[4];
    uint16_t d[4];
    for (int r = 0; r < 4; ++r) {
      const BlockQ6_K& b = block_at<BlockQ6_K>(w, stride, r, i);
      acc[r] = q6_k_ints(b, y, bs);
      d[r] = b.d;
    }
    const __m256i h =
        _mm256_hadd_epi32(_mm256_hadd_epi32(acc[0], acc[1]), _mm256_hadd_epi32(acc[2], acc[3]));
    const __m128i isum = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
    uint64_t d64;
    std::memcpy(&d64, d, 8);
    const __m128 dd = _mm_mul_ps(_mm_cvtph_ps(_mm_cvtsi64_si128(int64_t(d64))), _mm_set1_ps(y.d));
    sum = _mm_add_ps(sum, _mm_mul_ps(dd, _mm_cvtepi32_ps(isum)));
  }
  _mm_storeu_ps(out, sum);
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

// Single-row and multi-row entry points over a row kernel template K<R>: R = 4 while at least
// four rows remain, then 2, then 1.
template <template <int> class K>
float dot_one(const void* wp, const void* ap, int64_t n) {
  float out;
  K<1>::run(static_cast<const uint8_t*>(wp), 0, static_cast<const BlockQ8_K*>(ap), n / kQK, &out);
  return out;
}

template <template <int> class K>
void dot_rows(const void* wp, size_t stride, int nrows, const void* ap, int64_t n, float* out) {
  const auto* w = static_cast<const uint8_t*>(wp);
  const auto* a = static_cast<const BlockQ8_K*>(ap);
  int r = 0;
  for (; r + 4 <= nrows; r += 4) K<4>::run(w + size_t(r) * stride, stride, a, n / kQK, out + r);
  if (r + 2 <= nrows) {
    K<2>::run(w + size_t(r) * stride, stride, a, n / kQK, out + r);
    r += 2;
  }
  if (r < nrows) K<1>::run(w + size_t(r) * stride, stride, a, n / kQK, out + r);
}

template <int R>
struct Q4K {
  static constexpr auto run = q45_k_rows<false, BlockQ4_K, R>;
};
template <>
struct Q4K<4> {
  static constexpr auto run = q45_k_rows4<false, BlockQ4_K>;
};
template <int R>
struct Q5K {
  static constexpr auto run = q45_k_rows<true, BlockQ5_K, R>;
};
template <>
struct Q5K<4> {
  static constexpr auto run = q45_k_rows4<true, BlockQ5_K>;
};
template <int R>
struct Q6K {
  static constexpr auto run = q6_k_rows<R>;
};
template <>
struct Q6K<4> {
  static constexpr auto run = q6_k_rows4;
};

}  // namespace

DotKernels avx2_k_dot_kernels(DType t) {
  switch (t) {
    case DType::Q2_K:
      return {dot_q2_k, nullptr};
    case DType::Q3_K:
      return {dot_q3_k, nullptr};
    case DType::Q4_K:
      return {dot_one<Q4K>, dot_rows<Q4K>};
    case DType::Q5_K:
      return {dot_one<Q5K>, dot_rows<Q5K>};
    case DType::Q6_K:
      return {dot_one<Q6K>, dot_rows<Q6K>};
    case DType::IQ4_XS:
      return {dot_iq4_xs, nullptr};
    default:
      return {};
  }
}

}  // namespace rlx::quant

#else  // no AVX2: the scalar kernels serve

namespace rlx::quant {
DotKernels avx2_k_dot_kernels(DType) {
  return {};
}
}  // namespace rlx::quant

#endif
