// Shapes and strides, outermost-first (PyTorch order), at most kMaxDims dimensions.
#pragma once
#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string>
#include <vector>

namespace rlx {

constexpr int kMaxDims = 8;

class Dims {
 public:
  Dims() = default;
  Dims(std::initializer_list<int64_t> d);
  explicit Dims(std::span<const int64_t> d);
  static Dims filled(int n, int64_t value);

  int rank() const { return n_; }
  int64_t operator[](int i) const { return d_[i]; }
  int64_t& operator[](int i) { return d_[i]; }
  // Negative axes count from the end (-1 = last); asserts on out-of-range.
  int64_t at(int axis) const { return d_[norm_axis(axis)]; }
  int norm_axis(int axis) const;
  int64_t back() const { return d_[n_ - 1]; }
  const int64_t* begin() const { return d_.data(); }
  const int64_t* end() const { return d_.data() + n_; }
  int64_t* begin() { return d_.data(); }
  int64_t* end() { return d_.data() + n_; }
  void push_back(int64_t v);
  void resize(int n, int64_t fill = 0);
  std::vector<int64_t> to_vector() const { return {begin(), end()}; }

  int64_t numel() const;    // product of all dims (1 for rank 0)
  std::string str() const;  // "[2, 3, 4]"
  bool operator==(const Dims& o) const;
  bool operator!=(const Dims& o) const { return !(*this == o); }

 private:
  std::array<int64_t, kMaxDims> d_{};
  int n_ = 0;
};

using Shape = Dims;
using Strides = Dims;

// Row-major contiguous strides (in elements) for a shape.
Strides contiguous_strides(const Shape& s);

// Splits a contiguous shape around `axis` into outer * s[axis] * inner.
void split_axis(const Shape& s, int axis, int64_t& outer, int64_t& inner);

}  // namespace rlx
