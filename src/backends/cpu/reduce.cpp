// Reductions along one axis (sum, mean, max) and argmax.
#include <cmath>

#include "backends/cpu/kernel.h"
#include "rlx/core/error.h"

namespace rlx::cpu {
namespace {

using ir::OpKind;

void k_reduce(const KernelArgs& a) {
  const TensorView& x = a.in[0];
  RLX_CHECK(x.dtype == DType::F32, "{} supports F32 only on CPU", ir::op_name(a.node.op));
  const int axis = a.node.attrs.axis;
  int64_t outer = 1, inner = 1, n = x.shape[axis];
  for (int i = 0; i < axis; ++i) outer *= x.shape[i];
  for (int i = axis + 1; i < x.rank(); ++i) inner *= x.shape[i];
  const float* px = x.ptr<float>();
  float* po = a.out.ptr<float>();
  const OpKind op = a.node.op;
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const float* p = px + o * n * inner + i;
      if (op == OpKind::ReduceMax) {
        float m = -INFINITY;
        for (int64_t j = 0; j < n; ++j) m = std::max(m, p[j * inner]);
        po[o * inner + i] = m;
      } else {
        double s = 0;
        for (int64_t j = 0; j < n; ++j) s += p[j * inner];
        po[o * inner + i] = float(op == OpKind::ReduceMean ? s / double(n) : s);
      }
    }
}

void k_argmax(const KernelArgs& a) {
  const TensorView& x = a.in[0];
  RLX_CHECK(x.dtype == DType::F32, "argmax supports F32 only on CPU");
  const int axis = a.node.attrs.axis;
  int64_t outer = 1, inner = 1, n = x.shape[axis];
  for (int i = 0; i < axis; ++i) outer *= x.shape[i];
  for (int i = axis + 1; i < x.rank(); ++i) inner *= x.shape[i];
  const float* px = x.ptr<float>();
  int32_t* po = a.out.ptr<int32_t>();
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i = 0; i < inner; ++i) {
      const float* p = px + o * n * inner + i;
      int64_t best = 0;
      for (int64_t j = 1; j < n; ++j)
        if (p[j * inner] > p[best * inner]) best = j;  // first maximum wins, as in PyTorch
      po[o * inner + i] = int32_t(best);
    }
}

}  // namespace

void register_reduce_kernels(KernelRegistry& r) {
  r.add(OpKind::ReduceSum, k_reduce);
  r.add(OpKind::ReduceMean, k_reduce);
  r.add(OpKind::ReduceMax, k_reduce);
  r.add(OpKind::Argmax, k_argmax);
}

}  // namespace rlx::cpu
