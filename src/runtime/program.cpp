#include "rlx/runtime/program.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "backends/cpu/kernel.h"
#include "rlx/core/error.h"
#include "rlx/core/log.h"
#include "runtime/op_profile.h"

namespace rlx {
namespace {

using ir::Graph;
using ir::Node;
using ir::OpKind;
using ir::ValueId;

constexpr int64_t kAlign = 64;

bool is_leaf(OpKind k) {
  return k == OpKind::Input || k == OpKind::Param || k == OpKind::State;
}

bool contiguous_layout(const Shape& shape, const Strides& strides) {
  int64_t expect = 1;
  for (int i = shape.rank() - 1; i >= 0; --i) {
    if (shape[i] != 1 && strides[i] != expect) return false;
    expect *= shape[i];
  }
  return true;
}

// Linear is split by weight type and by path (many activation rows take the GEMM).
std::string profile_key(const Node& n, const std::vector<TensorView>& ins) {
  std::string key = ir::op_name(n.op);
  if (n.op == OpKind::Linear && ins.size() > 1)
    key += std::string(" ") + dtype_name(ins[1].dtype) +
           (ins[0].numel() / ins[1].shape[1] >= 16 ? " M>=16" : " M<16");
  return key;
}

}  // namespace

Program Program::compile(const Graph& in, const CompileOptions& options) {
  const bool on_cpu = options.device.kind == Device::Kind::Cpu;
  if (!on_cpu) require_device(options.device);  // a clear error before any planning
  RLX_CHECK(options.precision == DType::F32 || options.precision == DType::F16 ||
                options.precision == DType::BF16,
            "precision {} is not supported (f32, f16 or bf16)", dtype_name(options.precision));
  RLX_CHECK(options.precision == DType::F32 || !on_cpu,
            "precision {} needs a CUDA device: the CPU computes in f32",
            dtype_name(options.precision));
  RLX_CHECK(!in.outputs.empty(), "cannot compile a graph without outputs");
  for (size_t i = 0; i < in.nodes.size(); ++i)
    for (ValueId x : in.nodes[i].inputs)
      RLX_ASSERT(x >= 0 && size_t(x) < i, "node %{} uses %{} before it is defined", i, x);

  Program p;
  p.pool_ = options.pool ? options.pool
                         : std::make_shared<ThreadPool>(
                               options.threads > 0 ? options.threads : physical_core_count());
  // 1. Liveness from outputs (and side-effecting nodes).
  std::vector<bool> live(in.nodes.size(), false);
  for (auto& [name, v] : in.outputs) live[size_t(v)] = true;
  for (size_t i = 0; i < in.nodes.size(); ++i)
    if (ir::op_info(in.nodes[i].op).has_side_effects ||
        (in.nodes[i].op == OpKind::Attention && in.nodes[i].attrs.has_cache))
      live[i] = true;
  for (size_t i = in.nodes.size(); i-- > 0;)
    if (live[i])
      for (ValueId x : in.nodes[i].inputs) live[size_t(x)] = true;

  // 2. Rewrite into the program's graph: resolve view layouts; insert copies where a kernel
  //    needs contiguous inputs. Leaves are always kept (bindings are checked by name).
  Graph& g = p.graph_;
  g.inputs.clear();
  std::vector<ValueId> remap(in.nodes.size(), -1);
  auto add_node = [&](Node n) {
    g.nodes.push_back(std::move(n));
    return ValueId(g.nodes.size() - 1);
  };
  std::vector<Layout>& L = p.layout_;
  auto contiguous_self = [&](ValueId v, int buffer) {
    Layout l;
    l.buffer = buffer;
    l.root = v;
    l.strides = contiguous_strides(g.nodes[size_t(v)].shape);
    return l;
  };
  for (size_t i = 0; i < in.nodes.size(); ++i) {
    const Node& src = in.nodes[i];
    if (!live[i] && !is_leaf(src.op)) continue;
    Node n = src;
    for (auto& x : n.inputs) x = remap[size_t(x)];
    const auto& info = ir::op_info(n.op);
    if (is_leaf(n.op)) {
      ValueId v = add_node(n);
      Layout l = contiguous_self(v, -1);
      if (n.op == OpKind::Param) {
        const TensorView& d = in.param_data.at(ValueId(i));
        l.strides = d.strides;
        l.contiguous = d.is_contiguous();
        g.param_data[v] = d;
        g.params[n.name] = v;
      } else if (n.op == OpKind::Input) {
        g.inputs[n.name] = v;
      } else {
        g.states[n.name] = v;
      }
      L.push_back(l);
      remap[i] = v;
      continue;
    }
    if (info.is_view) {
      const Layout& src_l = L[size_t(n.inputs[0])];
      const Shape& src_shape = g.nodes[size_t(n.inputs[0])].shape;
      Layout l = src_l;
      bool alias = true;
      if (n.op == OpKind::Reshape) {
        alias = src_l.contiguous;
        l.strides = contiguous_strides(n.shape);
      } else if (n.op == OpKind::Permute) {
        for (int d = 0; d < n.shape.rank(); ++d)
          l.strides[d] = src_l.strides[n.attrs.perm[size_t(d)]];
      } else {  // Slice
        int a = n.attrs.axis;
        l.offset += n.attrs.start * src_l.strides[a];
        l.strides[a] = src_l.strides[a] * n.attrs.step;
        if (is_quantized(n.dtype) && a == src_shape.rank() - 1) alias = false;
      }
      l.contiguous = contiguous_layout(n.shape, l.strides);
      if (alias) {
        ValueId v = add_node(n);
        L.push_back(l);
        remap[i] = v;
        continue;
      }
      // Not expressible as a view: materialize with a strided copy into a fresh buffer.
      RLX_CHECK(!is_quantized(n.dtype), "cannot copy a {} tensor", dtype_name(n.dtype));
      n.op = OpKind::Copy;
    }
    if (!ir::op_info(n.op).elementwise) {
      for (size_t k = 0; k < n.inputs.size(); ++k) {
        ValueId x = n.inputs[k];
        const Node& xn = g.nodes[size_t(x)];
        if (L[size_t(x)].contiguous) continue;
        RLX_CHECK(xn.op != OpKind::State && xn.op != OpKind::Param,
                  "{} input {} ('{}') must be contiguous", ir::op_name(n.op), k, xn.name);
        Node c{OpKind::Copy, {x}, {}, xn.dtype, xn.shape, ""};
        ValueId cv = add_node(c);
        L.push_back(contiguous_self(cv, 0));
        p.steps_.push_back(cv);
        n.inputs[k] = cv;
      }
    }
    ValueId v = add_node(n);
    L.push_back(contiguous_self(v, 0));
    p.steps_.push_back(v);
    remap[i] = v;
  }
  for (auto& [name, v] : in.outputs) g.outputs[name] = remap[size_t(v)];

  // 3. Check that a kernel exists for every step (device kernels: in prepare_device).
  const auto& reg = cpu::cpu_kernels();
  if (on_cpu)
    for (ValueId v : p.steps_)
      RLX_CHECK(reg.find(g.nodes[size_t(v)].op) != nullptr, "no CPU kernel for op {}",
                ir::op_name(g.nodes[size_t(v)].op));

  // 4. Buffer lifetimes (in step indices) and greedy best-offset placement.
  std::vector<int> step_of(g.nodes.size(), -1);
  for (size_t s = 0; s < p.steps_.size(); ++s) step_of[size_t(p.steps_[s])] = int(s);
  std::vector<int> last_use(g.nodes.size(), -1);
  for (size_t s = 0; s < p.steps_.size(); ++s)
    for (ValueId x : g.nodes[size_t(p.steps_[s])].inputs) {
      ValueId root = L[size_t(x)].root;
      last_use[size_t(root)] = std::max(last_use[size_t(root)], int(s));
    }
  for (auto& [name, v] : g.outputs) last_use[size_t(L[size_t(v)].root)] = int(p.steps_.size());
  // An elementwise step may write over an input that dies at that step (same size and dtype,
  // the whole contiguous buffer): each element is read before it is written at the same index.
  // SiLU(gate) and gate·up then share gate's memory instead of holding three FFN-wide buffers.
  std::vector<ValueId> share(g.nodes.size(), -1);  // value -> the buffer it writes over
  auto owner = [&](ValueId v) {
    while (share[size_t(v)] >= 0) v = share[size_t(v)];
    return v;
  };
  for (size_t s = 0; s < p.steps_.size(); ++s) {
    const ValueId v = p.steps_[s];
    const Node& n = g.nodes[size_t(v)];
    if (!ir::op_info(n.op).elementwise || n.op == OpKind::Copy || n.op == OpKind::Cast) continue;
    for (ValueId x : n.inputs) {
      const ValueId root = L[size_t(x)].root;
      const Node& xn = g.nodes[size_t(x)];
      const bool whole = x == root && L[size_t(x)].offset == 0 && L[size_t(x)].contiguous &&
                         xn.dtype == n.dtype && xn.shape.numel() == n.shape.numel();
      if (!whole || step_of[size_t(root)] < 0 || last_use[size_t(root)] != int(s)) continue;
      bool other_view = false;  // another input reading the same memory differently
      for (ValueId y : n.inputs) other_view |= y != x && L[size_t(y)].root == root;
      if (other_view) continue;
      share[size_t(v)] = root;
      break;
    }
  }
  struct Buf {
    ValueId v;
    int64_t bytes;
    int begin, end;
  };
  std::vector<Buf> bufs;
  std::vector<int> buf_of(g.nodes.size(), -1);
  for (ValueId v : p.steps_) {
    const Node& n = g.nodes[size_t(v)];
    const int end = std::max(last_use[size_t(v)], step_of[size_t(v)]);
    if (share[size_t(v)] >= 0) {  // extends the lifetime of the buffer it writes over
      Buf& b = bufs[size_t(buf_of[size_t(owner(v))])];
      b.end = std::max(b.end, end);
      continue;
    }
    int64_t bytes = (dtype_bytes(n.dtype, n.shape.numel()) + kAlign - 1) / kAlign * kAlign;
    buf_of[size_t(v)] = int(bufs.size());
    bufs.push_back({v, std::max<int64_t>(bytes, kAlign), step_of[size_t(v)], end});
  }
  std::vector<size_t> by_size(bufs.size());
  for (size_t i = 0; i < bufs.size(); ++i) by_size[i] = i;
  std::stable_sort(by_size.begin(), by_size.end(),
                   [&](size_t a, size_t b) { return bufs[a].bytes > bufs[b].bytes; });
  p.buffer_offset_.assign(g.nodes.size(), -1);
  std::vector<size_t> placed;
  for (size_t bi : by_size) {
    const Buf& b = bufs[bi];
    std::vector<std::pair<int64_t, int64_t>> busy;
    for (size_t pj : placed) {
      const Buf& o = bufs[pj];
      if (o.begin <= b.end && b.begin <= o.end)
        busy.push_back({p.buffer_offset_[size_t(o.v)], p.buffer_offset_[size_t(o.v)] + o.bytes});
    }
    std::sort(busy.begin(), busy.end());
    int64_t off = 0;
    for (auto& [s, e] : busy) {
      if (off + b.bytes <= s) break;
      off = std::max(off, e);
    }
    p.buffer_offset_[size_t(b.v)] = off;
    p.arena_bytes_ = std::max(p.arena_bytes_, off + b.bytes);
    placed.push_back(bi);
  }
  for (ValueId v : p.steps_)
    if (share[size_t(v)] >= 0) p.buffer_offset_[size_t(v)] = p.buffer_offset_[size_t(owner(v))];
  if (!on_cpu) {
    p.prepare_device(options);
  } else if (p.arena_bytes_ > 0) {
    void* mem = std::aligned_alloc(kAlign, size_t(p.arena_bytes_));
    RLX_CHECK(mem != nullptr, "out of memory: the activation arena needs {} bytes", p.arena_bytes_);
    p.arena_ = std::shared_ptr<void>(mem, std::free);
  }
  log_debug("compiled graph: {} nodes, {} kernel steps, arena {} bytes", in.nodes.size(),
            p.steps_.size(), p.arena_bytes_);
  return p;
}

TensorView Program::view_of(ValueId v, const std::vector<void*>& bases) const {
  const Layout& l = layout_[size_t(v)];
  const Node& n = graph_.nodes[size_t(v)];
  char* base = static_cast<char*>(bases[size_t(l.root)]);
  return TensorView(base + dtype_bytes(n.dtype, l.offset), n.dtype, n.shape, l.strides);
}

void Program::bind(const std::map<std::string, ValueId>& decl,
                   const std::map<std::string, TensorView>& given, const char* what,
                   std::vector<void*>& bases) const {
  for (auto& [name, v] : decl) {
    auto it = given.find(name);
    RLX_CHECK(it != given.end(), "missing {} '{}'", what, name);
    const Node& n = graph_.nodes[size_t(v)];
    const TensorView& t = it->second;
    RLX_CHECK(t.dtype == n.dtype && t.shape == n.shape && t.is_contiguous(),
              "{} '{}' must be a contiguous {} {} tensor, got {} {}", what, name,
              dtype_name(n.dtype), n.shape.str(), dtype_name(t.dtype), t.shape.str());
    bases[size_t(v)] = t.data;
  }
  for (auto& [name, t] : given) RLX_CHECK(decl.count(name), "unknown {} '{}'", what, name);
}

std::map<std::string, Tensor> Program::run(const std::map<std::string, TensorView>& inputs,
                                           const std::map<std::string, TensorView>& states) {
  const Graph& g = graph_;
  std::vector<void*> bases(g.nodes.size(), nullptr);
  bind(g.inputs, inputs, "input", bases);
  bind(g.states, states, "state", bases);
  if (device_) return run_device(bases);
  for (auto& [v, d] : g.param_data) bases[size_t(v)] = d.data;
  char* arena = static_cast<char*>(arena_.get());
  for (ValueId v : steps_) bases[size_t(v)] = arena + buffer_offset_[size_t(v)];

  const auto& reg = cpu::cpu_kernels();
  std::vector<TensorView> ins;
  for (ValueId v : steps_) {
    const Node& n = g.nodes[size_t(v)];
    ins.clear();
    for (ValueId x : n.inputs) ins.push_back(view_of(x, bases));
    TensorView out = view_of(v, bases);
    if (!OpProfile::enabled(OpProfile::Table::Cpu)) {
      reg.find(n.op)(cpu::KernelArgs{n, ins, out, *pool_});
      continue;
    }
    const auto t0 = std::chrono::steady_clock::now();
    reg.find(n.op)(cpu::KernelArgs{n, ins, out, *pool_});
    OpProfile::add(OpProfile::Table::Cpu, profile_key(n, ins),
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::map<std::string, Tensor> outs;
  for (auto& [name, v] : g.outputs) outs[name] = contiguous_copy(view_of(v, bases));
  return outs;
}

Program& ProgramCache::get(const std::string& key, const std::function<ir::Graph()>& build) {
  auto it = programs_.find(key);
  if (it != programs_.end()) return *it->second;
  if (!options_.pool)
    options_.pool = std::make_shared<ThreadPool>(options_.threads > 0 ? options_.threads
                                                                      : physical_core_count());
  auto prog = std::make_unique<Program>(Program::compile(build(), options_));
  return *programs_.emplace(key, std::move(prog)).first->second;
}

}  // namespace rlx
