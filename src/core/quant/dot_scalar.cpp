// Scalar reference dot kernels: weight row (its own format) . activation row (quantized to the
// weight's vec_dot_type). Integer products are summed exactly per block (per super-block for
// K-quants), then scaled and accumulated in float, one block at a time in order. The AVX2
// kernels (dot_avx2.cpp) compute the same integers and the same float operations, so both
// give identical results.
#include <cmath>

#include "core/quant/fp_strict.h"  // first: no FMA contraction
#include "core/quant/quant_formats.h"
#include "rlx/core/half.h"

namespace rlx::quant {
namespace {

template <class W, class A>
struct Rows {
  const W* w;
  const A* a;
  Rows(const void* wp, const void* ap)
      : w(static_cast<const W*>(wp)), a(static_cast<const A*>(ap)) {}
};

int dot32(const int8_t* q, const int8_t* y) {
  int s = 0;
  for (int j = 0; j < 32; ++j) s += int(q[j]) * int(y[j]);
  return s;
}

// Unpacks a 16-byte nibble array into 32 values (low nibbles first), via a lookup table.
void unpack_nibbles(const uint8_t* qs, const int8_t* table, int8_t* q) {
  for (int j = 0; j < 16; ++j) {
    q[j] = table[qs[j] & 0xF];
    q[j + 16] = table[qs[j] >> 4];
  }
}

constexpr int8_t kMinus8[16] = {-8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6, 7};
constexpr int8_t kIdentity[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};

float dot_q4_0(const void* wp, const void* ap, int64_t n) {
  Rows<BlockQ4_0, BlockQ8_0> r(wp, ap);
  float sum = 0;
  int8_t q[32];
  for (int64_t i = 0; i < n / 32; ++i) {
    unpack_nibbles(r.w[i].qs, kMinus8, q);
    sum += f16_to_f32(r.w[i].d) * f16_to_f32(r.a[i].d) * float(dot32(q, r.a[i].qs));
  }
  return sum;
}

float dot_q4_1(const void* wp, const void* ap, int64_t n) {
  Rows<BlockQ4_1, BlockQ8_1> r(wp, ap);
  float sum = 0;
  int8_t q[32];
  for (int64_t i = 0; i < n / 32; ++i) {
    unpack_nibbles(r.w[i].qs, kIdentity, q);
    // sum_j (d q_j + m) d8 y_j = d d8 sum q y + m s, with s = d8 sum y stored in the block.
    sum += f16_to_f32(r.w[i].d) * f16_to_f32(r.a[i].d) * float(dot32(q, r.a[i].qs)) +
           f16_to_f32(r.w[i].m) * f16_to_f32(r.a[i].s);
  }
  return sum;
}

void unpack_q5(const uint8_t* qs, const uint8_t* qh_bytes, int offset, int8_t* q) {
  uint32_t qh;
  std::memcpy(&qh, qh_bytes, 4);
  for (int j = 0; j < 16; ++j) {
    q[j] = int8_t(((qs[j] & 0xF) | (((qh >> j) & 1) << 4)) - offset);
    q[j + 16] = int8_t(((qs[j] >> 4) | (((qh >> (j + 16)) & 1) << 4)) - offset);
  }
}

float dot_q5_0(const void* wp, const void* ap, int64_t n) {
  Rows<BlockQ5_0, BlockQ8_0> r(wp, ap);
  float sum = 0;
  int8_t q[32];
  for (int64_t i = 0; i < n / 32; ++i) {
    unpack_q5(r.w[i].qs, r.w[i].qh, 16, q);
    sum += f16_to_f32(r.w[i].d) * f16_to_f32(r.a[i].d) * float(dot32(q, r.a[i].qs));
  }
  return sum;
}

float dot_q5_1(const void* wp, const void* ap, int64_t n) {
  Rows<BlockQ5_1, BlockQ8_1> r(wp, ap);
  float sum = 0;
  int8_t q[32];
  for (int64_t i = 0; i < n / 32; ++i) {
    unpack_q5(r.w[i].qs, r.w[i].qh, 0, q);
    sum += f16_to_f32(r.w[i].d) * f16_to_f32(r.a[i].d) * float(dot32(q, r.a[i].qs)) +
           f16_to_f32(r.w[i].m) * f16_to_f32(r.a[i].s);
  }
  return sum;
}

float dot_q8_0(const void* wp, const void* ap, int64_t n) {
  Rows<BlockQ8_0, BlockQ8_0> r(wp, ap);
  float sum = 0;
  for (int64_t i = 0; i < n / 32; ++i)
    sum += f16_to_f32(r.w[i].d) * f16_to_f32(r.a[i].d) * float(dot32(r.w[i].qs, r.a[i].qs));
  return sum;
}

float dot_iq4_nl(const void* wp, const void* ap, int64_t n) {
  Rows<BlockIQ4_NL, BlockQ8_0> r(wp, ap);
  float sum = 0;
  int8_t q[32];
  for (int64_t i = 0; i < n / 32; ++i) {
    unpack_nibbles(r.w[i].qs, kIq4nlValues, q);
    sum += f16_to_f32(r.w[i].d) * f16_to_f32(r.a[i].d) * float(dot32(q, r.a[i].qs));
  }
  return sum;
}

float dot_mxfp4(const void* wp, const void* ap, int64_t n) {
  Rows<BlockMXFP4, BlockQ8_0> r(wp, ap);
  float sum = 0;
  int8_t q[32];
  for (int64_t i = 0; i < n / 32; ++i) {
    unpack_nibbles(r.w[i].qs, kMxfp4Values, q);
    sum += e8m0_to_f32_half(r.w[i].e) * f16_to_f32(r.a[i].d) * float(dot32(q, r.a[i].qs));
  }
  return sum;
}

// ---- K-quants: decode a super-block into int8 values + integer sub-block scales ----

int dot16(const int8_t* q, const int8_t* y) {
  int s = 0;
  for (int j = 0; j < 16; ++j) s += int(q[j]) * int(y[j]);
  return s;
}

float dot_q2_k(const void* wp, const void* ap, int64_t n) {
  Rows<BlockQ2_K, BlockQ8_K> r(wp, ap);
  float sum = 0;
  int8_t q[256];
  for (int64_t i = 0; i < n / kQK; ++i) {
    const BlockQ2_K& w = r.w[i];
    for (int e = 0; e < 256; ++e)
      q[e] = int8_t((w.qs[32 * (e / 128) + e % 32] >> (2 * ((e / 32) % 4))) & 3);
    int isum = 0, summs = 0;
    for (int j = 0; j < 16; ++j) {
      isum += (w.scales[j] & 0xF) * dot16(q + 16 * j, r.a[i].qs + 16 * j);
      summs += (w.scales[j] >> 4) * r.a[i].bsums[j];
    }
    const float dall = r.a[i].d * f16_to_f32(w.d), dmin = r.a[i].d * f16_to_f32(w.dmin);
    sum += dall * float(isum) - dmin * float(summs);
  }
  return sum;
}

float dot_q3_k(const void* wp, const void* ap, int64_t n) {
  Rows<BlockQ3_K, BlockQ8_K> r(wp, ap);
  float sum = 0;
  int8_t q[256], sc[16];
  for (int64_t i = 0; i < n / kQK; ++i) {
    const BlockQ3_K& w = r.w[i];
    for (int e = 0; e < 256; ++e) {
      const int l = e % 32, j = (e / 32) % 4, h = e / 128;
      const int hbit = (w.hmask[l] >> (4 * h + j)) & 1;
      q[e] = int8_t(((w.qs[32 * h + l] >> (2 * j)) & 3) - (hbit ? 0 : 4));
    }
    unpack_q3_k_scales(w.scales, sc);
    int isum = 0;
    for (int j = 0; j < 16; ++j) isum += sc[j] * dot16(q + 16 * j, r.a[i].qs + 16 * j);
    sum += f16_to_f32(w.d) * r.a[i].d * float(isum);
  }
  return sum;
}

// Q4_K / Q5_K: x = d*sc*q - dmin*m per 32-element sub-block; the min term uses bsums.
template <class Block>
float dot_q45_k(const void* wp, const void* ap, int64_t n) {
  Rows<Block, BlockQ8_K> r(wp, ap);
  float sum = 0;
  int8_t q[256];
  for (int64_t i = 0; i < n / kQK; ++i) {
    const Block& w = r.w[i];
    for (int c = 0; c < 4; ++c) {
      for (int l = 0; l < 32; ++l) {
        int lo = w.qs[32 * c + l] & 0xF, hi = w.qs[32 * c + l] >> 4;
        if constexpr (sizeof(Block) == sizeof(BlockQ5_K)) {
          lo += ((w.qh[l] >> (2 * c)) & 1) << 4;
          hi += ((w.qh[l] >> (2 * c + 1)) & 1) << 4;
        }
        q[64 * c + l] = int8_t(lo);
        q[64 * c + 32 + l] = int8_t(hi);
      }
    }
    int isum = 0, summ = 0;
    for (int j = 0; j < 8; ++j) {
      uint8_t sc, m;
      scale_min_k4(j, w.scales, &sc, &m);
      isum += sc * dot32(q + 32 * j, r.a[i].qs + 32 * j);
      summ += m * (r.a[i].bsums[2 * j] + r.a[i].bsums[2 * j + 1]);
    }
    const float d = f16_to_f32(w.d) * r.a[i].d, dmin = f16_to_f32(w.dmin) * r.a[i].d;
    sum += d * float(isum) - dmin * float(summ);
  }
  return sum;
}

float dot_q6_k(const void* wp, const void* ap, int64_t n) {
  Rows<BlockQ6_K, BlockQ8_K> r(wp, ap);
  float sum = 0;
  int8_t q[256];
  for (int64_t i = 0; i < n / kQK; ++i) {
    const BlockQ6_K& w = r.w[i];
    for (int h = 0; h < 2; ++h) {
      const uint8_t* ql = w.ql + 64 * h;
      const uint8_t* qh = w.qh + 32 * h;
      int8_t* o = q + 128 * h;
      for (int l = 0; l < 32; ++l) {
        o[l] = int8_t(((ql[l] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32);
        o[l + 32] = int8_t(((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32);
        o[l + 64] = int8_t(((ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32);
        o[l + 96] = int8_t(((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32);
      }
    }
    int isum = 0;
    for (int j = 0; j < 16; ++j) isum += w.scales[j] * dot16(q + 16 * j, r.a[i].qs + 16 * j);
    sum += f16_to_f32(w.d) * r.a[i].d * float(isum);
  }
  return sum;
}

float dot_iq4_xs(const void* wp, const void* ap, int64_t n) {
  Rows<BlockIQ4_XS, BlockQ8_K> r(wp, ap);
  float sum = 0;
  int8_t q[32];
  for (int64_t i = 0; i < n / kQK; ++i) {
    const BlockIQ4_XS& w = r.w[i];
    int isum = 0;
    for (int ib = 0; ib < 8; ++ib) {
      const int ls =
          ((w.scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((w.scales_h >> (2 * ib)) & 3) << 4);
      unpack_nibbles(w.qs + 16 * ib, kIq4nlValues, q);
      isum += (ls - 32) * dot32(q, r.a[i].qs + 32 * ib);
    }
    sum += f16_to_f32(w.d) * r.a[i].d * float(isum);
  }
  return sum;
}

// ---- plain float formats (activations converted to the weight's type) ----

float dot_f32(const void* wp, const void* ap, int64_t n) {
  const auto* w = static_cast<const float*>(wp);
  const auto* a = static_cast<const float*>(ap);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += double(w[i]) * double(a[i]);
  return float(sum);
}

float dot_f16(const void* wp, const void* ap, int64_t n) {
  const auto* w = static_cast<const uint16_t*>(wp);
  const auto* a = static_cast<const uint16_t*>(ap);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += double(f16_to_f32(w[i])) * double(f16_to_f32(a[i]));
  return float(sum);
}

float dot_bf16(const void* wp, const void* ap, int64_t n) {
  const auto* w = static_cast<const uint16_t*>(wp);
  const auto* a = static_cast<const uint16_t*>(ap);
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) sum += double(bf16_to_f32(w[i])) * double(bf16_to_f32(a[i]));
  return float(sum);
}

}  // namespace

VecDotFn scalar_vec_dot(DType t) {
  switch (t) {
    case DType::F32:
      return dot_f32;
    case DType::F16:
      return dot_f16;
    case DType::BF16:
      return dot_bf16;
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
      return dot_q45_k<BlockQ4_K>;
    case DType::Q5_K:
      return dot_q45_k<BlockQ5_K>;
    case DType::Q6_K:
      return dot_q6_k;
    case DType::IQ4_XS:
      return dot_iq4_xs;
    default:
      return nullptr;
  }
}

}  // namespace rlx::quant
