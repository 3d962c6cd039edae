// Concat and pad (contiguous inputs; output contiguous).
#include <cstring>

#include "backends/cpu/kernel.h"
#include "rlx/core/error.h"

namespace rlx::cpu {
namespace {

using ir::OpKind;

void k_concat(const KernelArgs& a) {
  const int axis = a.node.attrs.axis;
  const int64_t es = element_size(a.out.dtype);
  int64_t outer, inner;
  split_axis(a.out.shape, axis, outer, inner);
  const int64_t out_axis = a.out.shape[axis];
  char* dst = static_cast<char*>(a.out.data);
  int64_t at = 0;
  for (const TensorView& x : a.in) {
    const int64_t n = x.shape[axis];
    const char* src = static_cast<const char*>(x.data);
    for (int64_t o = 0; o < outer; ++o)
      std::memcpy(dst + ((o * out_axis + at) * inner) * es, src + (o * n * inner) * es,
                  size_t(n * inner * es));
    at += n;
  }
}

void k_pad(const KernelArgs& a) {
  const auto& at = a.node.attrs;
  const int axis = at.axis;
  const TensorView& x = a.in[0];
  const int64_t es = element_size(x.dtype);
  int64_t outer, inner;
  split_axis(x.shape, axis, outer, inner);
  const int64_t n = x.shape[axis], m = a.out.shape[axis];
  const char* src = static_cast<const char*>(x.data);
  char* dst = static_cast<char*>(a.out.data);
  const size_t row = size_t(inner * es);
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t j = 0; j < m; ++j) {
      int64_t i = j - at.pad_before;  // source index along the axis
      char* d = dst + (o * m + j) * inner * es;
      if (i >= 0 && i < n) {
        std::memcpy(d, src + (o * n + i) * inner * es, row);
      } else if (at.pad_mode == ir::PadMode::Zero) {
        std::memset(d, 0, row);
      } else {  // reflect (edge not repeated): -1 -> 1, n -> n - 2
        int64_t r = i < 0 ? -i : 2 * (n - 1) - i;
        std::memcpy(d, src + (o * n + r) * inner * es, row);
      }
    }
  }
}

}  // namespace

void register_shape_kernels(KernelRegistry& r) {
  r.add(OpKind::Concat, k_concat);
  r.add(OpKind::Pad, k_pad);
}

}  // namespace rlx::cpu
