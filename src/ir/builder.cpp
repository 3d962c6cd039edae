// Shape and dtype inference for every op, checked as nodes are added.
#include "rlx/ir/builder.h"

#include <algorithm>
#include <functional>

#include "rlx/core/error.h"

namespace rlx::ir {

const Shape& Value::shape() const {
  return b_->node(*this).shape;
}
DType Value::dtype() const {
  return b_->node(*this).dtype;
}

namespace {
bool is_int(DType t) {
  return t == DType::I32 || t == DType::I64;
}
}  // namespace

void GraphBuilder::shape_error(OpKind op, const std::vector<Value>& ins,
                               const std::string& why) const {
  std::string shapes;
  for (auto& v : ins)
    shapes +=
        fmt::format("{}{} {}", shapes.empty() ? "" : ", ", v.shape().str(), dtype_name(v.dtype()));
  fail("{}: {} (inputs: {})", op_name(op), why, shapes);
}

Value GraphBuilder::add_node(Node n) {
  g_.nodes.push_back(std::move(n));
  return Value(this, ValueId(g_.nodes.size() - 1));
}

Value GraphBuilder::input(const std::string& name, DType dtype, const Shape& shape) {
  RLX_CHECK(!g_.inputs.count(name), "graph input '{}' declared twice", name);
  Value v = add_node({OpKind::Input, {}, {}, dtype, shape, name});
  g_.inputs[name] = v.id();
  return v;
}

Value GraphBuilder::param(const std::string& name, const TensorView& data) {
  auto it = g_.params.find(name);
  if (it != g_.params.end()) return Value(this, it->second);  // same weight used twice (tied)
  Value v = add_node({OpKind::Param, {}, {}, data.dtype, data.shape, name});
  g_.params[name] = v.id();
  g_.param_data[v.id()] = data;
  return v;
}

Value GraphBuilder::state(const std::string& name, DType dtype, const Shape& shape) {
  RLX_CHECK(!g_.states.count(name), "graph state '{}' declared twice", name);
  Value v = add_node({OpKind::State, {}, {}, dtype, shape, name});
  g_.states[name] = v.id();
  return v;
}

void GraphBuilder::output(const std::string& name, Value v) {
  RLX_CHECK(!g_.outputs.count(name), "graph output '{}' declared twice", name);
  g_.outputs[name] = v.id();
}

Value GraphBuilder::embedding(Value table, Value ids, const std::string& name) {
  if (table.rank() != 2 || !is_int(ids.dtype()))
    shape_error(OpKind::Embedding, {table, ids}, "expects a [vocab, dim] table and integer ids");
  Shape s = ids.shape();
  s.push_back(table.dim(1));
  Node n{OpKind::Embedding, {table.id(), ids.id()}, {}, DType::F32, s, name};
  return add_node(std::move(n));
}

Value GraphBuilder::linear(Value x, Value w, std::optional<Value> bias, const std::string& name) {
  std::vector<Value> ins = {x, w};
  if (bias) ins.push_back(*bias);
  if (w.rank() != 2 || x.rank() < 1 || x.dim(-1) != w.dim(1))
    shape_error(OpKind::Linear, ins, "expects x [..., K] and W [N, K]");
  if (bias && (bias->rank() != 1 || bias->dim(0) != w.dim(0)))
    shape_error(OpKind::Linear, ins, "bias must be [N]");
  if (x.dtype() != DType::F32) shape_error(OpKind::Linear, ins, "activations must be F32");
  Shape s = x.shape();
  s[s.rank() - 1] = w.dim(0);
  Node n{OpKind::Linear, {x.id(), w.id()}, {}, DType::F32, s, name};
  if (bias) n.inputs.push_back(bias->id());
  return add_node(std::move(n));
}

Value GraphBuilder::matmul(Value a, Value b, bool transpose_b) {
  if (a.rank() < 2 || b.rank() < 2) shape_error(OpKind::MatMul, {a, b}, "needs rank >= 2");
  int64_t k_b = transpose_b ? b.dim(-1) : b.dim(-2);
  int64_t n_b = transpose_b ? b.dim(-2) : b.dim(-1);
  if (a.dim(-1) != k_b) shape_error(OpKind::MatMul, {a, b}, "inner dimensions differ");
  if (b.rank() != 2 && b.rank() != a.rank())
    shape_error(OpKind::MatMul, {a, b}, "b must be 2-D or have a's rank");
  if (b.rank() == a.rank())
    for (int i = 0; i < a.rank() - 2; ++i)
      if (a.dim(i) != b.dim(i)) shape_error(OpKind::MatMul, {a, b}, "batch dimensions differ");
  Shape s = a.shape();
  s[s.rank() - 1] = n_b;
  Node n{OpKind::MatMul, {a.id(), b.id()}, {}, DType::F32, s, ""};
  n.attrs.transpose_b = transpose_b;
  return add_node(std::move(n));
}

Value GraphBuilder::binary(OpKind op, Value a, Value b) {
  if (a.dtype() != b.dtype()) shape_error(op, {a, b}, "dtypes differ");
  int r = std::max(a.rank(), b.rank());
  Shape s = Dims::filled(r, 1);
  for (int i = 0; i < r; ++i) {
    int ia = i - (r - a.rank()), ib = i - (r - b.rank());
    int64_t da = ia >= 0 ? a.shape()[ia] : 1, db = ib >= 0 ? b.shape()[ib] : 1;
    if (da != db && da != 1 && db != 1) shape_error(op, {a, b}, "shapes do not broadcast");
    s[i] = da == 1 ? db : da;
  }
  return add_node({op, {a.id(), b.id()}, {}, a.dtype(), s, ""});
}

Value GraphBuilder::add(Value a, Value b) {
  return binary(OpKind::Add, a, b);
}
Value GraphBuilder::sub(Value a, Value b) {
  return binary(OpKind::Sub, a, b);
}
Value GraphBuilder::mul(Value a, Value b) {
  return binary(OpKind::Mul, a, b);
}
Value GraphBuilder::div(Value a, Value b) {
  return binary(OpKind::Div, a, b);
}

Value GraphBuilder::scale(Value x, float scale, float bias) {
  Node n{OpKind::Scale, {x.id()}, {}, x.dtype(), x.shape(), ""};
  n.attrs.scale = scale;
  n.attrs.bias = bias;
  return add_node(std::move(n));
}

Value GraphBuilder::unary(OpKind op, Value x) {
  if (x.dtype() != DType::F32) shape_error(op, {x}, "expects F32");
  return add_node({op, {x.id()}, {}, x.dtype(), x.shape(), ""});
}

Value GraphBuilder::pow(Value x, float exponent) {
  Value v = unary(OpKind::Pow, x);
  g_.nodes[size_t(v.id())].attrs.exponent = exponent;
  return v;
}

Value GraphBuilder::rms_norm(Value x, std::optional<Value> w, float eps, bool offset_one,
                             const std::string& name) {
  std::vector<Value> ins = {x};
  if (w) ins.push_back(*w);
  if (x.dtype() != DType::F32) shape_error(OpKind::RmsNorm, ins, "expects F32 input");
  if (w && (w->rank() != 1 || w->dim(0) != x.dim(-1) || w->dtype() != DType::F32))
    shape_error(OpKind::RmsNorm, ins, "weight must be F32 [last dim]");
  Node n{OpKind::RmsNorm, {x.id()}, {}, DType::F32, x.shape(), name};
  if (w) n.inputs.push_back(w->id());
  n.attrs.eps = eps;
  n.attrs.offset_one = offset_one;
  return add_node(std::move(n));
}

Value GraphBuilder::layer_norm(Value x, std::optional<Value> w, std::optional<Value> b, float eps,
                               const std::string& name) {
  std::vector<Value> ins = {x};
  if (w) ins.push_back(*w);
  if (b) ins.push_back(*b);
  if (b && !w) shape_error(OpKind::LayerNorm, ins, "a bias needs a weight");
  for (size_t i = 1; i < ins.size(); ++i)
    if (ins[i].rank() != 1 || ins[i].dim(0) != x.dim(-1) || ins[i].dtype() != DType::F32)
      shape_error(OpKind::LayerNorm, ins, "weight and bias must be F32 [last dim]");
  Node n{OpKind::LayerNorm, {x.id()}, {}, DType::F32, x.shape(), name};
  for (size_t i = 1; i < ins.size(); ++i) n.inputs.push_back(ins[i].id());
  n.attrs.eps = eps;
  return add_node(std::move(n));
}

Value GraphBuilder::softmax(Value x, float scale, float softcap) {
  if (x.dtype() != DType::F32) shape_error(OpKind::Softmax, {x}, "expects F32");
  Node n{OpKind::Softmax, {x.id()}, {}, DType::F32, x.shape(), ""};
  n.attrs.scale = scale;
  n.attrs.softcap = softcap;
  return add_node(std::move(n));
}

Value GraphBuilder::rope(Value x, Value positions, Value inv_freq, RopeStyle style,
                         int64_t rope_dims, float attn_factor) {
  std::vector<Value> ins = {x, positions, inv_freq};
  if (x.rank() != 4) shape_error(OpKind::Rope, ins, "x must be [B, T, H, D]");
  int64_t d = x.dim(3), rd = rope_dims ? rope_dims : d;
  if (rd % 2 || rd > d) shape_error(OpKind::Rope, ins, "rotary dims must be even and <= head dim");
  if (positions.dtype() != DType::I32 || positions.rank() != 1 || positions.dim(0) != x.dim(1))
    shape_error(OpKind::Rope, ins, "positions must be int32 [T]");
  if (inv_freq.dtype() != DType::F32 || inv_freq.rank() != 1 || inv_freq.dim(0) != rd / 2)
    shape_error(OpKind::Rope, ins, "inv_freq must be F32 [rotary_dims / 2]");
  Node n{OpKind::Rope, {x.id(), positions.id(), inv_freq.id()}, {}, DType::F32, x.shape(), ""};
  n.attrs.rope_style = style;
  n.attrs.rope_dims = rd;
  n.attrs.attn_factor = attn_factor;
  return add_node(std::move(n));
}

namespace {
void check_qkv(GraphBuilder& b, Value q, Value k, Value v, const std::vector<Value>& ins,
               const std::function<void(const std::string&)>& err) {
  if (q.rank() != 4 || k.rank() != 4 || v.rank() != 4) err("q, k, v must be [B, T, H, D]");
  if (k.dim(0) != q.dim(0) || v.dim(0) != q.dim(0)) err("batch sizes differ");
  if (k.dim(3) != q.dim(3)) err("q and k head dims differ");
  if (k.dim(1) != v.dim(1) || k.dim(2) != v.dim(2)) err("k and v differ in length or heads");
  if (q.dim(2) % k.dim(2) != 0) err("query heads must be a multiple of kv heads (GQA)");
}
}  // namespace

Value GraphBuilder::attention(Value q, Value k, Value v, const AttentionOptions& opt) {
  std::vector<Value> ins = {q, k, v};
  check_qkv(*this, q, k, v, ins,
            [&](const std::string& w) { shape_error(OpKind::Attention, ins, w); });
  if (opt.mask != MaskKind::None && q.dim(1) > k.dim(1))
    shape_error(OpKind::Attention, ins, "causal attention needs Tq <= Tk");
  Shape s = q.shape();
  s[3] = v.dim(3);
  Node n{OpKind::Attention, {q.id(), k.id(), v.id()}, {}, DType::F32, s, ""};
  n.attrs.scale = opt.scale;
  n.attrs.softcap = opt.softcap;
  n.attrs.mask = opt.mask;
  n.attrs.window = opt.window;
  return add_node(std::move(n));
}

Value GraphBuilder::attention_cached(Value q, Value k, Value v, Value k_cache, Value v_cache,
                                     Value kv_pos, const AttentionOptions& opt) {
  std::vector<Value> ins = {q, k, v, k_cache, v_cache, kv_pos};
  auto err = [&](const std::string& w) { shape_error(OpKind::Attention, ins, w); };
  check_qkv(*this, q, k, v, ins, err);
  if (node(k_cache).op != OpKind::State || node(v_cache).op != OpKind::State)
    err("caches must be State values");
  if (k_cache.rank() != 4 || k_cache.dim(0) != q.dim(0) || k_cache.dim(1) != k.dim(2) ||
      k_cache.dim(3) != k.dim(3))
    err("k_cache must be [B, Hkv, S, D]");
  if (v_cache.rank() != 4 || v_cache.dim(1) != v.dim(2) || v_cache.dim(2) != k_cache.dim(2) ||
      v_cache.dim(3) != v.dim(3))
    err("v_cache must be [B, Hkv, S, Dv]");
  if (k_cache.dtype() != v_cache.dtype() ||
      (k_cache.dtype() != DType::F32 && k_cache.dtype() != DType::F16))
    err("caches must both be F32 or F16");
  if (kv_pos.dtype() != DType::I32 || kv_pos.shape().numel() != 1) err("kv_pos must be int32 [1]");
  if (q.dim(1) != k.dim(1)) err("with a cache, q and the new k/v cover the same tokens");
  Shape s = q.shape();
  s[3] = v.dim(3);
  Node n{OpKind::Attention,
         {q.id(), k.id(), v.id(), k_cache.id(), v_cache.id(), kv_pos.id()},
         {},
         DType::F32,
         s,
         ""};
  n.attrs.scale = opt.scale;
  n.attrs.softcap = opt.softcap;
  n.attrs.mask = opt.mask;
  n.attrs.window = opt.window;
  n.attrs.has_cache = true;
  return add_node(std::move(n));
}

Value GraphBuilder::attention_masked(Value q, Value k, Value v, Value key_mask,
                                     const AttentionOptions& opt) {
  std::vector<Value> ins = {q, k, v, key_mask};
  check_qkv(*this, q, k, v, ins,
            [&](const std::string& w) { shape_error(OpKind::Attention, ins, w); });
  if (key_mask.rank() != 2 || key_mask.dim(0) != q.dim(0) || key_mask.dim(1) != k.dim(1))
    shape_error(OpKind::Attention, ins, "key mask must be [B, Tk]");
  Value a = attention(q, k, v, opt);
  Node& n = g_.nodes[size_t(a.id())];
  n.inputs.push_back(key_mask.id());
  n.attrs.has_key_mask = true;
  return a;
}

Value GraphBuilder::reshape(Value x, const std::vector<int64_t>& shape) {
  Shape s;
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      if (infer >= 0) shape_error(OpKind::Reshape, {x}, "more than one -1");
      infer = int(i);
      s.push_back(1);
    } else {
      s.push_back(shape[i]);
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    if (known == 0 || x.shape().numel() % known)
      shape_error(OpKind::Reshape, {x}, "cannot infer -1 in " + s.str());
    s[infer] = x.shape().numel() / known;
  }
  if (s.numel() != x.shape().numel())
    shape_error(OpKind::Reshape, {x}, "element count differs from target " + s.str());
  Node n{OpKind::Reshape, {x.id()}, {}, x.dtype(), s, ""};
  n.attrs.shape = shape;
  return add_node(std::move(n));
}

