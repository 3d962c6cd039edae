// Fused launches for decode: one kernel for consecutive steps that would each be a small
// launch (a decode step is hundreds of them). Results equal the unfused kernels': the same
// float operations in the same order (the linear group is the matrix-vector kernel either way).
#include "backends/cuda/kernel.h"
#include "backends/cuda/launch.h"

namespace rlx::cuda {

bool fused_linears(std::span<const KernelArgs> linears) {
  if (linears.empty() || int64_t(linears.size()) > kGemvMaxParts) return false;
  const TensorView& x = linears[0].in[0];
  const DType wt = linears[0].in[1].dtype;
  if (x.dtype != DType::F32 || (wt != DType::F16 && wt != DType::BF16)) return false;
  const int64_t K = linears[0].in[1].shape[1], M = K > 0 ? x.numel() / K : 0;
  GemvPart parts[kGemvMaxParts];
  for (size_t i = 0; i < linears.size(); ++i) {
    const KernelArgs& a = linears[i];
    const TensorView& w = a.in[1];
    if (a.in[0].data != x.data || w.dtype != wt || w.shape[1] != K ||
        !gemv_half_fits(w.data, x.ptr<float>(), M, K))
      return false;
    if (a.in.size() > 2 && a.in[2].dtype != DType::F32) return false;  // the plain path says so
    parts[i] = GemvPart{w.data, a.in.size() > 2 ? a.in[2].ptr<float>() : nullptr,
                        a.out.ptr<float>(), w.shape[0]};
  }
  launch_gemv_half(parts, int(linears.size()), wt, x.ptr<float>(), M, K, linears[0].ctx.stream());
  return true;
}

bool fused_silu_mul(const KernelArgs& silu, const KernelArgs& mul) {
  const TensorView& g = silu.in[0];
  const TensorView& u = mul.in[0].data == silu.out.data ? mul.in[1] : mul.in[0];
  for (const TensorView* t : {&g, &u, &silu.out, &mul.out})
    if (t->dtype != DType::F32 || !t->is_contiguous() || t->shape != mul.out.shape) return false;
  launch_silu_mul(g.ptr<float>(), u.ptr<float>(), mul.out.ptr<float>(), mul.out.numel(),
                  mul.ctx.stream());
  return true;
}

bool fused_add_rms_norm(const KernelArgs& add, const KernelArgs& norm) {
  const TensorView &a = add.in[0], &b = add.in[1];
  for (const TensorView* t : {&a, &b, &add.out, &norm.out})
    if (t->dtype != DType::F32 || !t->is_contiguous() || t->shape != add.out.shape) return false;
  const TensorView* w = norm.in.size() > 1 ? &norm.in[1] : nullptr;
  if (w && (w->dtype != DType::F32 || !w->is_contiguous())) return false;
  const int64_t D = add.out.shape.back();
  if (D == 0) return false;
  launch_add_rms_norm(a.ptr<float>(), b.ptr<float>(), add.out.ptr<float>(),
                      w ? w->ptr<float>() : nullptr, norm.out.ptr<float>(), add.out.numel() / D, D,
                      norm.node.attrs.eps, norm.node.attrs.offset_one ? 1.f : 0.f,
                      norm.ctx.stream());
  return true;
}

bool fused_rms_norm_rope(const KernelArgs& norm, const KernelArgs& rope, bool launch) {
  const TensorView &x = norm.in[0], &pos = rope.in[1], &inv = rope.in[2];
  if (x.rank() != 4 || x.dtype != DType::F32 || !x.is_contiguous() || x.shape != rope.out.shape ||
      pos.dtype != DType::I32 || inv.dtype != DType::F32 || x.shape[3] > 8192)
    return false;
  const TensorView* w = norm.in.size() > 1 ? &norm.in[1] : nullptr;
  if (w && (w->dtype != DType::F32 || !w->is_contiguous())) return false;
  if (!launch) return true;
  const auto &na = norm.node.attrs, &ra = rope.node.attrs;
  launch_rms_norm_rope(x.ptr<float>(), w ? w->ptr<float>() : nullptr, na.eps,
                       na.offset_one ? 1.f : 0.f, pos.ptr<int32_t>(), inv.ptr<float>(),
                       rope.out.ptr<float>(), x.shape[0], x.shape[1], x.shape[2], x.shape[3],
                       ra.rope_dims, ra.rope_style == ir::RopeStyle::NeoX, ra.attn_factor,
                       rope.ctx.stream());
  return true;
}

}  // namespace rlx::cuda
