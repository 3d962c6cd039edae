#include "rlx/core/shape.h"

#include <fmt/format.h>

#include "rlx/core/error.h"

namespace rlx {

Dims::Dims(std::initializer_list<int64_t> d)
    : Dims(std::span<const int64_t>(d.begin(), d.size())) {}

Dims::Dims(std::span<const int64_t> d) {
  RLX_CHECK(d.size() <= size_t(kMaxDims), "rank {} exceeds the maximum of {}", d.size(), kMaxDims);
  n_ = int(d.size());
  for (int i = 0; i < n_; ++i) d_[i] = d[i];
}

Dims Dims::filled(int n, int64_t value) {
  Dims r;
  r.resize(n, value);
  return r;
}

int Dims::norm_axis(int axis) const {
  int a = axis < 0 ? axis + n_ : axis;
  RLX_CHECK(a >= 0 && a < n_, "axis {} out of range for rank {}", axis, n_);
  return a;
}

void Dims::push_back(int64_t v) {
  RLX_CHECK(n_ < kMaxDims, "rank exceeds the maximum of {}", kMaxDims);
  d_[n_++] = v;
}

void Dims::resize(int n, int64_t fill) {
  RLX_CHECK(n >= 0 && n <= kMaxDims, "rank {} exceeds the maximum of {}", n, kMaxDims);
  for (int i = n_; i < n; ++i) d_[i] = fill;
  n_ = n;
}

int64_t Dims::numel() const {
  int64_t p = 1;
  for (int i = 0; i < n_; ++i) p *= d_[i];
  return p;
}

std::string Dims::str() const {
  return fmt::format("[{}]", fmt::join(begin(), end(), ", "));
}

bool Dims::operator==(const Dims& o) const {
  if (n_ != o.n_) return false;
  for (int i = 0; i < n_; ++i)
    if (d_[i] != o.d_[i]) return false;
  return true;
}

void split_axis(const Shape& s, int axis, int64_t& outer, int64_t& inner) {
  outer = 1;
  inner = 1;
  for (int i = 0; i < axis; ++i) outer *= s[i];
  for (int i = axis + 1; i < s.rank(); ++i) inner *= s[i];
}

Strides contiguous_strides(const Shape& s) {
  Strides st = Dims::filled(s.rank(), 1);
  for (int i = s.rank() - 2; i >= 0; --i) st[i] = st[i + 1] * s[i + 1];
  return st;
}

}  // namespace rlx