Value GraphBuilder::permute(Value x, const std::vector<int>& perm) {
  if (int(perm.size()) != x.rank())
    shape_error(OpKind::Permute, {x}, "permutation has the wrong length");
  Shape s = x.shape();
  std::vector<bool> seen(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) {
    if (perm[i] < 0 || perm[i] >= x.rank() || seen[perm[i]])
      shape_error(OpKind::Permute, {x}, "invalid permutation");
    seen[perm[i]] = true;
    s[int(i)] = x.shape()[perm[i]];
  }
  Node n{OpKind::Permute, {x.id()}, {}, x.dtype(), s, ""};
  n.attrs.perm = perm;
  return add_node(std::move(n));
}

Value GraphBuilder::transpose(Value x, int a, int b) {
  std::vector<int> p(size_t(x.rank()));
  for (int i = 0; i < x.rank(); ++i) p[i] = i;
  std::swap(p[x.shape().norm_axis(a)], p[x.shape().norm_axis(b)]);
  return permute(x, p);
}

Value GraphBuilder::slice(Value x, int axis, int64_t start, int64_t stop, int64_t step) {
  int a = x.shape().norm_axis(axis);
  int64_t d = x.dim(a);
  if (step <= 0 || start < 0 || stop > d || start > stop)
    shape_error(OpKind::Slice, {x},
                fmt::format("bad slice [{}:{}:{}] of axis {} (size {})", start, stop, step, a, d));
  Shape s = x.shape();
  s[a] = (stop - start + step - 1) / step;
  Node n{OpKind::Slice, {x.id()}, {}, x.dtype(), s, ""};
  n.attrs.axis = a;
  n.attrs.start = start;
  n.attrs.stop = stop;
  n.attrs.step = step;
  return add_node(std::move(n));
}

