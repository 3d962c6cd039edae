// Host side of every CUDA kernel but the GEMMs: checks dtypes, unpacks shapes and strides,
// launches (launch.h). Semantics follow the CPU kernels in src/backends/cpu exactly.
#include "backends/cuda/kernel.h"
#include "backends/cuda/launch.h"
#include "rlx/core/error.h"

namespace rlx::cuda {
namespace {

using ir::OpKind;

Layout layout_of(const TensorView& v) {
  Layout l;
  l.rank = v.rank();
  for (int i = 0; i < v.rank(); ++i) l.shape[i] = v.shape[i], l.stride[i] = v.strides[i];
  return l;
}

// v's strides broadcast to `shape` (0 on broadcast axes; v's rank may be smaller).
Layout broadcast_layout(const TensorView& v, const Shape& shape) {
  Layout l;
  l.rank = shape.rank();
  const int off = shape.rank() - v.rank();
  for (int i = 0; i < shape.rank(); ++i) {
    l.shape[i] = shape[i];
    const int j = i - off;
    l.stride[i] = j < 0 || v.shape[j] == 1 ? 0 : v.strides[j];
  }
  return l;
}

void need_f32(const KernelArgs& a) {
  for (const TensorView& x : a.in)
    RLX_CHECK(x.dtype == DType::F32, "{} supports F32 only on CUDA (got {})",
              ir::op_name(a.node.op), dtype_name(x.dtype));
}

void k_binary(const KernelArgs& a) {
  need_f32(a);
  static constexpr Binary kOps[] = {Binary::Add, Binary::Sub, Binary::Mul, Binary::Div};
  const Binary op = kOps[int(a.node.op) - int(OpKind::Add)];
  launch_binary(op, a.in[0].ptr<float>(), broadcast_layout(a.in[0], a.out.shape),
                a.in[1].ptr<float>(), broadcast_layout(a.in[1], a.out.shape), a.out.ptr<float>(),
                a.out.numel(), a.ctx.stream());
}

void k_unary(const KernelArgs& a) {
  need_f32(a);
  const Unary op = Unary(int(a.node.op) - int(OpKind::Scale));
  const auto& at = a.node.attrs;
  const float p0 = op == Unary::Pow ? at.exponent : at.scale;
  launch_unary(op, a.in[0].ptr<float>(), layout_of(a.in[0]), a.out.ptr<float>(), a.out.numel(), p0,
               at.bias, a.ctx.stream());
}

bool castable(DType t) {
  switch (t) {
    case DType::F32:
    case DType::F16:
    case DType::BF16:
    case DType::F64:
    case DType::I32:
    case DType::I64:
    case DType::I8:
    case DType::U8:
    case DType::Bool:
      return true;
    default:
      return false;
  }
}

void k_cast(const KernelArgs& a) {
  const TensorView& x = a.in[0];
  RLX_CHECK(castable(x.dtype) && castable(a.out.dtype), "cast from {} to {} is not supported",
            dtype_name(x.dtype), dtype_name(a.out.dtype));
  launch_cast(x.data, x.dtype, layout_of(x), a.out.data, a.out.dtype, a.out.numel(),
              a.ctx.stream());
}

// Copies in row-major order of the input's shape (the output may be a reshape of it).
void k_copy(const KernelArgs& a) {
  const TensorView& x = a.in[0];
  RLX_CHECK(!is_quantized(x.dtype), "cannot copy a {} tensor on CUDA", dtype_name(x.dtype));
  launch_copy(x.data, layout_of(x), element_size(x.dtype), a.out.data, x.numel(), a.ctx.stream());
}

void k_concat(const KernelArgs& a) {
  const int axis = a.node.attrs.axis;
  int64_t outer, inner;
  split_axis(a.out.shape, axis, outer, inner);
  const int64_t es = element_size(a.out.dtype), out_inner = a.out.shape[axis] * inner;
  int64_t at = 0;
  for (const TensorView& x : a.in) {
    const int64_t part = x.shape[axis] * inner;
    launch_concat_part(x.data, outer, part, a.out.data, out_inner, at, es, a.ctx.stream());
    at += part;
  }
}

void k_pad(const KernelArgs& a) {
  const auto& at = a.node.attrs;
  const TensorView& x = a.in[0];
  int64_t outer, inner;
  split_axis(x.shape, at.axis, outer, inner);
  launch_pad(x.data, outer, x.shape[at.axis], inner, a.out.data, a.out.shape[at.axis],
             at.pad_before, at.pad_mode == ir::PadMode::Reflect, element_size(x.dtype),
             a.ctx.stream());
}

void k_embedding(const KernelArgs& a) {
  const TensorView &table = a.in[0], &ids = a.in[1];
  RLX_CHECK(ids.dtype == DType::I32 || ids.dtype == DType::I64,
            "embedding ids must be I32 or I64 (got {})", dtype_name(ids.dtype));
  if (native_quant(table.dtype)) {  // quantized table: the gathered rows dequantized
    launch_embedding_quant(table.data, table.dtype, table.shape[0], table.shape[1], ids.data,
                           ids.dtype == DType::I64, ids.numel(), a.out.ptr<float>(),
                           a.ctx.error_flag(), a.ctx.stream());
    return;
  }
  RLX_CHECK(table.dtype == DType::F32 || table.dtype == DType::F16 || table.dtype == DType::BF16,
            "embedding table type {} is not supported on CUDA", dtype_name(table.dtype));
  launch_embedding(table.data, table.dtype, table.shape[0], table.shape[1], ids.data,
                   ids.dtype == DType::I64, ids.numel(), a.out.ptr<float>(), a.ctx.error_flag(),
                   a.ctx.stream());
}

const float* optional_f32(const KernelArgs& a, size_t i) {
  return a.in.size() > i ? a.in[i].ptr<float>() : nullptr;
}

void k_rms_norm(const KernelArgs& a) {
  need_f32(a);
  const int64_t D = a.out.shape.back();
  launch_rms_norm(a.in[0].ptr<float>(), optional_f32(a, 1), a.out.ptr<float>(), a.out.numel() / D,
                  D, a.node.attrs.eps, a.node.attrs.offset_one ? 1.f : 0.f, a.ctx.stream());
}

void k_layer_norm(const KernelArgs& a) {
  need_f32(a);
  const int64_t D = a.out.shape.back();
  launch_layer_norm(a.in[0].ptr<float>(), optional_f32(a, 1), optional_f32(a, 2),
                    a.out.ptr<float>(), a.out.numel() / D, D, a.node.attrs.eps, a.ctx.stream());
}

void k_softmax(const KernelArgs& a) {
  need_f32(a);
  const int64_t D = a.out.shape.back();
  launch_softmax(a.in[0].ptr<float>(), a.out.ptr<float>(), a.out.numel() / D, D, a.node.attrs.scale,
                 a.node.attrs.softcap, a.ctx.stream());
}

void k_rope(const KernelArgs& a) {
  const TensorView& x = a.in[0];
  RLX_CHECK(x.dtype == DType::F32 && a.in[1].dtype == DType::I32 && a.in[2].dtype == DType::F32,
            "rope on CUDA needs F32 x, I32 positions and F32 inv_freq");
  const auto& at = a.node.attrs;
  launch_rope(x.ptr<float>(), a.in[1].ptr<int32_t>(), a.in[2].ptr<float>(), a.out.ptr<float>(),
              x.shape[0], x.shape[1], x.shape[2], x.shape[3], at.rope_dims,
              at.rope_style == ir::RopeStyle::NeoX, at.attn_factor, a.ctx.stream());
}

void k_attention(const KernelArgs& a) {
  const auto& at = a.node.attrs;
  const TensorView &q = a.in[0], &k = a.in[1], &v = a.in[2];
  RLX_CHECK(q.dtype == DType::F32 && k.dtype == DType::F32 && v.dtype == DType::F32,
            "attention on CUDA needs F32 q, k, v");
  AttentionArgs p{};
  p.q = q.ptr<float>();
  p.B = q.shape[0], p.Tq = q.shape[1], p.Hq = q.shape[2], p.D = q.shape[3];
  p.Tk = k.shape[1], p.Hkv = k.shape[2], p.Dv = v.shape[3];
  p.k = k.data, p.v = v.data, p.kv_f16 = false;
  p.k_bs = p.Tk * p.Hkv * p.D, p.k_hs = p.D, p.k_js = p.Hkv * p.D;
  p.v_bs = p.Tk * p.Hkv * p.Dv, p.v_hs = p.Dv, p.v_js = p.Hkv * p.Dv;
  p.n_keys = p.Tk;
  p.mask = int(at.mask), p.window = at.window, p.scale = at.scale, p.softcap = at.softcap;
  p.out = a.out.ptr<float>();
  p.err = a.ctx.error_flag();
  size_t next = 3;
  if (at.has_cache) {
    const TensorView &kc = a.in[3], &vc = a.in[4];
    RLX_CHECK(kc.dtype == vc.dtype && (kc.dtype == DType::F32 || kc.dtype == DType::F16),
              "KV cache on CUDA must be F32 or F16 (got {})", dtype_name(kc.dtype));
    const int64_t S = kc.shape[2];
    const bool f16 = kc.dtype == DType::F16;
    p.kv_pos = a.in[5].ptr<int32_t>();
    p.cache_len = S;
    if (a.ctx.fast_kernels() && !at.has_key_mask) {  // decode: the split kernel writes the rows
      const DecodeAttentionPlan plan = plan_attention_decode(p, a.ctx.multiprocessors());
      if (plan.splits > 0) {
        const DecodeExtra e{a.ctx.counters(), k.ptr<float>(), v.ptr<float>(), kc.data, vc.data};
        p.k = kc.data, p.v = vc.data, p.kv_f16 = f16;
        p.k_bs = p.Hkv * S * p.D, p.k_hs = S * p.D, p.k_js = p.D;
        p.v_bs = p.Hkv * S * p.Dv, p.v_hs = S * p.Dv, p.v_js = p.Dv;
        launch_attention_decode(p, plan, e, a.ctx.scratch(plan.bytes), a.ctx.stream());
        return;
      }
    }
    launch_cache_write(k.ptr<float>(), v.ptr<float>(), kc.data, vc.data, f16, p.B, p.Tk, p.Hkv, S,
                       p.D, p.Dv, p.kv_pos, p.err, a.ctx.stream());
    p.k = kc.data, p.v = vc.data, p.kv_f16 = f16, p.cache_len = S;
    p.k_bs = p.Hkv * S * p.D, p.k_hs = S * p.D, p.k_js = p.D;
    p.v_bs = p.Hkv * S * p.Dv, p.v_hs = S * p.Dv, p.v_js = p.Dv;
    next = 6;
  }
  if (at.has_key_mask) {
    const TensorView& m = a.in[next];
    RLX_CHECK(castable(m.dtype), "attention key mask type {} is not supported",
              dtype_name(m.dtype));
    p.key_mask = m.data, p.key_mask_type = m.dtype, p.mask_cols = m.shape.back();
  }
  if (a.ctx.fast_kernels()) {  // few queries per KV head: split the keys (decode)
    const DecodeAttentionPlan plan = plan_attention_decode(p, a.ctx.multiprocessors());
    if (plan.splits > 0) {
      launch_attention_decode(p, plan, DecodeExtra{a.ctx.counters()}, a.ctx.scratch(plan.bytes),
                              a.ctx.stream());
      return;
    }
  }
  launch_attention(p, a.ctx.stream());
}

void reduce_dims(const KernelArgs& a, int64_t& outer, int64_t& n, int64_t& inner) {
  const TensorView& x = a.in[0];
  const int axis = a.node.attrs.axis;
  split_axis(x.shape, axis, outer, inner);
  n = x.shape[axis];
}

void k_reduce(const KernelArgs& a) {
  need_f32(a);
  int64_t outer, n, inner;
  reduce_dims(a, outer, n, inner);
  const Reduce op = a.node.op == OpKind::ReduceSum    ? Reduce::Sum
                    : a.node.op == OpKind::ReduceMean ? Reduce::Mean
                                                      : Reduce::Max;
  launch_reduce(op, a.in[0].ptr<float>(), a.out.ptr<float>(), outer, n, inner, a.ctx.stream());
}

void k_argmax(const KernelArgs& a) {
  need_f32(a);
  int64_t outer, n, inner;
  reduce_dims(a, outer, n, inner);
  launch_argmax(a.in[0].ptr<float>(), a.out.ptr<int32_t>(), outer, n, inner, a.ctx.stream());
}

void k_conv1d(const KernelArgs& a) {
  need_f32(a);
  const auto& at = a.node.attrs;
  const TensorView &x = a.in[0], &w = a.in[1];
  launch_conv1d(x.ptr<float>(), w.ptr<float>(), optional_f32(a, 2), a.out.ptr<float>(), x.shape[0],
                x.shape[1], x.shape[2], w.shape[0], w.shape[2], a.out.shape[2], at.stride,
                at.padding, at.dilation, at.groups, a.ctx.stream());
}

}  // namespace

void register_basic_kernels(KernelRegistry& r) {
  for (auto op : ir::kBinaryOps) r.add(op, k_binary);
  for (auto op : ir::kUnaryOps) r.add(op, k_unary);
  r.add(OpKind::Cast, k_cast);
  r.add(OpKind::Copy, k_copy);
  r.add(OpKind::Reshape, k_copy);  // only reached when the reshape could not be a view
  r.add(OpKind::Concat, k_concat);
  r.add(OpKind::Pad, k_pad);
  r.add(OpKind::Embedding, k_embedding);
  r.add(OpKind::RmsNorm, k_rms_norm);
  r.add(OpKind::LayerNorm, k_layer_norm);
  r.add(OpKind::Softmax, k_softmax);
  r.add(OpKind::Rope, k_rope);
  r.add(OpKind::Attention, k_attention);
  r.add(OpKind::ReduceSum, k_reduce);
  r.add(OpKind::ReduceMean, k_reduce);
  r.add(OpKind::ReduceMax, k_reduce);
  r.add(OpKind::Argmax, k_argmax);
  r.add(OpKind::Conv1d, k_conv1d);
}

}  // namespace rlx::cuda
