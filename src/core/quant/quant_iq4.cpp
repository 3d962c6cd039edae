// Non-linear 4-bit formats: IQ4_NL (32-element blocks, fp16 scale), IQ4_XS (256-element
// super-blocks, 6-bit sub-block scales) and MXFP4 (32 E2M1 values with an E8M0 exponent).
// Quantizers match llama-quantize without an importance matrix: IQ4_NL and IQ4_XS use ggml's
// quantize_iq4_nl/xs path (7 scale trials per side), MXFP4 the reference nearest-value search.
#include <algorithm>
#include <cmath>

#include "core/quant/fp_strict.h"  // first: no FMA contraction
#include "core/quant/quant_formats.h"
#include "rlx/core/half.h"

namespace rlx::quant {
namespace {

constexpr float kGroupMaxEps = 1e-15f;

void dequantize_iq4_nl(const void* src, float* y, int64_t n) {
  const auto* b = static_cast<const BlockIQ4_NL*>(src);
  for (int64_t i = 0; i < n / kQ32; ++i, y += kQ32) {
    const float d = f16_to_f32(b[i].d);
    for (int j = 0; j < 16; ++j) {
      y[j] = d * float(kIq4nlValues[b[i].qs[j] & 0xF]);
      y[j + 16] = d * float(kIq4nlValues[b[i].qs[j] >> 4]);
    }
  }
}

void dequantize_iq4_xs(const void* src, float* y, int64_t n) {
  const auto* b = static_cast<const BlockIQ4_XS*>(src);
  for (int64_t i = 0; i < n / kQK; ++i) {
    const float d = f16_to_f32(b[i].d);
    const uint8_t* qs = b[i].qs;
    for (int ib = 0; ib < 8; ++ib, qs += 16, y += 32) {
      const int ls = ((b[i].scales_l[ib / 2] >> (4 * (ib % 2))) & 0xF) |
                     (((b[i].scales_h >> (2 * ib)) & 3) << 4);
      const float dl = d * float(ls - 32);
      for (int j = 0; j < 16; ++j) {
        y[j] = dl * float(kIq4nlValues[qs[j] & 0xF]);
        y[j + 16] = dl * float(kIq4nlValues[qs[j] >> 4]);
      }
    }
  }
}

void dequantize_mxfp4(const void* src, float* y, int64_t n) {
  const auto* b = static_cast<const BlockMXFP4*>(src);
  for (int64_t i = 0; i < n / kQ32; ++i, y += kQ32) {
    const float d = e8m0_to_f32_half(b[i].e);
    for (int j = 0; j < 16; ++j) {
      y[j] = float(kMxfp4Values[b[i].qs[j] & 0xF]) * d;
      y[j + 16] = float(kMxfp4Values[b[i].qs[j] >> 4]) * d;
    }
  }
}

// Index of the codebook value nearest to x (values sorted ascending; ties go up).
int nearest_iq4(float x) {
  const int8_t* v = kIq4nlValues;
  if (x <= v[0]) return 0;
  if (x >= v[15]) return 15;
  int lo = 0, hi = 15;
  while (hi - lo > 1) {
    const int mid = (lo + hi) / 2;
    if (x < v[mid])
      hi = mid;
    else
      lo = mid;
  }
  return x - float(v[hi - 1]) < float(v[hi]) - x ? hi - 1 : hi;
}

// One super-block of `nsub` 32-element sub-blocks (1 for IQ4_NL, 8 for IQ4_XS), weights x^2.
// Per sub-block: best scale among 2*ntry+1 candidates around max/v[0]; then (IQ4_XS) the
// sub-block scales are quantized to 6 bits against a super-block scale and the values refit.
void quantize_iq4_block(int nsub, const float* x, uint16_t* dh, uint8_t* q4, uint16_t* scales_h,
                        uint8_t* scales_l) {
  constexpr int kNtry = 7;
  const int8_t* values = kIq4nlValues;
  uint8_t L[kQK];
  float scales[8], weight[32];
  std::memset(q4, 0, size_t(nsub) * 16);
  *dh = f32_to_f16(0.f);
  float max_scale = 0, amax_scale = 0;
  for (int ib = 0; ib < nsub; ++ib) {
    const float* xb = x + 32 * ib;
    uint8_t* Lb = L + 32 * ib;
    for (int j = 0; j < 32; ++j) weight[j] = xb[j] * xb[j];
    float amax = 0, max = 0;
    for (int j = 0; j < 32; ++j) {
      if (std::fabs(xb[j]) > amax) {
        amax = std::fabs(xb[j]);
        max = xb[j];
      }
    }
    if (amax < kGroupMaxEps) {
      scales[ib] = 0;
      continue;
    }
    float d = -max / float(values[0]);
    float id = 1 / d;
    float sumqx = 0, sumq2 = 0;
    for (int j = 0; j < 32; ++j) {
      const int l = nearest_iq4(id * xb[j]);
      Lb[j] = uint8_t(l);
      const float q = values[l];
      sumqx += weight[j] * q * xb[j];
      sumq2 += weight[j] * q * q;
    }
    d = sumq2 > 0 ? sumqx / sumq2 : 0.f;
    float best = d * sumqx;
    for (int itry = -kNtry; itry <= kNtry; ++itry) {
      id = (float(itry) + float(values[0])) / max;
      sumqx = sumq2 = 0;
      for (int j = 0; j < 32; ++j) {
        const float q = values[nearest_iq4(id * xb[j])];
        sumqx += weight[j] * q * xb[j];
        sumq2 += weight[j] * q * q;
      }
      if (sumq2 > 0 && sumqx * sumqx > best * sumq2) {
        d = sumqx / sumq2;
        best = d * sumqx;
      }
    }
    scales[ib] = d;
    if (std::fabs(d) > amax_scale) {
      amax_scale = std::fabs(d);
      max_scale = d;
    }
  }
  if (nsub > 1) {
    *scales_h = 0;
    const float d = -max_scale / 32;
    *dh = f32_to_f16(d);
    const float id = d != 0.f ? 1 / d : 0.f;
    for (int ib = 0; ib < nsub; ++ib) {
      int l = std::max(-32, std::min(31, nearest_int(id * scales[ib])));
      const float dl = d * float(l);
      const float idl = dl != 0.f ? 1 / dl : 0.f;
      for (int j = 0; j < 32; ++j) L[32 * ib + j] = uint8_t(nearest_iq4(idl * x[32 * ib + j]));
      l += 32;
      if (ib % 2 == 0)
        scales_l[ib / 2] = uint8_t(l & 0xF);
      else
        scales_l[ib / 2] |= uint8_t((l & 0xF) << 4);
      *scales_h |= uint16_t((l >> 4) << (2 * ib));
    }
  } else {
    *dh = f32_to_f16(scales[0]);
    const float id = scales[0] != 0.f ? 1 / scales[0] : 0.f;
    for (int j = 0; j < 32; ++j) L[j] = uint8_t(nearest_iq4(id * x[j]));
  }
  for (int i = 0; i < nsub; ++i)
    for (int j = 0; j < 16; ++j)
      q4[16 * i + j] = uint8_t(L[32 * i + j] | (L[32 * i + 16 + j] << 4));
}

void quantize_iq4_nl(const float* x, void* dst, int64_t n) {
  auto* b = static_cast<BlockIQ4_NL*>(dst);
  uint16_t unused_h;
  for (int64_t i = 0; i < n / kQ32; ++i)
    quantize_iq4_block(1, x + kQ32 * i, &b[i].d, b[i].qs, &unused_h, nullptr);
}

void quantize_iq4_xs(const float* x, void* dst, int64_t n) {
  auto* b = static_cast<BlockIQ4_XS*>(dst);
  for (int64_t i = 0; i < n / kQK; ++i)
    quantize_iq4_block(8, x + kQK * i, &b[i].d, b[i].qs, &b[i].scales_h, b[i].scales_l);
}

// MXFP4: exponent floor(log2(amax)) - 2 (so amax lands in the top codebook octave), then
// each value takes the nearest codebook entry (first one on ties).
void quantize_mxfp4(const float* x, void* dst, int64_t n) {
  auto* b = static_cast<BlockMXFP4*>(dst);
  for (int64_t i = 0; i < n / kQ32; ++i, x += kQ32) {
    float amax = 0.f;
    for (int j = 0; j < kQ32; ++j) amax = std::max(amax, std::fabs(x[j]));
    const uint8_t e = amax > 0.f ? uint8_t(std::floor(std::log2(amax)) - 2 + 127) : 0;
    const float d = e8m0_to_f32_half(e);
    b[i].e = e;
    auto nearest = [d](float v) {
      int best = 0;
      float best_err = std::fabs(float(kMxfp4Values[0]) * d - v);
      for (int k = 1; k < 16; ++k) {
        const float err = std::fabs(float(kMxfp4Values[k]) * d - v);
        if (err < best_err) {
          best = k;
          best_err = err;
        }
      }
      return best;
    };
    for (int j = 0; j < 16; ++j) b[i].qs[j] = uint8_t(nearest(x[j]) | (nearest(x[j + 16]) << 4));
  }
}

}  // namespace

void register_iq4(QuantTraits* t) {
  t[size_t(DType::IQ4_NL)] = {dequantize_iq4_nl, quantize_iq4_nl, DType::Q8_0, nullptr};
  t[size_t(DType::IQ4_XS)] = {dequantize_iq4_xs, quantize_iq4_xs, DType::Q8_K, nullptr};
  t[size_t(DType::MXFP4)] = {dequantize_mxfp4, quantize_mxfp4, DType::Q8_0, nullptr};
}

}  // namespace rlx::quant
