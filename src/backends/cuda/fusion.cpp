// Fused launches for decode: one kernel for consecutive steps that would each be a small
// launch (a decode step is hundreds of them). Each checks at run time that the operands suit the
// fused kernel (types, contiguity, alignment, no overlap between what one block writes and what
// another still reads) and otherwise returns false having launched nothing.
#include "backends/cuda/kernel.h"
#include "backends/cuda/launch.h"

namespace rlx::cuda {
namespace {

bool f32_contiguous(const TensorView& t) {
  return t.dtype == DType::F32 && t.is_contiguous();
}
bool overlap(const TensorView& a, const TensorView& b) {
  const char *a0 = static_cast<const char*>(a.data), *b0 = static_cast<const char*>(b.data);
  return a0 < b0 + b.nbytes() && b0 < a0 + a.nbytes();
}

// The linears' weights, biases and outputs into d (they read one input of d.M rows of d.K).
bool linear_parts(std::span<const KernelArgs> linears, DecodeLinear& d) {
  if (linears.empty() || int64_t(linears.size()) > kGemvMaxParts) return false;
  const TensorView& x = linears[0].in[0];
  d.K = linears[0].in[1].shape[1];
  d.M = d.K > 0 ? x.numel() / d.K : 0;
  d.count = int(linears.size());
  for (size_t i = 0; i < linears.size(); ++i) {
    const KernelArgs& a = linears[i];
    const TensorView& w = a.in[1];
    if (a.in[0].data != x.data || a.in[0].numel() != x.numel() || !f32_contiguous(a.in[0]) ||
        w.shape[1] != d.K || !w.is_contiguous() || !f32_contiguous(a.out))
      return false;
    if (a.in.size() > 2 && !f32_contiguous(a.in[2])) return false;  // the plain path says so
    d.parts[i] =
        DecodeLinear::Part{w.data, w.dtype, a.in.size() > 2 ? a.in[2].ptr<float>() : nullptr,
                           a.out.ptr<float>(), w.shape[0]};
  }
  return true;
}

// Whether `out` stays clear of what every block reads before anything is written: the staged
// input x and, with a norm, its weight.
bool clear_of_inputs(const TensorView& out, const TensorView& x, const KernelArgs* norm) {
  return !overlap(out, x) && !(norm && norm->in.size() > 1 && overlap(out, norm->in[1]));
}

// The RMSNorm whose output the linears read (at `linears_in`) as their staged input: its input
// must be the M rows of K the kernel stages, its weight (if any) F32 [K].
bool take_norm(const KernelArgs& norm, const void* linears_in, DecodeLinear& d) {
  const TensorView& x = norm.in[0];
  const TensorView* w = norm.in.size() > 1 ? &norm.in[1] : nullptr;
  if (!f32_contiguous(x) || x.numel() != d.M * d.K || x.shape.back() != d.K ||
      linears_in != norm.out.data || (w && (!f32_contiguous(*w) || w->numel() != d.K)))
    return false;
  d.input = LinearInput::RmsNorm;
  d.x = x.ptr<float>();
  d.norm_w = w ? w->ptr<float>() : nullptr;
  d.eps = norm.node.attrs.eps;
  d.offset = norm.node.attrs.offset_one ? 1.f : 0.f;
  return true;
}

// y = linear + r (the Add after it): r must be the whole other operand, y the add's output.
bool take_residual(const KernelArgs& linear, const KernelArgs& add, DecodeLinear& d) {
  const TensorView& r = add.in[0].data == linear.out.data ? add.in[1] : add.in[0];
  const TensorView& other = add.in[0].data == linear.out.data ? add.in[0] : add.in[1];
  if (other.data != linear.out.data || !f32_contiguous(r) || !f32_contiguous(add.out) ||
      r.numel() != linear.out.numel() || add.out.numel() != linear.out.numel())
    return false;
  // The output may be the residual itself (each element is read, then written by one thread),
  // but must not partly overlap it.
  if (overlap(add.out, r) && add.out.data != r.data) return false;
  d.residual = r.ptr<float>();
  d.parts[0].y = add.out.ptr<float>();
  return true;
}

bool launch(const DecodeLinear& d, Context& ctx) {
  if (!decode_linear_fits(d, ctx.shared_per_block_optin())) return false;
  launch_decode_linear(d, ctx.multiprocessors(), ctx.stream());
  return true;
}

}  // namespace

bool fused_linears(std::span<const KernelArgs> linears) {
  DecodeLinear d;
  if (!linear_parts(linears, d)) return false;
  d.x = linears[0].in[0].ptr<float>();
  return launch(d, linears[0].ctx);
}

bool fused_norm_linears(const KernelArgs& norm, std::span<const KernelArgs> linears) {
  DecodeLinear d;
  if (!linear_parts(linears, d) || !take_norm(norm, linears[0].in[0].data, d)) return false;
  for (const KernelArgs& a : linears)
    if (!clear_of_inputs(a.out, norm.in[0], &norm)) return false;
  return launch(d, norm.ctx);
}

bool fused_glu_linears(const KernelArgs* norm, std::span<const KernelArgs> gate_up,
                       const KernelArgs& silu, const KernelArgs& mul) {
  DecodeLinear d;
  if (gate_up.size() != 2 || !linear_parts(gate_up, d)) return false;
  const KernelArgs &gate = gate_up[0], &up = gate_up[1];
  const bool silu_first = mul.in[0].data == silu.out.data;
  const TensorView& other = silu_first ? mul.in[1] : mul.in[0];
  if (silu.in[0].data != gate.out.data || other.data != up.out.data ||
      (!silu_first && mul.in[1].data != silu.out.data) || !f32_contiguous(mul.out) ||
      mul.out.numel() != gate.out.numel() || up.out.numel() != gate.out.numel() ||
      silu.in[0].numel() != gate.out.numel())
    return false;
  const TensorView& x = norm ? norm->in[0] : gate.in[0];
  if (!clear_of_inputs(mul.out, x, norm)) return false;  // blocks write it while others stage x
  if (norm && !take_norm(*norm, gate.in[0].data, d)) return false;
  if (!norm) d.x = x.ptr<float>();
  d.glu_out = mul.out.ptr<float>();
  return launch(d, gate.ctx);
}

bool fused_linear_add(const KernelArgs& linear, const KernelArgs& add) {
  DecodeLinear d;
  if (!linear_parts(std::span<const KernelArgs>(&linear, 1), d)) return false;
  if (!take_residual(linear, add, d) || overlap(add.out, linear.in[0])) return false;
  d.x = linear.in[0].ptr<float>();
  return launch(d, linear.ctx);
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

bool fused_norm_rope(std::span<const KernelArgs* const> norms, std::span<const KernelArgs> ropes) {
  if (ropes.empty() || ropes.size() > 2 || norms.size() != ropes.size()) return false;
  const KernelArgs& r0 = ropes[0];
  const TensorView &pos = r0.in[1], &inv = r0.in[2];
  const auto& ra = r0.node.attrs;
  NormRope t[2];
  int64_t D = 0;
  for (size_t i = 0; i < ropes.size(); ++i) {
    const KernelArgs& r = ropes[i];
    const KernelArgs* n = norms[i];
    const TensorView& x = n ? n->in[0] : r.in[0];
    if (x.rank() != 4 || !f32_contiguous(x) || x.shape != r.out.shape || !f32_contiguous(r.out) ||
        x.shape[3] > 8192 ||
        (i > 0 && (x.shape[0] != ropes[0].out.shape[0] || x.shape[1] != ropes[0].out.shape[1] ||
                   x.shape[3] != D)))
      return false;
    if (n && r.in[0].data != n->out.data) return false;
    // A block stages its row before writing it, so y may be x itself, but not shifted into it.
    if (overlap(r.out, x) && r.out.data != x.data) return false;
    if (r.in[1].data != pos.data || r.in[2].data != inv.data ||
        r.node.attrs.rope_dims != ra.rope_dims || r.node.attrs.rope_style != ra.rope_style ||
        r.node.attrs.attn_factor != ra.attn_factor)
      return false;
    const TensorView* w = n && n->in.size() > 1 ? &n->in[1] : nullptr;
    if (w && !f32_contiguous(*w)) return false;
    D = x.shape[3];
    t[i] = NormRope{x.ptr<float>(),
                    w ? w->ptr<float>() : nullptr,
                    r.out.ptr<float>(),
                    x.shape[2],
                    n != nullptr,
                    n ? n->node.attrs.eps : 0.f,
                    n && n->node.attrs.offset_one ? 1.f : 0.f};
  }
  if (pos.dtype != DType::I32 || inv.dtype != DType::F32) return false;
  // Blocks of one tensor run beside the other's: neither output may overlap the other input.
  if (ropes.size() == 2) {
    const TensorView& x0 = norms[0] ? norms[0]->in[0] : ropes[0].in[0];
    const TensorView& x1 = norms[1] ? norms[1]->in[0] : ropes[1].in[0];
    if (overlap(ropes[0].out, x1) || overlap(ropes[1].out, x0)) return false;
  }
  const TensorView& out0 = ropes[0].out;
  launch_norm_rope(t, int(ropes.size()), pos.ptr<int32_t>(), inv.ptr<float>(), out0.shape[0],
                   out0.shape[1], D, ra.rope_dims, ra.rope_style == ir::RopeStyle::NeoX,
                   ra.attn_factor, r0.ctx.stream());
  return true;
}

}  // namespace rlx::cuda
