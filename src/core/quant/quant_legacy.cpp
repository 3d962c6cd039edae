// Legacy 32-element block formats: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q8_1.
// Quantizers follow ggml's reference (deterministic) versions, which llama-quantize uses when
// no importance matrix is given; the float operations are kept in the same order so the output
// is bit-identical.
#include <cfloat>
#include <cmath>

#include "core/quant/fp_strict.h"  // first: no FMA contraction
#include "core/quant/quant_formats.h"
#include "rlx/core/half.h"

namespace rlx::quant {
namespace {

template <class Block>
const Block* blocks(const void* p) {
  return static_cast<const Block*>(p);
}
template <class Block>
Block* blocks(void* p) {
  return static_cast<Block*>(p);
}

// ---- dequantization (x = d*q [+ m]) ----

void dequantize_q4_0(const void* src, float* y, int64_t n) {
  const auto* b = blocks<BlockQ4_0>(src);
  for (int64_t i = 0; i < n / kQ32; ++i, y += kQ32) {
    const float d = f16_to_f32(b[i].d);
    for (int j = 0; j < 16; ++j) {
      y[j] = float((b[i].qs[j] & 0xF) - 8) * d;
      y[j + 16] = float((b[i].qs[j] >> 4) - 8) * d;
    }
  }
}

void dequantize_q4_1(const void* src, float* y, int64_t n) {
  const auto* b = blocks<BlockQ4_1>(src);
  for (int64_t i = 0; i < n / kQ32; ++i, y += kQ32) {
    const float d = f16_to_f32(b[i].d), m = f16_to_f32(b[i].m);
    for (int j = 0; j < 16; ++j) {
      y[j] = float(b[i].qs[j] & 0xF) * d + m;
      y[j + 16] = float(b[i].qs[j] >> 4) * d + m;
    }
  }
}

inline uint32_t load_qh(const uint8_t* p) {
  uint32_t qh;
  std::memcpy(&qh, p, 4);
  return qh;
}

void dequantize_q5_0(const void* src, float* y, int64_t n) {
  const auto* b = blocks<BlockQ5_0>(src);
  for (int64_t i = 0; i < n / kQ32; ++i, y += kQ32) {
    const float d = f16_to_f32(b[i].d);
    const uint32_t qh = load_qh(b[i].qh);
    for (int j = 0; j < 16; ++j) {
      const int h0 = (qh >> j) & 1, h1 = (qh >> (j + 16)) & 1;
      y[j] = float(((b[i].qs[j] & 0xF) | (h0 << 4)) - 16) * d;
      y[j + 16] = float(((b[i].qs[j] >> 4) | (h1 << 4)) - 16) * d;
    }
  }
}

void dequantize_q5_1(const void* src, float* y, int64_t n) {
  const auto* b = blocks<BlockQ5_1>(src);
  for (int64_t i = 0; i < n / kQ32; ++i, y += kQ32) {
    const float d = f16_to_f32(b[i].d), m = f16_to_f32(b[i].m);
    const uint32_t qh = load_qh(b[i].qh);
    for (int j = 0; j < 16; ++j) {
      const int h0 = (qh >> j) & 1, h1 = (qh >> (j + 16)) & 1;
      y[j] = float((b[i].qs[j] & 0xF) | (h0 << 4)) * d + m;
      y[j + 16] = float((b[i].qs[j] >> 4) | (h1 << 4)) * d + m;
    }
  }
}

void dequantize_q8_0(const void* src, float* y, int64_t n) {
  const auto* b = blocks<BlockQ8_0>(src);
  for (int64_t i = 0; i < n / kQ32; ++i, y += kQ32) {
    const float d = f16_to_f32(b[i].d);
    for (int j = 0; j < kQ32; ++j) y[j] = float(b[i].qs[j]) * d;
  }
}

void dequantize_q8_1(const void* src, float* y, int64_t n) {
  const auto* b = blocks<BlockQ8_1>(src);
  for (int64_t i = 0; i < n / kQ32; ++i, y += kQ32) {
    const float d = f16_to_f32(b[i].d);
    for (int j = 0; j < kQ32; ++j) y[j] = float(b[i].qs[j]) * d;
  }
}

// ---- reference quantizers ----

// The element of largest magnitude, with its sign (first one wins ties).
float signed_absmax(const float* x, int n) {
  float amax = 0.f, max = 0.f;
  for (int j = 0; j < n; ++j) {
    if (amax < std::fabs(x[j])) {
      amax = std::fabs(x[j]);
      max = x[j];
    }
  }
  return max;
}

void min_max(const float* x, int n, float* mn, float* mx) {
  *mn = FLT_MAX;
  *mx = -FLT_MAX;
  for (int j = 0; j < n; ++j) {
    if (x[j] < *mn) *mn = x[j];
    if (x[j] > *mx) *mx = x[j];
  }
}

void quantize_q4_0(const float* x, void* dst, int64_t n) {
  auto* b = blocks<BlockQ4_0>(dst);
  for (int64_t i = 0; i < n / kQ32; ++i, x += kQ32) {
    // Symmetric around the signed maximum, which maps exactly to -8.
    const float d = signed_absmax(x, kQ32) / -8;
    const float id = d != 0.f ? 1.0f / d : 0.0f;
    b[i].d = f32_to_f16(d);
    for (int j = 0; j < 16; ++j) {
      // Truncation of (v + 8.5) rounds half up within the non-negative range.
      const int q0 = std::min(15, int(int8_t(x[j] * id + 8.5f)));
      const int q1 = std::min(15, int(int8_t(x[j + 16] * id + 8.5f)));
      b[i].qs[j] = uint8_t(q0 | (q1 << 4));
    }
  }
}

void quantize_q4_1(const float* x, void* dst, int64_t n) {
  auto* b = blocks<BlockQ4_1>(dst);
  for (int64_t i = 0; i < n / kQ32; ++i, x += kQ32) {
    float mn, mx;
    min_max(x, kQ32, &mn, &mx);
    const float d = (mx - mn) / 15;
    const float id = d != 0.f ? 1.0f / d : 0.0f;
    b[i].d = f32_to_f16(d);
    b[i].m = f32_to_f16(mn);
    for (int j = 0; j < 16; ++j) {
      const int q0 = std::min(15, int(int8_t((x[j] - mn) * id + 0.5f)));
      const int q1 = std::min(15, int(int8_t((x[j + 16] - mn) * id + 0.5f)));
      b[i].qs[j] = uint8_t(q0 | (q1 << 4));
    }
  }
}

void quantize_q5_0(const float* x, void* dst, int64_t n) {
  auto* b = blocks<BlockQ5_0>(dst);
  for (int64_t i = 0; i < n / kQ32; ++i, x += kQ32) {
    const float d = signed_absmax(x, kQ32) / -16;
    const float id = d != 0.f ? 1.0f / d : 0.0f;
    b[i].d = f32_to_f16(d);
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
      const int q0 = std::min(31, int(int8_t(x[j] * id + 16.5f)));
      const int q1 = std::min(31, int(int8_t(x[j + 16] * id + 16.5f)));
      b[i].qs[j] = uint8_t((q0 & 0xF) | ((q1 & 0xF) << 4));
      qh |= uint32_t(q0 >> 4) << j;
      qh |= uint32_t(q1 >> 4) << (j + 16);
    }
    std::memcpy(b[i].qh, &qh, 4);
  }
}

void quantize_q5_1(const float* x, void* dst, int64_t n) {
  auto* b = blocks<BlockQ5_1>(dst);
  for (int64_t i = 0; i < n / kQ32; ++i, x += kQ32) {
    float mn, mx;
    min_max(x, kQ32, &mn, &mx);
    const float d = (mx - mn) / 31;
    const float id = d != 0.f ? 1.0f / d : 0.0f;
    b[i].d = f32_to_f16(d);
    b[i].m = f32_to_f16(mn);
    uint32_t qh = 0;
    for (int j = 0; j < 16; ++j) {
      const int q0 = uint8_t((x[j] - mn) * id + 0.5f);
      const int q1 = uint8_t((x[j + 16] - mn) * id + 0.5f);
      b[i].qs[j] = uint8_t((q0 & 0xF) | ((q1 & 0xF) << 4));
      qh |= uint32_t((q0 >> 4) & 1) << j;
      qh |= uint32_t((q1 >> 4) & 1) << (j + 16);
    }
    std::memcpy(b[i].qh, &qh, 4);
  }
}

float absmax(const float* x, int n) {
  float amax = 0.f;
  for (int j = 0; j < n; ++j) amax = std::max(amax, std::fabs(x[j]));
  return amax;
}

// Weight quantizer (quantize_row_q8_0_ref): id = 1/d, round half away from zero.
void quantize_q8_0(const float* x, void* dst, int64_t n) {
  auto* b = blocks<BlockQ8_0>(dst);
  for (int64_t i = 0; i < n / kQ32; ++i, x += kQ32) {
    const float d = absmax(x, kQ32) / 127;
    const float id = d != 0.f ? 1.0f / d : 0.0f;
    b[i].d = f32_to_f16(d);
    for (int j = 0; j < kQ32; ++j) b[i].qs[j] = int8_t(std::round(x[j] * id));
  }
}

void quantize_q8_1(const float* x, void* dst, int64_t n) {
  auto* b = blocks<BlockQ8_1>(dst);
  for (int64_t i = 0; i < n / kQ32; ++i, x += kQ32) {
    const float d = absmax(x, kQ32) / 127;
    const float id = d != 0.f ? 1.0f / d : 0.0f;
    b[i].d = f32_to_f16(d);
    int sum = 0;
    for (int j = 0; j < kQ32; ++j) {
      b[i].qs[j] = int8_t(std::round(x[j] * id));
      sum += b[i].qs[j];
    }
    b[i].s = f32_to_f16(float(sum) * d);
  }
}

}  // namespace

