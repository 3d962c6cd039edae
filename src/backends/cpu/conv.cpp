// conv1d: direct convolution (stride, zero padding, dilation, groups).
#include <vector>

#include "backends/cpu/kernel.h"
#include "backends/cpu/simd.h"
#include "rlx/core/error.h"

namespace rlx::cpu {
namespace {

void k_conv1d(const KernelArgs& a) {
  const auto& at = a.node.attrs;
  const TensorView& x = a.in[0];
  const TensorView& w = a.in[1];
  RLX_CHECK(w.dtype == DType::F32, "conv1d weights must be F32 on CPU (got {})",
            dtype_name(w.dtype));
  const float* bias = a.in.size() > 2 ? a.in[2].ptr<float>() : nullptr;
  const int64_t B = x.shape[0], Cin = x.shape[1], L = x.shape[2];
  const int64_t Cout = w.shape[0], Cg = w.shape[1], K = w.shape[2];
  const int64_t Lout = a.out.shape[2], G = at.groups, out_per_group = Cout / G;
  const float* px = x.ptr<float>();
  const float* pw = w.ptr<float>();
  float* po = a.out.ptr<float>();
  // im2col per (batch, group) with one row per output position, so every output is a
  // contiguous dot product of length Cg*K against a weight row (SIMD-friendly even for K=3).
  const int64_t row = Cg * K;
  std::vector<float> cols(static_cast<size_t>(Lout * row));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t g = 0; g < G; ++g) {
      for (int64_t t = 0; t < Lout; ++t)
        for (int64_t ci = 0; ci < Cg; ++ci) {
          const float* xrow = px + (b * Cin + g * Cg + ci) * L;
          float* c = cols.data() + t * row + ci * K;
          for (int64_t k = 0; k < K; ++k) {
            int64_t i = t * at.stride - at.padding + k * at.dilation;
            c[k] = i >= 0 && i < L ? xrow[i] : 0.f;
          }
        }
      a.pool.parallel_for(out_per_group, 4, [&](int64_t o0, int64_t o1) {
        for (int64_t co = g * out_per_group + o0; co < g * out_per_group + o1; ++co) {
          const float* wr = pw + co * row;
          float* orow = po + (b * Cout + co) * Lout;
          const float bv = bias ? bias[co] : 0.f;
          for (int64_t t = 0; t < Lout; ++t) orow[t] = bv + dot_f32(wr, cols.data() + t * row, row);
        }
      });
    }
}

}  // namespace

void register_conv_kernels(KernelRegistry& r) {
  r.add(ir::OpKind::Conv1d, k_conv1d);
}

}  // namespace rlx::cpu
