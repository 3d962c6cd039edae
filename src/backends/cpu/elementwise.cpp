// Elementwise kernels over strided, broadcast inputs; output is contiguous.
#include <cmath>
#include <cstring>

#include "backends/cpu/kernel.h"
#include "backends/cpu/simd.h"
#include "backends/cpu/strided.h"
#include "rlx/core/error.h"
#include "rlx/core/half.h"

namespace rlx::cpu {
namespace {

using ir::OpKind;

constexpr int64_t kGrainElems = 1 << 14;

int64_t grain_rows(int64_t row_len) {
  return std::max<int64_t>(1, kGrainElems / std::max<int64_t>(1, row_len));
}

template <class F>
void binary_f32(const KernelArgs& a, F f) {
  const Shape& shape = a.out.shape;
  Strides sa = broadcast_strides(a.in[0], shape), sb = broadcast_strides(a.in[1], shape);
  int64_t rows = row_count(shape), len = row_length(shape);
  int64_t ia = inner_stride(sa), ib = inner_stride(sb);
  const float* pa = a.in[0].ptr<float>();
  const float* pb = a.in[1].ptr<float>();
  float* po = a.out.ptr<float>();
  a.pool.parallel_for(rows, grain_rows(len), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* x = pa + row_offset(shape, sa, r);
      const float* y = pb + row_offset(shape, sb, r);
      float* o = po + r * len;
      if (ia == 1 && ib == 1) {
        for (int64_t i = 0; i < len; ++i) o[i] = f(x[i], y[i]);
      } else if (ia == 1 && ib == 0) {
        float yv = y[0];
        for (int64_t i = 0; i < len; ++i) o[i] = f(x[i], yv);
      } else {
        for (int64_t i = 0; i < len; ++i) o[i] = f(x[i * ia], y[i * ib]);
      }
    }
  });
}

void k_binary(const KernelArgs& a) {
  RLX_CHECK(a.out.dtype == DType::F32, "{} supports F32 only on CPU", ir::op_name(a.node.op));
  switch (a.node.op) {
    case OpKind::Add:
      return binary_f32(a, [](float x, float y) { return x + y; });
    case OpKind::Sub:
      return binary_f32(a, [](float x, float y) { return x - y; });
    case OpKind::Mul:
      return binary_f32(a, [](float x, float y) { return x * y; });
    case OpKind::Div:
      return binary_f32(a, [](float x, float y) { return x / y; });
    default:
      RLX_ASSERT(false);
  }
}

template <class F>
void unary_f32(const KernelArgs& a, F f) {
  const TensorView& x = a.in[0];
  const Shape& shape = a.out.shape;
  int64_t rows = row_count(shape), len = row_length(shape), ix = inner_stride(x.strides);
  const float* px = x.ptr<float>();
  float* po = a.out.ptr<float>();
  a.pool.parallel_for(rows, grain_rows(len), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* s = px + row_offset(shape, x.strides, r);
      float* o = po + r * len;
      for (int64_t i = 0; i < len; ++i) o[i] = f(s[i * ix]);
    }
  });
}

// SiLU x·σ(x) = x / (1 + e^-x), eight lanes at a time with the vector exp (the FFN's
// activation runs over every intermediate value of every token).
void silu_f32(const KernelArgs& a) {
  auto silu = [](float x) { return x / (1.f + std::exp(-x)); };
#if RLX_AVX2
  const TensorView& x = a.in[0];
  const Shape& shape = a.out.shape;
  const int64_t rows = row_count(shape), len = row_length(shape);
  if (inner_stride(x.strides) == 1) {
    const float* px = x.ptr<float>();
    float* po = a.out.ptr<float>();
    a.pool.parallel_for(rows, grain_rows(len), [&](int64_t r0, int64_t r1) {
      const __m256 one = _mm256_set1_ps(1.f), sign = _mm256_set1_ps(-0.f);
      for (int64_t r = r0; r < r1; ++r) {
        const float* s = px + row_offset(shape, x.strides, r);
        float* o = po + r * len;
        int64_t i = 0;
        for (; i + 8 <= len; i += 8) {
          const __m256 v = _mm256_loadu_ps(s + i);
          const __m256 e = exp256(_mm256_xor_ps(v, sign));
          _mm256_storeu_ps(o + i, _mm256_div_ps(v, _mm256_add_ps(one, e)));
        }
        for (; i < len; ++i) o[i] = silu(s[i]);
      }
    });
    return;
  }
#endif
  unary_f32(a, silu);
}

float gelu_erf(float x) {
  return 0.5f * x * (1.f + std::erf(x * 0.70710678118654752f));
}
float gelu_tanh(float x) {
  return 0.5f * x * (1.f + std::tanh(0.7978845608028654f * (x + 0.044715f * x * x * x)));
}
float softplus(float x) {
  return x > 20.f ? x : std::log1p(std::exp(x));
}

