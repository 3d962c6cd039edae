// Q8_0 (ggml layout: f16 d, int8 qs[32]; x = d * q).
#include <cmath>

#include "core/quant/quant_formats.h"
#include "rlx/core/half.h"

namespace rlx::quant {

namespace {
constexpr int kQ8 = 32;
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[kQ8];
};
static_assert(sizeof(BlockQ8_0) == 34);
}  // namespace

void dequantize_q8_0(const void* src, float* dst, int64_t n) {
  const auto* b = static_cast<const BlockQ8_0*>(src);
  for (int64_t i = 0; i < n / kQ8; ++i) {
    float d = f16_to_f32(b[i].d);
    for (int j = 0; j < kQ8; ++j) dst[i * kQ8 + j] = float(b[i].qs[j]) * d;
  }
}

void quantize_q8_0(const float* src, void* dst, int64_t n) {
  auto* b = static_cast<BlockQ8_0*>(dst);
  for (int64_t i = 0; i < n / kQ8; ++i) {
    const float* x = src + i * kQ8;
    float amax = 0.f;
    for (int j = 0; j < kQ8; ++j) amax = std::fmax(amax, std::fabs(x[j]));
    float d = amax / 127.f;
    float id = d != 0.f ? 1.f / d : 0.f;
    b[i].d = f32_to_f16(d);
    for (int j = 0; j < kQ8; ++j) b[i].qs[j] = int8_t(std::lround(x[j] * id));
  }
}

void register_formats(QuantTraits* t) {
  t[size_t(DType::Q8_0)].dequantize = dequantize_q8_0;
  t[size_t(DType::Q8_0)].quantize = quantize_q8_0;
  t[size_t(DType::Q8_0)].vec_dot_type = DType::Q8_0;
}

}  // namespace rlx::quant
