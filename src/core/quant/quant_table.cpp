// The traits table: which row functions exist per dtype. Each format family's functions live
// in their own file (quant_legacy.cpp, quant_k.cpp, quant_iq4.cpp; dot_*.cpp for the kernels).
#include <algorithm>
#include <array>
#include <utility>

#include "core/quant/fp_strict.h"  // first: no FMA contraction
#include "core/quant/quant_formats.h"
#include "rlx/core/error.h"
#include "rlx/core/half.h"
#include "rlx/core/quant.h"

namespace rlx {
namespace quant {

// vec_dot_rows of a type without a multi-row kernel: one vec_dot call per row.
template <size_t kType>
void rows_by_one(const void* w, size_t stride, int nrows, const void* act, int64_t n, float* out) {
  const VecDotFn dot = quant_traits(DType(kType)).vec_dot;
  for (int r = 0; r < nrows; ++r) out[r] = dot(static_cast<const uint8_t*>(w) + r * stride, act, n);
}

template <size_t... kTypes>
std::array<VecDotRowsFn, sizeof...(kTypes)> rows_by_one_table(std::index_sequence<kTypes...>) {
  return {rows_by_one<kTypes>...};
}

void register_formats(QuantTraits* t) {
  register_legacy(t);
  register_k(t);
  register_iq4(t);
  for (size_t i = 0; i < size_t(DType::kCount); ++i) {
    const Converters fast = avx2_converters(DType(i));
    if (fast.dequantize) t[i].dequantize = fast.dequantize;
    if (fast.quantize) t[i].quantize = fast.quantize;
  }
  // Dot kernels: AVX2 where compiled in, else the scalar reference (same results).
  const auto loops = rows_by_one_table(std::make_index_sequence<size_t(DType::kCount)>());
  for (size_t i = 0; i < size_t(DType::kCount); ++i) {
    const DotKernels fast = avx2_dot_kernels(DType(i));
    t[i].vec_dot = fast.one ? fast.one : scalar_vec_dot(DType(i));
    t[i].vec_dot_rows = fast.rows ? fast.rows : t[i].vec_dot ? loops[i] : nullptr;
  }
}

}  // namespace quant

namespace {

void deq_f32(const void* s, float* d, int64_t n) {
  std::memcpy(d, s, size_t(n) * 4);
}
void deq_f16(const void* s, float* d, int64_t n) {
  f16_to_f32_row((const uint16_t*)s, d, n);
}
void deq_bf16(const void* s, float* d, int64_t n) {
  bf16_to_f32_row((const uint16_t*)s, d, n);
}
void q_f32(const float* s, void* d, int64_t n) {
  std::memcpy(d, s, size_t(n) * 4);
}
void q_f16(const float* s, void* d, int64_t n) {
  f32_to_f16_row(s, (uint16_t*)d, n);
}
void q_bf16(const float* s, void* d, int64_t n) {
  f32_to_bf16_row(s, (uint16_t*)d, n);
}

std::array<QuantTraits, size_t(DType::kCount)> build_table() {
  std::array<QuantTraits, size_t(DType::kCount)> t{};
  t[size_t(DType::F32)] = {deq_f32, q_f32, DType::F32};
  t[size_t(DType::F16)] = {deq_f16, q_f16, DType::F16};
  t[size_t(DType::BF16)] = {deq_bf16, q_bf16, DType::BF16};
  quant::register_formats(t.data());
  return t;
}

const std::array<QuantTraits, size_t(DType::kCount)>& table() {
  static const auto t = build_table();
  return t;
}

}  // namespace

const QuantTraits& quant_traits(DType t) {
  return table()[size_t(t)];
}

bool can_dequantize(DType t) {
  return quant_traits(t).dequantize != nullptr;
}

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

void quantize_activation_row(DType vec_dot_type, const float* x, void* dst, int64_t n) {
  switch (vec_dot_type) {
    case DType::Q8_0:
      quant::quantize_act_q8_0(x, dst, n);
      return;
    case DType::Q8_1:
      quant::quantize_act_q8_1(x, dst, n);
      return;
    case DType::Q8_K:
    case DType::F32:
    case DType::F16:
    case DType::BF16:
      quantize_row(vec_dot_type, x, dst, n);
      return;
    default:
      RLX_CHECK(false, "{} is not an activation format of a dot kernel", dtype_name(vec_dot_type));
  }
}

void quant_matmul_rows(DType wtype, const void* W, int64_t rows, int64_t k, const void* x_q,
                       float* y) {
  const VecDotRowsFn dot = quant_traits(wtype).vec_dot_rows;
  RLX_CHECK(dot != nullptr, "no dot kernel for weight type {}", dtype_name(wtype));
  const size_t stride = size_t(dtype_bytes(wtype, k));
  const auto* w = static_cast<const uint8_t*>(W);
  // In chunks, so that nrows stays an int.
  constexpr int64_t kChunk = 1 << 16;
  for (int64_t r = 0; r < rows; r += kChunk)
    dot(w + size_t(r) * stride, stride, int(std::min(kChunk, rows - r)), x_q, k, y + r);
}

VecDotFn reference_vec_dot(DType t) {
  return quant::scalar_vec_dot(t);
}

}  // namespace rlx
