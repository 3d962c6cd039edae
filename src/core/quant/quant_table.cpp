// The traits table: which row functions exist per dtype. Each format's functions live in
// their own file (quant_<family>.cpp) and are declared in quant_formats.h.
#include <array>

#include "core/quant/quant_formats.h"
#include "rlx/core/error.h"
#include "rlx/core/half.h"
#include "rlx/core/quant.h"

namespace rlx {
namespace {

void deq_f32(const void* s, float* d, int64_t n) { std::memcpy(d, s, size_t(n) * 4); }
void deq_f16(const void* s, float* d, int64_t n) { f16_to_f32_row((const uint16_t*)s, d, n); }
void deq_bf16(const void* s, float* d, int64_t n) { bf16_to_f32_row((const uint16_t*)s, d, n); }
void q_f32(const float* s, void* d, int64_t n) { std::memcpy(d, s, size_t(n) * 4); }
void q_f16(const float* s, void* d, int64_t n) { f32_to_f16_row(s, (uint16_t*)d, n); }
void q_bf16(const float* s, void* d, int64_t n) { f32_to_bf16_row(s, (uint16_t*)d, n); }

std::array<QuantTraits, size_t(DType::kCount)> build_table() {
  std::array<QuantTraits, size_t(DType::kCount)> t{};
  t[size_t(DType::F32)] = {deq_f32, q_f32, DType::F32, nullptr};
  t[size_t(DType::F16)] = {deq_f16, q_f16, DType::F16, nullptr};
  t[size_t(DType::BF16)] = {deq_bf16, q_bf16, DType::BF16, nullptr};
  quant::register_formats(t.data());
  return t;
}

const std::array<QuantTraits, size_t(DType::kCount)>& table() {
  static const auto t = build_table();
  return t;
}

}  // namespace

const QuantTraits& quant_traits(DType t) { return table()[size_t(t)]; }

bool can_dequantize(DType t) { return quant_traits(t).dequantize != nullptr; }

void dequantize_row(DType t, const void* src, float* dst, int64_t n, const char* what) {
  auto fn = quant_traits(t).dequantize;
  RLX_CHECK(fn != nullptr, "tensor type {}{}{} is not supported by rlx (see docs/quantization.md)",
            dtype_name(t), what ? " of " : "", what ? what : "");
  fn(src, dst, n);
}

void quantize_row(DType t, const float* src, void* dst, int64_t n, const char* what) {
  auto fn = quant_traits(t).quantize;
  RLX_CHECK(fn != nullptr, "rlx cannot quantize to {}{}{}", dtype_name(t), what ? " for " : "",
            what ? what : "");
  fn(src, dst, n);
}

}  // namespace rlx
