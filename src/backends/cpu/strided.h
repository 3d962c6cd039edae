// Iteration over strided views, row by row (the innermost axis is the "row").
#pragma once
#include <array>

#include "rlx/core/tensor.h"

namespace rlx::cpu {

// Strides of `v` broadcast to `shape` (0 on broadcast axes; v's rank may be smaller).
inline Strides broadcast_strides(const TensorView& v, const Shape& shape) {
  Strides s = Dims::filled(shape.rank(), 0);
  int off = shape.rank() - v.rank();
  for (int i = 0; i < v.rank(); ++i) s[i + off] = v.shape[i] == 1 ? 0 : v.strides[i];
  return s;
}

// Element offset of row `row` (a flat index over all axes but the last) for given strides.
inline int64_t row_offset(const Shape& shape, const Strides& strides, int64_t row) {
  int64_t off = 0;
  for (int d = shape.rank() - 2; d >= 0; --d) {
    int64_t n = shape[d];
    off += (row % n) * strides[d];
    row /= n;
  }
  return off;
}

inline int64_t row_count(const Shape& shape) {
  return shape.rank() == 0 ? 1 : shape.numel() / shape.back();
}
inline int64_t row_length(const Shape& shape) {
  return shape.rank() == 0 ? 1 : shape.back();
}
inline int64_t inner_stride(const Strides& s) {
  return s.rank() == 0 ? 1 : s.back();
}

}  // namespace rlx::cpu