// The x86 CPU backend's activation quantizers differ from the reference ones: the inverse
// scale is 127/amax (not 1/d) and rounding is to nearest even (_mm256_round_ps). nearbyint
// rounds to even in the default rounding mode, so this scalar code gives the same bytes.
void quantize_act_q8_0(const float* x, void* dst, int64_t n) {
  auto* b = blocks<BlockQ8_0>(dst);
  for (int64_t i = 0; i < n / kQ32; ++i, x += kQ32) {
    const float amax = absmax(x, kQ32);
    const float d = amax / 127.f;
    const float id = amax != 0.f ? 127.f / amax : 0.f;
    b[i].d = f32_to_f16(d);
    for (int j = 0; j < kQ32; ++j) b[i].qs[j] = int8_t(std::nearbyint(x[j] * id));
  }
}

void quantize_act_q8_1(const float* x, void* dst, int64_t n) {
  auto* b = blocks<BlockQ8_1>(dst);
  for (int64_t i = 0; i < n / kQ32; ++i, x += kQ32) {
    const float amax = absmax(x, kQ32);
    const float d = amax / 127.f;
    const float id = amax != 0.f ? 127.f / amax : 0.f;
    b[i].d = f32_to_f16(d);
    int sum = 0;
    for (int j = 0; j < kQ32; ++j) {
      b[i].qs[j] = int8_t(std::nearbyint(x[j] * id));
      sum += b[i].qs[j];
    }
    b[i].s = f32_to_f16(d * float(sum));
  }
}

void register_legacy(QuantTraits* t) {
  t[size_t(DType::Q4_0)] = {dequantize_q4_0, quantize_q4_0, DType::Q8_0, nullptr};
  t[size_t(DType::Q4_1)] = {dequantize_q4_1, quantize_q4_1, DType::Q8_1, nullptr};
  t[size_t(DType::Q5_0)] = {dequantize_q5_0, quantize_q5_0, DType::Q8_0, nullptr};
  t[size_t(DType::Q5_1)] = {dequantize_q5_1, quantize_q5_1, DType::Q8_1, nullptr};
  t[size_t(DType::Q8_0)] = {dequantize_q8_0, quantize_q8_0, DType::Q8_0, nullptr};
  t[size_t(DType::Q8_1)] = {dequantize_q8_1, quantize_q8_1, DType::Q8_1, nullptr};
}

}  // namespace rlx::quant