void k_unary(const KernelArgs& a) {
  RLX_CHECK(a.out.dtype == DType::F32, "{} supports F32 only on CPU", ir::op_name(a.node.op));
  const auto& at = a.node.attrs;
  switch (a.node.op) {
    case OpKind::Scale: {
      float s = at.scale, b = at.bias;
      return unary_f32(a, [s, b](float x) { return x * s + b; });
    }
    case OpKind::Silu:
      return silu_f32(a);
    case OpKind::GeluErf:
      return unary_f32(a, gelu_erf);
    case OpKind::GeluTanh:
      return unary_f32(a, gelu_tanh);
    case OpKind::Relu:
      return unary_f32(a, [](float x) { return x > 0.f ? x : 0.f; });
    case OpKind::Sigmoid:
      return unary_f32(a, [](float x) { return 1.f / (1.f + std::exp(-x)); });
    case OpKind::Tanh:
      return unary_f32(a, [](float x) { return std::tanh(x); });
    case OpKind::Exp:
      return unary_f32(a, [](float x) { return std::exp(x); });
    case OpKind::Log:
      return unary_f32(a, [](float x) { return std::log(x); });
    case OpKind::Softplus:
      return unary_f32(a, softplus);
    case OpKind::Sqrt:
      return unary_f32(a, [](float x) { return std::sqrt(x); });
    case OpKind::Abs:
      return unary_f32(a, [](float x) { return std::fabs(x); });
    case OpKind::Neg:
      return unary_f32(a, [](float x) { return -x; });
    case OpKind::Pow: {
      float e = at.exponent;
      if (e == 2.f) return unary_f32(a, [](float x) { return x * x; });
      return unary_f32(a, [e](float x) { return std::pow(x, e); });
    }
    default:
      RLX_ASSERT(false);
  }
}

// Reads element `off` of a plain-typed buffer as double (exact for every int32 and float).
double load(const void* p, DType t, int64_t off) {
  switch (t) {
    case DType::F32:
      return static_cast<const float*>(p)[off];
    case DType::F16:
      return f16_to_f32(static_cast<const uint16_t*>(p)[off]);
    case DType::BF16:
      return bf16_to_f32(static_cast<const uint16_t*>(p)[off]);
    case DType::F64:
      return static_cast<const double*>(p)[off];
    case DType::I32:
      return static_cast<const int32_t*>(p)[off];
    case DType::I64:
      return double(static_cast<const int64_t*>(p)[off]);
    case DType::I8:
      return static_cast<const int8_t*>(p)[off];
    case DType::U8:
    case DType::Bool:
      return static_cast<const uint8_t*>(p)[off];
    default:
      fail("cast from {} is not supported", dtype_name(t));
  }
}

void store(void* p, DType t, int64_t off, double v) {
  switch (t) {
    case DType::F32:
      static_cast<float*>(p)[off] = float(v);
      break;
    case DType::F16:
      static_cast<uint16_t*>(p)[off] = f32_to_f16(float(v));
      break;
    case DType::BF16:
      static_cast<uint16_t*>(p)[off] = f32_to_bf16(float(v));
      break;
    case DType::F64:
      static_cast<double*>(p)[off] = v;
      break;
    case DType::I32:
      static_cast<int32_t*>(p)[off] = int32_t(v);
      break;
    case DType::I64:
      static_cast<int64_t*>(p)[off] = int64_t(v);
      break;
    case DType::I8:
      static_cast<int8_t*>(p)[off] = int8_t(v);
      break;
    case DType::U8:
      static_cast<uint8_t*>(p)[off] = uint8_t(v);
      break;
    case DType::Bool:
      static_cast<uint8_t*>(p)[off] = v != 0;
      break;
    default:
      fail("cast to {} is not supported", dtype_name(t));
  }
}

void k_cast(const KernelArgs& a) {
  const TensorView& x = a.in[0];
  const Shape& shape = x.shape;
  int64_t rows = row_count(shape), len = row_length(shape), ix = inner_stride(x.strides);
  for (int64_t r = 0; r < rows; ++r) {
    int64_t base = row_offset(shape, x.strides, r);
    for (int64_t i = 0; i < len; ++i)
      store(a.out.data, a.out.dtype, r * len + i, load(x.data, x.dtype, base + i * ix));
  }
}

// Copies a strided view in row-major order into the contiguous output (which may have
// another shape with the same element count: a materialized reshape).
void k_copy(const KernelArgs& a) {
  const TensorView& x = a.in[0];
  const Shape& shape = x.shape;
  int64_t es = element_size(x.dtype);
  int64_t rows = row_count(shape), len = row_length(shape), ix = inner_stride(x.strides);
  const char* src = static_cast<const char*>(x.data);
  char* dst = static_cast<char*>(a.out.data);
  a.pool.parallel_for(rows, grain_rows(len), [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const char* s = src + row_offset(shape, x.strides, r) * es;
      char* d = dst + r * len * es;
      if (ix == 1) {
        std::memcpy(d, s, size_t(len * es));
      } else {
        for (int64_t i = 0; i < len; ++i) std::memcpy(d + i * es, s + i * ix * es, size_t(es));
      }
    }
  });
}

}  // namespace

void register_elementwise_kernels(KernelRegistry& r) {
  for (auto op : ir::kBinaryOps) r.add(op, k_binary);
  for (auto op : ir::kUnaryOps) r.add(op, k_unary);
  r.add(OpKind::Cast, k_cast);
  r.add(OpKind::Copy, k_copy);
  r.add(OpKind::Reshape, k_copy);  // only reached when the reshape could not be a view
}

}  // namespace rlx::cpu