Value GraphBuilder::concat(const std::vector<Value>& xs, int axis) {
  RLX_CHECK(!xs.empty(), "concat of no values");
  int a = xs[0].shape().norm_axis(axis);
  Shape s = xs[0].shape();
  s[a] = 0;
  Node n{OpKind::Concat, {}, {}, xs[0].dtype(), s, ""};
  for (auto& x : xs) {
    if (x.rank() != s.rank() || x.dtype() != xs[0].dtype())
      shape_error(OpKind::Concat, xs, "ranks or dtypes differ");
    for (int i = 0; i < s.rank(); ++i)
      if (i != a && x.dim(i) != xs[0].dim(i))
        shape_error(OpKind::Concat, xs, "non-concat dims differ");
    n.shape[a] += x.dim(a);
    n.inputs.push_back(x.id());
  }
  n.attrs.axis = a;
  return add_node(std::move(n));
}

Value GraphBuilder::pad(Value x, int axis, int64_t before, int64_t after, PadMode mode) {
  int a = x.shape().norm_axis(axis);
  if (before < 0 || after < 0) shape_error(OpKind::Pad, {x}, "negative padding");
  if (mode == PadMode::Reflect && (before >= x.dim(a) || after >= x.dim(a)))
    shape_error(OpKind::Pad, {x}, "reflect padding must be smaller than the axis");
  Shape s = x.shape();
  s[a] += before + after;
  Node n{OpKind::Pad, {x.id()}, {}, x.dtype(), s, ""};
  n.attrs.axis = a;
  n.attrs.pad_before = before;
  n.attrs.pad_after = after;
  n.attrs.pad_mode = mode;
  return add_node(std::move(n));
}

