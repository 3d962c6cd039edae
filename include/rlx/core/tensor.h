// TensorView: a typed, strided window on memory it does not own. Tensor: an owning view.
// Strides are in elements. Block-quantized dtypes support only views whose innermost
// dimension is contiguous and whole (rows of blocks); outer strides are multiples of a row.
#pragma once
#include <cstddef>
#include <memory>

#include "rlx/core/dtype.h"
#include "rlx/core/shape.h"

namespace rlx {

struct TensorView {
  void* data = nullptr;
  DType dtype = DType::F32;
  Shape shape;
  Strides strides;

  TensorView() = default;
  TensorView(void* data, DType dtype, Shape shape);  // contiguous
  TensorView(void* data, DType dtype, Shape shape, Strides strides);

  int rank() const { return shape.rank(); }
  int64_t numel() const { return shape.numel(); }
  bool is_contiguous() const;
  // Bytes spanned by a contiguous view of this shape and dtype.
  int64_t nbytes() const;

  template <class T>
  T* ptr() const {
    return static_cast<T*>(data);
  }

  // Byte offset of element index `elem` along a flattened contiguous layout.
  // Views (no copy). Each checks its arguments and throws rlx::Error on misuse.
  TensorView reshape(const Shape& s) const;  // needs a contiguous view
  TensorView permute(std::initializer_list<int> order) const;
  TensorView permute(const std::vector<int>& order) const;
  TensorView transpose(int a, int b) const;
  TensorView slice(int axis, int64_t start, int64_t stop, int64_t step = 1) const;
  TensorView select(int axis, int64_t index) const;  // drops the axis
};

// Owning tensor: a view plus shared storage (aligned to 64 bytes).
class Tensor {
 public:
  Tensor() = default;
  static Tensor empty(DType dtype, const Shape& shape);
  static Tensor zeros(DType dtype, const Shape& shape);
  // Wraps external memory that another owner keeps alive (e.g. an mmap'd file).
  static Tensor borrow(const TensorView& view, std::shared_ptr<const void> keep_alive);

  const TensorView& view() const { return view_; }
  TensorView& view() { return view_; }
  void* data() const { return view_.data; }
  template <class T>
  T* ptr() const {
    return view_.ptr<T>();
  }
  DType dtype() const { return view_.dtype; }
  const Shape& shape() const { return view_.shape; }
  int64_t numel() const { return view_.numel(); }
  int64_t nbytes() const { return view_.nbytes(); }
  bool defined() const { return view_.data != nullptr || view_.numel() == 0; }

 private:
  TensorView view_;
  std::shared_ptr<const void> storage_;
};

// Copies any plain-dtype view into a new contiguous F32 tensor (quantized: dequantized).
Tensor to_f32(const TensorView& v);
// Copies a view into a contiguous tensor of the same dtype (plain dtypes only).
Tensor contiguous_copy(const TensorView& v);

}  // namespace rlx
