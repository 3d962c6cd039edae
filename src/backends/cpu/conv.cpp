// conv1d: direct convolution (stride, zero padding, dilation, groups).
#include <vector>

#include "backends/cpu/kernel.h"
#include "rlx/core/error.h"

namespace rlx::cpu {
namespace {

void k_conv1d(const KernelArgs& a) {
  const auto& at = a.node.attrs;
  const TensorView& x = a.in[0];
  const TensorView& w = a.in[1];
  RLX_CHECK(w.dtype == DType::F32, "conv1d weights must be F32 on CPU (got {})", dtype_name(w.dtype));
  const float* bias = a.in.size() > 2 ? a.in[2].ptr<float>() : nullptr;
  const int64_t B = x.shape[0], Cin = x.shape[1], L = x.shape[2];
  const int64_t Cout = w.shape[0], Cg = w.shape[1], K = w.shape[2];
  const int64_t Lout = a.out.shape[2], G = at.groups, out_per_group = Cout / G;
  const float* px = x.ptr<float>();
  const float* pw = w.ptr<float>();
  float* po = a.out.ptr<float>();
  a.pool.parallel_for(B * Cout, 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t b = r / Cout, co = r % Cout, g = co / out_per_group;
      float* orow = po + r * Lout;
      for (int64_t t = 0; t < Lout; ++t) orow[t] = bias ? bias[co] : 0.f;
      for (int64_t ci = 0; ci < Cg; ++ci) {
        const float* xrow = px + (b * Cin + g * Cg + ci) * L;
        const float* wk = pw + (co * Cg + ci) * K;
        for (int64_t k = 0; k < K; ++k) {
          const float wv = wk[k];
          const int64_t shift = k * at.dilation - at.padding;
          for (int64_t t = 0; t < Lout; ++t) {
            int64_t i = t * at.stride + shift;
            if (i >= 0 && i < L) orow[t] += wv * xrow[i];
          }
        }
      }
    }
  });
}

}  // namespace

void register_conv_kernels(KernelRegistry& r) { r.add(ir::OpKind::Conv1d, k_conv1d); }

}  // namespace rlx::cpu