Value GraphBuilder::cast(Value x, DType dtype) {
  if (is_quantized(dtype) || is_quantized(x.dtype()))
    shape_error(OpKind::Cast, {x}, "cannot cast block types");
  Node n{OpKind::Cast, {x.id()}, {}, dtype, x.shape(), ""};
  n.attrs.dtype = dtype;
  return add_node(std::move(n));
}

Value GraphBuilder::copy(Value x) {
  return add_node({OpKind::Copy, {x.id()}, {}, x.dtype(), x.shape(), ""});
}

Value GraphBuilder::conv1d(Value x, Value w, std::optional<Value> bias, int64_t stride,
                           int64_t padding, int64_t dilation, int64_t groups) {
  std::vector<Value> ins = {x, w};
  if (bias) ins.push_back(*bias);
  auto err = [&](const std::string& why) { shape_error(OpKind::Conv1d, ins, why); };
  if (x.rank() != 3 || w.rank() != 3) err("expects x [B, Cin, L] and w [Cout, Cin/groups, K]");
  if (groups < 1 || x.dim(1) % groups || w.dim(0) % groups || w.dim(1) != x.dim(1) / groups)
    err("channels do not match groups");
  if (bias && (bias->rank() != 1 || bias->dim(0) != w.dim(0))) err("bias must be [Cout]");
  if (stride < 1 || dilation < 1 || padding < 0) err("bad stride/dilation/padding");
  int64_t lout = (x.dim(2) + 2 * padding - dilation * (w.dim(2) - 1) - 1) / stride + 1;
  if (lout <= 0) err("input too short for the kernel");
  Node n{OpKind::Conv1d, {x.id(), w.id()}, {}, DType::F32, {x.dim(0), w.dim(0), lout}, ""};
  if (bias) n.inputs.push_back(bias->id());
  n.attrs.stride = stride;
  n.attrs.padding = padding;
  n.attrs.dilation = dilation;
  n.attrs.groups = groups;
  return add_node(std::move(n));
}

Value GraphBuilder::argmax(Value x, int axis) {
  int a = x.shape().norm_axis(axis);
  Shape s;
  for (int i = 0; i < x.rank(); ++i)
    if (i != a) s.push_back(x.dim(i));
  Node n{OpKind::Argmax, {x.id()}, {}, DType::I32, s, ""};
  n.attrs.axis = a;
  return add_node(std::move(n));
}

Value GraphBuilder::reduce(OpKind op, Value x, int axis, bool keepdim) {
  RLX_ASSERT(op == OpKind::ReduceSum || op == OpKind::ReduceMean || op == OpKind::ReduceMax);
  int a = x.shape().norm_axis(axis);
  Shape s;
  for (int i = 0; i < x.rank(); ++i)
    if (i != a)
      s.push_back(x.dim(i));
    else if (keepdim)
      s.push_back(1);
  Node n{op, {x.id()}, {}, x.dtype(), s, ""};
  n.attrs.axis = a;
  n.attrs.keepdim = keepdim;
  return add_node(std::move(n));
}

}  // namespace rlx::ir
