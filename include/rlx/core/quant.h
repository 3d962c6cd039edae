// Block-quantized formats: per-dtype traits (dequantize, quantize, dot kernels).
// Row functions take n elements, a multiple of the dtype's block size.
#pragma once
#include <cstdint>

#include "rlx/core/dtype.h"

namespace rlx {

using DequantizeRowFn = void (*)(const void* src, float* dst, int64_t n);
using QuantizeRowFn = void (*)(const float* src, void* dst, int64_t n);
// Dot product of one weight row (dtype W) with one activation row already quantized to
// W's vec_dot_type; n elements.
using VecDotFn = float (*)(const void* w_row, const void* act_row, int64_t n);

struct QuantTraits {
  DequantizeRowFn dequantize = nullptr;  // exact, bit-for-bit with ggml
  QuantizeRowFn quantize = nullptr;      // reference quantizer (no importance matrix)
  DType vec_dot_type = DType::F32;       // activation format the dot kernel consumes
  VecDotFn vec_dot = nullptr;
};

// Traits of a dtype; the function pointers are null where rlx has no implementation.
const QuantTraits& quant_traits(DType t);

// Dequantizes n elements (plain float types are converted). Throws rlx::Error naming the
// type (and `what`, e.g. a tensor name) when the type cannot be read.
void dequantize_row(DType t, const void* src, float* dst, int64_t n, const char* what = nullptr);
// Quantizes n floats into dtype t (F32/F16/BF16 too). Throws for types without a quantizer.
void quantize_row(DType t, const float* src, void* dst, int64_t n, const char* what = nullptr);
bool can_dequantize(DType t);

}  // namespace rlx
