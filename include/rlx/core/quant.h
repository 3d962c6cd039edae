// Block-quantized formats: per-dtype traits (dequantize, quantize, dot kernels).
// Row functions take n elements, a multiple of the dtype's block size.
#pragma once
#include <cstddef>
#include <cstdint>

#include "rlx/core/dtype.h"

namespace rlx {

using DequantizeRowFn = void (*)(const void* src, float* dst, int64_t n);
using QuantizeRowFn = void (*)(const float* src, void* dst, int64_t n);
// Dot product of one weight row (dtype W) with one activation row already quantized to
// W's vec_dot_type; n elements.
using VecDotFn = float (*)(const void* w_row, const void* act_row, int64_t n);
// out[r] = vec_dot(w + r * row_stride, act_row, n) for r in [0, nrows), bit for bit, for any
// nrows >= 1: several weight rows against one activation row, sharing its loads and the
// per-block bookkeeping (matrix-vector products in decode). w and row_stride need no alignment.
using VecDotRowsFn = void (*)(const void* w, size_t row_stride, int nrows, const void* act_row,
                              int64_t n, float* out);

struct QuantTraits {
  DequantizeRowFn dequantize = nullptr;  // exact, bit-for-bit with ggml
  QuantizeRowFn quantize = nullptr;      // reference quantizer (no importance matrix)
  DType vec_dot_type = DType::F32;       // activation format the dot kernel consumes
  VecDotFn vec_dot = nullptr;
  // Multi-row form of vec_dot; every type with a vec_dot has one (a loop over vec_dot where no
  // faster kernel exists).
  VecDotRowsFn vec_dot_rows = nullptr;
};

// Traits of a dtype; the function pointers are null where rlx has no implementation.
const QuantTraits& quant_traits(DType t);

// Dequantizes n elements (plain float types are converted). Throws rlx::Error naming the
// type (and `what`, e.g. a tensor name) when the type cannot be read.
void dequantize_row(DType t, const void* src, float* dst, int64_t n, const char* what = nullptr);
// Quantizes n floats into dtype t (F32/F16/BF16 too). Throws for types without a quantizer.
void quantize_row(DType t, const float* src, void* dst, int64_t n, const char* what = nullptr);
bool can_dequantize(DType t);

// Quantizes an activation row to a dot-kernel format (a QuantTraits::vec_dot_type) exactly as
// ggml's x86 CPU backend does before a matmul: Q8_0/Q8_1 use round-half-even with inverse
// scale 127/amax (this differs from quantize_row's reference Q8_0, which llama-quantize uses
// for weights), Q8_K is the reference quantizer, F32/F16/BF16 are conversions.
void quantize_activation_row(DType vec_dot_type, const float* x, void* dst, int64_t n);

// Bytes of one row of n elements of t (n a multiple of the block size).
inline int64_t row_bytes(DType t, int64_t n) {
  return dtype_bytes(t, n);
}

// y[r] = vec_dot(row r of W, x_q) for r in [0, rows): W holds `rows` rows of k elements of
// wtype, x_q one activation row already quantized to wtype's vec_dot_type. Throws for types
// without a dot kernel.
void quant_matmul_rows(DType wtype, const void* W, int64_t rows, int64_t k, const void* x_q,
                       float* y);

// The scalar reference dot kernel of a type (QuantTraits::vec_dot may be a SIMD version that
// gives the same results); null where none exists. For tests and benchmarks.
VecDotFn reference_vec_dot(DType t);

}  // namespace rlx
