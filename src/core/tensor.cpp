#include "rlx/core/tensor.h"

#include <sys/mman.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <numeric>

#include "rlx/core/error.h"
#include "rlx/core/half.h"
#include "rlx/core/quant.h"

namespace rlx {

TensorView::TensorView(void* data, DType dtype, Shape shape)
    : data(data), dtype(dtype), shape(shape), strides(contiguous_strides(shape)) {}

TensorView::TensorView(void* data, DType dtype, Shape shape, Strides strides)
    : data(data), dtype(dtype), shape(shape), strides(strides) {
  RLX_ASSERT(shape.rank() == strides.rank());
}

bool TensorView::is_contiguous() const {
  int64_t expect = 1;
  for (int i = rank() - 1; i >= 0; --i) {
    if (shape[i] != 1 && strides[i] != expect) return false;
    expect *= shape[i];
  }
  return true;
}

int64_t TensorView::nbytes() const {
  return dtype_bytes(dtype, numel());
}

TensorView TensorView::reshape(const Shape& s) const {
  RLX_CHECK(s.numel() == numel(), "cannot reshape {} ({} elements) to {}", shape.str(), numel(),
            s.str());
  RLX_CHECK(is_contiguous(), "reshape of a non-contiguous view {}", shape.str());
  return TensorView(data, dtype, s);
}

TensorView TensorView::permute(std::initializer_list<int> order) const {
  return permute(std::vector<int>(order));
}

TensorView TensorView::permute(const std::vector<int>& order) const {
  RLX_CHECK(int(order.size()) == rank(), "permute order has {} axes for rank {}", order.size(),
            rank());
  RLX_CHECK(!is_quantized(dtype) || order.back() == rank() - 1,
            "permute of a {} tensor must keep the innermost axis", dtype_name(dtype));
  TensorView r = *this;
  std::vector<bool> seen(rank(), false);
  for (int i = 0; i < rank(); ++i) {
    int a = shape.norm_axis(order[i]);
    RLX_CHECK(!seen[a], "permute order repeats axis {}", a);
    seen[a] = true;
    r.shape[i] = shape[a];
    r.strides[i] = strides[a];
  }
  return r;
}

TensorView TensorView::transpose(int a, int b) const {
  std::vector<int> order(rank());
  std::iota(order.begin(), order.end(), 0);
  std::swap(order[shape.norm_axis(a)], order[shape.norm_axis(b)]);
  return permute(order);
}

TensorView TensorView::slice(int axis, int64_t start, int64_t stop, int64_t step) const {
  int a = shape.norm_axis(axis);
  RLX_CHECK(step > 0, "slice step must be positive, got {}", step);
  RLX_CHECK(0 <= start && start <= stop && stop <= shape[a],
            "slice [{}:{}] out of range for axis {} of size {}", start, stop, a, shape[a]);
  RLX_CHECK(!is_quantized(dtype) || a != rank() - 1, "slicing the innermost axis of a {} tensor",
            dtype_name(dtype));
  TensorView r = *this;
  int64_t elem_offset = start * strides[a];
  r.data = static_cast<char*>(data) + dtype_bytes(dtype, elem_offset);
  r.shape[a] = (stop - start + step - 1) / step;
  r.strides[a] = strides[a] * step;
  return r;
}

TensorView TensorView::select(int axis, int64_t index) const {
  int a = shape.norm_axis(axis);
  TensorView s = slice(a, index, index + 1);
  Shape sh;
  Strides st;
  for (int i = 0; i < rank(); ++i)
    if (i != a) {
      sh.push_back(s.shape[i]);
      st.push_back(s.strides[i]);
    }
  s.shape = sh;
  s.strides = st;
  return s;
}

Tensor Tensor::empty(DType dtype, const Shape& shape) {
  Tensor t;
  int64_t bytes = dtype_bytes(dtype, shape.numel());
  size_t alloc = size_t((bytes + 63) / 64 * 64);
  void* p = std::aligned_alloc(64, alloc == 0 ? 64 : alloc);
  RLX_CHECK(p != nullptr, "out of memory allocating {} bytes for a {} {} tensor", bytes,
            dtype_name(dtype), shape.str());
  t.storage_ =
      std::shared_ptr<const void>(p, [](const void* q) { std::free(const_cast<void*>(q)); });
  t.view_ = TensorView(p, dtype, shape);
  return t;
}

Tensor Tensor::zeros(DType dtype, const Shape& shape) {
  const int64_t bytes = dtype_bytes(dtype, shape.numel());
  // Large zero tensors (KV caches) come straight from the kernel: its pages are zero and cost
  // no memory until written, so a cache sized for a long context is paid for as it fills.
  constexpr int64_t kMapThreshold = int64_t(1) << 20;
  if (bytes >= kMapThreshold) {
    void* p =
        mmap(nullptr, size_t(bytes), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    RLX_CHECK(p != MAP_FAILED, "out of memory allocating {} bytes for a {} {} tensor", bytes,
              dtype_name(dtype), shape.str());
    Tensor t;
    const size_t len = size_t(bytes);
    t.storage_ =
        std::shared_ptr<const void>(p, [len](const void* q) { munmap(const_cast<void*>(q), len); });
    t.view_ = TensorView(p, dtype, shape);
    return t;
  }
  Tensor t = empty(dtype, shape);
  std::memset(t.data(), 0, size_t(t.nbytes()));
  return t;
}

Tensor Tensor::borrow(const TensorView& view, std::shared_ptr<const void> keep_alive) {
  Tensor t;
  t.view_ = view;
  t.storage_ = std::move(keep_alive);
  return t;
}

namespace {

// OCP FP8 formats as stored by safetensors: E4M3FN (bias 7, no infinities, 0x7f/0xff NaN) and
// E5M2 (bias 15, IEEE-like: the top byte of an f16).
float f8_e4m3_to_f32(uint8_t b) {
  const int sign = b >> 7, exp = (b >> 3) & 0xf, mant = b & 7;
  float v;
  if (exp == 0xf && mant == 7) return NAN;
  if (exp == 0)
    v = std::ldexp(float(mant), -9);  // subnormal: mant/8 * 2^-6
  else
    v = std::ldexp(1.f + float(mant) / 8.f, exp - 7);
  return sign ? -v : v;
}

float f8_e5m2_to_f32(uint8_t b) {
  return f16_to_f32(uint16_t(b) << 8);
}

// Calls fn(byte offset of element) for every element of v in row-major order.
template <class Fn>
void for_each_offset(const TensorView& v, Fn&& fn) {
  int r = v.rank();
  int64_t n = v.numel();
  if (n == 0) return;
  Dims idx = Dims::filled(r, 0);
  int64_t off = 0;
  for (int64_t i = 0; i < n; ++i) {
    fn(i, off);
    for (int d = r - 1; d >= 0; --d) {
      if (++idx[d] < v.shape[d]) {
        off += v.strides[d];
        break;
      }
      off -= v.strides[d] * (v.shape[d] - 1);
      idx[d] = 0;
    }
  }
}

}  // namespace

Tensor contiguous_copy(const TensorView& v) {
  RLX_CHECK(!is_quantized(v.dtype), "contiguous_copy of quantized dtype {}", dtype_name(v.dtype));
  Tensor t = Tensor::empty(v.dtype, v.shape);
  int64_t es = element_size(v.dtype);
  if (v.is_contiguous()) {
    std::memcpy(t.data(), v.data, size_t(t.nbytes()));
    return t;
  }
  const char* src = static_cast<const char*>(v.data);
  char* dst = static_cast<char*>(t.data());
  for_each_offset(v,
                  [&](int64_t i, int64_t off) { std::memcpy(dst + i * es, src + off * es, es); });
  return t;
}

Tensor to_f32(const TensorView& v) {
  Tensor out = Tensor::empty(DType::F32, v.shape);
  float* dst = out.ptr<float>();
  if (is_quantized(v.dtype)) {
    RLX_CHECK(v.is_contiguous(), "to_f32 of a non-contiguous {} view", dtype_name(v.dtype));
    dequantize_row(v.dtype, v.data, dst, v.numel());
    return out;
  }
  const char* src = static_cast<const char*>(v.data);
  auto conv = [&](int64_t i, int64_t off) {
    switch (v.dtype) {
      case DType::F32:
        dst[i] = reinterpret_cast<const float*>(src)[off];
        break;
      case DType::F16:
        dst[i] = f16_to_f32(reinterpret_cast<const uint16_t*>(src)[off]);
        break;
      case DType::BF16:
        dst[i] = bf16_to_f32(reinterpret_cast<const uint16_t*>(src)[off]);
        break;
      case DType::F64:
        dst[i] = float(reinterpret_cast<const double*>(src)[off]);
        break;
      case DType::I8:
        dst[i] = float(reinterpret_cast<const int8_t*>(src)[off]);
        break;
      case DType::I16:
        dst[i] = float(reinterpret_cast<const int16_t*>(src)[off]);
        break;
      case DType::I32:
        dst[i] = float(reinterpret_cast<const int32_t*>(src)[off]);
        break;
      case DType::I64:
        dst[i] = float(reinterpret_cast<const int64_t*>(src)[off]);
        break;
      case DType::U8:
      case DType::Bool:
        dst[i] = float(reinterpret_cast<const uint8_t*>(src)[off]);
        break;
      case DType::U16:
        dst[i] = float(reinterpret_cast<const uint16_t*>(src)[off]);
        break;
      case DType::U32:
        dst[i] = float(reinterpret_cast<const uint32_t*>(src)[off]);
        break;
      case DType::U64:
        dst[i] = float(reinterpret_cast<const uint64_t*>(src)[off]);
        break;
      case DType::F8_E4M3:
        dst[i] = f8_e4m3_to_f32(reinterpret_cast<const uint8_t*>(src)[off]);
        break;
      case DType::F8_E5M2:
        dst[i] = f8_e5m2_to_f32(reinterpret_cast<const uint8_t*>(src)[off]);
        break;
      default:
        RLX_ASSERT(false, "unhandled dtype {}", dtype_name(v.dtype));
    }
  };
  for_each_offset(v, conv);
  return out;
}

}  // namespace rlx
