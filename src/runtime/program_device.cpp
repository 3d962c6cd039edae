// Program on a device (CUDA): the same plan as on the CPU (liveness, views, copies, one
// arena), executed with device kernels. Parameters come from the context's weight cache
// (uploaded once, shared between programs), inputs are uploaded into a per-program buffer,
// States live in device mirrors, outputs are downloaded into host tensors.
#include <chrono>
#include <cstring>

#include "rlx/core/error.h"
#include "rlx/core/log.h"
#include "rlx/core/page_release.h"
#include "rlx/runtime/program.h"
#include "runtime/device_state.h"
#include "runtime/op_profile.h"

#ifdef RLX_HAS_CUDA
#include <span>
#include <string>
#include <vector>

#include "backends/cuda/check.h"
#include "backends/cuda/kernel.h"
#include "backends/cuda/launch.h"
#endif

namespace rlx {

#ifdef RLX_HAS_CUDA

struct Program::DeviceState {
  cuda::Context* ctx = nullptr;
  cuda::DeviceBuffer arena;
  cuda::DeviceBuffer inputs;                               // every input, packed
  std::map<ir::ValueId, int64_t> input_off;                // bytes into `inputs`
  std::vector<std::shared_ptr<const TensorView>> weights;  // kept alive for the cache
  std::vector<DType> storage;  // per value: the dtype its root holds on the device
  // The steps grouped into launches: a fused kind runs `count` consecutive steps in one kernel
  // when their operands fit at run time (one by one otherwise).
  enum class Fuse : uint8_t {
    None,
    Linears,
    NormLinears,
    Glu,
    NormGlu,
    LinearAdd,
    SiluMul,
    AddRmsNorm,
    RmsNormRope,
    QkNormRope,
    RopePair
  };
  struct Launch {
    size_t first;
    int count;
    Fuse kind;
  };
  std::vector<Launch> launches;
  // Pinned host staging: the packed inputs (one copy up per run), then the outputs when they
  // are small (one copy down each, at full speed, before the run's single synchronization).
  void* staging = nullptr;
  int64_t staging_out = -1;  // byte offset of the outputs in `staging`, -1: not staged
  // CUDA Graph of the kernel sequence: captured on the second run in a row that binds the
  // same addresses, replayed while they stay the same (per-token values such as positions and
  // kv_pos are inputs, read by the kernels from the device at run time).
  std::vector<uintptr_t> last_sig, graph_sig;
  cudaGraphExec_t graph = nullptr;
  bool graph_failed = false;  // capture did not work for this program: plain launches
  cudaEvent_t run_ev[2] = {nullptr, nullptr};  // RLX_CUDA_RUN_TIMING: around the launches

  ~DeviceState() {
    for (cudaEvent_t e : run_ev)
      if (e) cudaEventDestroy(e);
    if (graph) cudaGraphExecDestroy(graph);
    if (staging) cudaFreeHost(staging);
  }
};

void Program::require_device(const Device& device) {
  RLX_CHECK(device.kind == Device::Kind::Cuda, "device {} is not supported", device.str());
  cuda::context(device.index);  // throws "CUDA device N is not available: ..."
}

namespace {

// Groups consecutive steps that one fused kernel can run (see backends/cuda/fusion.cpp). With
// weights the decode linear kernel reads (16-bit or natively quantized): an RMSNorm and the
// linears of its output (q/k/v, lm_head), linears of one input, those with gate and up followed
// by SiLU(gate) · up, a linear plus the residual Add. Otherwise: SiLU·up, a
// residual Add and the RMSNorm of its sum, an RMSNorm whose only use is a RoPE (QK-norm; also
// norm q, norm k, rope q, rope k), two RoPEs of the same positions (q and k). Whether the
// operands fit is checked at launch; a group that does not runs step by step.
template <typename State>
void group_steps(const ir::Graph& g, const std::vector<ir::ValueId>& steps,
                 const std::vector<ir::ValueId>& root, State& d) {
  using ir::OpKind;
  using Fuse = typename State::Fuse;
  // Uses of each buffer by the steps (views count as uses of their root) and the outputs.
  std::vector<int> uses(g.nodes.size(), 0);
  for (ir::ValueId s : steps)
    for (ir::ValueId x : g.nodes[size_t(s)].inputs) ++uses[size_t(root[size_t(x)])];
  for (auto& [name, v] : g.outputs) uses[size_t(root[size_t(v)])] += 2;  // always written
  auto node = [&](size_t i) -> const ir::Node* {
    return i < steps.size() ? &g.nodes[size_t(steps[i])] : nullptr;
  };
  auto is = [&](size_t i, OpKind op) { return node(i) && node(i)->op == op; };
  auto input_of = [&](size_t i, ir::ValueId v) {  // step i reads v (directly)
    for (ir::ValueId x : node(i)->inputs)
      if (x == v) return true;
    return false;
  };
  auto decode_weight = [&](size_t i) {  // a linear the decode linear kernel can take
    if (!is(i, OpKind::Linear)) return false;
    const DType t = d.storage[size_t(root[size_t(node(i)->inputs[1])])];
    return t == DType::F16 || t == DType::BF16 || cuda::native_quant(t);
  };
  // Consecutive decode linears from step i whose input is a view of `in` (at most kGemvMaxParts).
  auto linears_from = [&](size_t i, ir::ValueId in) {
    int n = 0;
    while (n < cuda::kGemvMaxParts && decode_weight(i + size_t(n)) &&
           root[size_t(node(i + size_t(n))->inputs[0])] == in)
      ++n;
    return n;
  };
  d.launches.clear();
  for (size_t i = 0; i < steps.size();) {
    const ir::ValueId v = steps[i];
    const ir::Node& n = *node(i);
    int count = 1;
    Fuse kind = Fuse::None;
    int c = 0;
    // Gate and up linears at steps j, j + 1, then SiLU(gate) and its product with up.
    auto glu_at = [&](size_t j) {
      return is(j + 2, OpKind::Silu) && is(j + 3, OpKind::Mul) &&
             node(j + 2)->inputs[0] == steps[j] && uses[size_t(steps[j])] == 1 &&
             input_of(j + 3, steps[j + 2]) && input_of(j + 3, steps[j + 1]) &&
             uses[size_t(steps[j + 2])] == 1 && uses[size_t(steps[j + 1])] == 1;
    };
    if (n.op == OpKind::RmsNorm && (c = linears_from(i + 1, v)) > 0 && uses[size_t(v)] == c) {
      count = 1 + c, kind = Fuse::NormLinears;
      if (c == 2 && glu_at(i + 1)) count = 5, kind = Fuse::NormGlu;
    } else if (decode_weight(i) && (c = linears_from(i, root[size_t(n.inputs[0])])) > 1) {
      count = c, kind = Fuse::Linears;
      if (c == 2 && glu_at(i)) count = 4, kind = Fuse::Glu;
    } else if (decode_weight(i) && is(i + 1, OpKind::Add) && input_of(i + 1, v) &&
               uses[size_t(v)] == 1) {
      count = 2, kind = Fuse::LinearAdd;
    } else if (n.op == OpKind::Silu && is(i + 1, OpKind::Mul) && input_of(i + 1, v) &&
               uses[size_t(v)] == 1) {
      count = 2, kind = Fuse::SiluMul;
    } else if (n.op == OpKind::RmsNorm && is(i + 1, OpKind::RmsNorm) && is(i + 2, OpKind::Rope) &&
               is(i + 3, OpKind::Rope) && node(i + 2)->inputs[0] == v &&
               node(i + 3)->inputs[0] == steps[i + 1] && uses[size_t(v)] == 1 &&
               uses[size_t(steps[i + 1])] == 1) {
      count = 4, kind = Fuse::QkNormRope;  // norm q, norm k, rope q, rope k
    } else if (n.op == OpKind::RmsNorm && is(i + 1, OpKind::Rope) && uses[size_t(v)] == 1 &&
               node(i + 1)->inputs[0] == v) {
      count = 2, kind = Fuse::RmsNormRope;
    } else if (n.op == OpKind::Add && is(i + 1, OpKind::RmsNorm) && node(i + 1)->inputs[0] == v) {
      count = 2, kind = Fuse::AddRmsNorm;
    } else if (n.op == OpKind::Rope && is(i + 1, OpKind::Rope) &&
               node(i + 1)->inputs[1] == n.inputs[1] && node(i + 1)->inputs[2] == n.inputs[2]) {
      count = 2, kind = Fuse::RopePair;
    }
    d.launches.push_back({i, count, kind});
    i += size_t(count);
  }
}

// Runs a group with its fused kernel; the number of leading steps done (0 when the operands do
// not fit: the caller runs the rest one by one).
template <typename Fuse>
size_t run_fused(Fuse kind, std::span<const cuda::KernelArgs> a) {
  const cuda::KernelArgs* none[2] = {nullptr, nullptr};
  switch (kind) {
    case Fuse::Linears:
      return cuda::fused_linears(a) ? a.size() : 0;
    case Fuse::NormLinears:
      return cuda::fused_norm_linears(a[0], a.subspan(1)) ? a.size() : 0;
    case Fuse::Glu:
      return cuda::fused_glu_linears(nullptr, a.subspan(0, 2), a[2], a[3]) ? a.size() : 0;
    case Fuse::NormGlu:
      return cuda::fused_glu_linears(&a[0], a.subspan(1, 2), a[3], a[4]) ? a.size() : 0;
    case Fuse::LinearAdd:
      return cuda::fused_linear_add(a[0], a[1]) ? 2 : 0;
    case Fuse::SiluMul:
      return cuda::fused_silu_mul(a[0], a[1]) ? 2 : 0;
    case Fuse::AddRmsNorm:
      return cuda::fused_add_rms_norm(a[0], a[1]) ? 2 : 0;
    case Fuse::RmsNormRope: {
      const cuda::KernelArgs* norm[1] = {&a[0]};
      return cuda::fused_norm_rope(norm, a.subspan(1, 1)) ? 2 : 0;
    }
    case Fuse::QkNormRope: {  // norm q, norm k, rope q, rope k
      const cuda::KernelArgs* norms[2] = {&a[0], &a[1]};
      return cuda::fused_norm_rope(norms, a.subspan(2, 2)) ? 4 : 0;
    }
    case Fuse::RopePair:
      return cuda::fused_norm_rope(none, a.subspan(0, 2)) ? 2 : 0;
    case Fuse::None:
      break;
  }
  return 0;
}

}  // namespace

std::optional<DeviceMemory> device_memory(const Device& device) {
  if (device.kind == Device::Kind::Cpu) return std::nullopt;
  const cuda::DeviceInfo info = cuda::device_info(device.index);  // throws when unavailable
  return DeviceMemory{info.free_bytes, info.total_bytes, info.name};
}

int64_t device_weight_bytes(const Device& device, const TensorView& param, DType precision) {
  if (device.kind == Device::Kind::Cpu) return param.nbytes();
  // As Context::weight and prepare_device store it: other quantized types expand to F16, F32
  // matrices become 16-bit under a 16-bit precision (prepare_device also requires that they
  // only feed linears or embeddings).
  const bool to_half = (is_quantized(param.dtype) && !cuda::native_quant(param.dtype)) ||
                       (param.dtype == DType::F32 && precision != DType::F32 && param.rank() == 2);
  return to_half ? 2 * param.numel() : param.nbytes();
}

void Program::prepare_device(const CompileOptions& options) {
  const Device& device = options.device;
  const ir::Graph& g = graph_;
  const auto& reg = cuda::cuda_kernels();
  for (ir::ValueId v : steps_)
    RLX_CHECK(reg.find(g.nodes[size_t(v)].op) != nullptr, "no CUDA kernel for op {}",
              ir::op_name(g.nodes[size_t(v)].op));
  auto d = std::make_shared<DeviceState>();
  d->ctx = &cuda::context(device.index);
  d->ctx->activate();
  d->arena = cuda::DeviceBuffer(device.index, arena_bytes_);
  d->storage.resize(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) d->storage[i] = g.nodes[i].dtype;
  // With a 16-bit precision, F32 parameters that only feed linears (as the weight) or
  // embeddings (as the table) are uploaded in that type.
  std::vector<bool> matrix_only(g.nodes.size(), options.precision != DType::F32);
  if (options.precision != DType::F32)
    for (const ir::Node& n : g.nodes)
      for (size_t k = 0; k < n.inputs.size(); ++k) {
        const bool as_matrix =
            (n.op == ir::OpKind::Linear && k == 1) || (n.op == ir::OpKind::Embedding && k == 0);
        if (!as_matrix) matrix_only[size_t(n.inputs[k])] = false;
      }
  for (auto& [v, host] : g.param_data) {
    const bool convert = options.precision != DType::F32 && host.dtype == DType::F32 &&
                         host.rank() == 2 && matrix_only[size_t(v)];
    auto w = d->ctx->weight(host, convert ? options.precision : host.dtype);
    // The device holds it now: a file-mapped host copy stops counting in resident memory (it
    // is read again from the file if the host ever needs it).
    release_pages(host.data, size_t(host.nbytes()));
    d->storage[size_t(v)] = w->dtype;  // F16 for a dequantized quantized weight
    d->weights.push_back(std::move(w));
  }
  int64_t bytes = 0;
  for (auto& [name, v] : g.inputs) {
    const ir::Node& n = g.nodes[size_t(v)];
    d->input_off[v] = bytes;
    bytes += (dtype_bytes(n.dtype, n.shape.numel()) + 255) / 256 * 256;
  }
  d->inputs = cuda::DeviceBuffer(device.index, bytes);
  std::vector<ir::ValueId> root(layout_.size());
  for (size_t i = 0; i < layout_.size(); ++i) root[i] = layout_[i].root;
  group_steps(g, steps_, root, *d);
  int64_t out_bytes = 0;
  for (auto& [name, v] : g.outputs) {
    const ir::Node& n = g.nodes[size_t(v)];
    if (is_quantized(n.dtype)) out_bytes = -1;  // an error at run time
    if (out_bytes >= 0) out_bytes += (dtype_bytes(n.dtype, n.shape.numel()) + 255) / 256 * 256;
  }
  constexpr int64_t kMaxStagedOutputs = 16 << 20;  // pinned memory is scarce: big outputs not
  const bool stage_out = out_bytes >= 0 && out_bytes <= kMaxStagedOutputs;
  if (bytes + (stage_out ? out_bytes : 0) > 0) {
    RLX_CUDA_CHECK(cudaMallocHost(&d->staging, size_t(bytes + (stage_out ? out_bytes : 0))));
    if (stage_out) d->staging_out = bytes;
  }
  device_ = std::move(d);
}

std::map<std::string, Tensor> Program::run_device(std::vector<void*>& bases) {
  const ir::Graph& g = graph_;
  DeviceState& d = *device_;
  cuda::Context& ctx = *d.ctx;
  ctx.activate();
  using Clock = std::chrono::steady_clock;
  const bool timing = OpProfile::enabled(OpProfile::Table::CudaRuns);
  const Clock::time_point t_enter = timing ? Clock::now() : Clock::time_point{};
  if (timing && !d.run_ev[0])
    for (cudaEvent_t& e : d.run_ev) RLX_CUDA_CHECK(cudaEventCreate(&e));
  char* in_base = static_cast<char*>(d.inputs.data());
  int64_t in_bytes = 0;
  for (auto& [name, v] : g.inputs) {
    const ir::Node& n = g.nodes[size_t(v)];
    const int64_t off = d.input_off.at(v), nb = dtype_bytes(n.dtype, n.shape.numel());
    std::memcpy(static_cast<char*>(d.staging) + off, bases[size_t(v)], size_t(nb));
    in_bytes = off + nb;
    bases[size_t(v)] = in_base + off;
  }
  cuda::upload(ctx, in_base, d.staging, in_bytes);  // one copy from pinned memory
  for (auto& [name, v] : g.states) {
    const ir::Node& n = g.nodes[size_t(v)];
    bases[size_t(v)] = ctx.state(TensorView(bases[size_t(v)], n.dtype, n.shape));
  }
  size_t wi = 0;
  for (auto& [v, host] : g.param_data) bases[size_t(v)] = d.weights[wi++]->data;
  char* arena = static_cast<char*>(d.arena.data());
  for (ir::ValueId v : steps_) bases[size_t(v)] = arena + buffer_offset_[size_t(v)];

  auto dview = [&](ir::ValueId v) {
    const Layout& l = layout_[size_t(v)];
    const ir::Node& n = g.nodes[size_t(v)];
    const DType t = d.storage[size_t(l.root)];
    char* base = static_cast<char*>(bases[size_t(l.root)]);
    return TensorView(base + dtype_bytes(t, l.offset), t, n.shape, l.strides);
  };
  const auto& reg = cuda::cuda_kernels();
  // RLX_CUDA_PROFILE: launches are timed one by one with events (no graph replay).
  const bool prof = OpProfile::enabled(OpProfile::Table::Cuda);
  std::vector<cudaEvent_t> ev;
  std::vector<std::string> names;
  auto launch_all = [&] {
    constexpr int kMaxGroup = 5;  // the longest group: norm, gate, up, silu, mul
    static_assert(kMaxGroup >= cuda::kGemvMaxParts + 1);
    std::vector<TensorView> ins[kMaxGroup];
    TensorView outs[kMaxGroup];
    std::vector<cuda::KernelArgs> args;
    args.reserve(kMaxGroup);
    const bool fuse = ctx.fast_kernels();
    for (const DeviceState::Launch& l : d.launches) {
      if (prof) {  // named by its first step; a fused group adds "+N"
        const ir::Node& n = g.nodes[size_t(steps_[l.first])];
        std::string k = ir::op_name(n.op);
        const TensorView out = dview(steps_[l.first]);
        if (n.op == ir::OpKind::Linear)
          k += std::string(" ") + dtype_name(dview(n.inputs[1]).dtype);
        const int64_t last = out.rank() ? out.shape.back() : 1;
        k += last > 0 && out.numel() / last <= 64 ? " (small)" : "";
        if (l.count > 1) k += " +" + std::to_string(l.count - 1);
        names.push_back(std::move(k));
        ev.resize(ev.size() + 2);
        cudaEventCreate(&ev[ev.size() - 2]);
        cudaEventCreate(&ev[ev.size() - 1]);
        cudaEventRecord(ev[ev.size() - 2], ctx.stream());
      }
      args.clear();
      for (int k = 0; k < l.count; ++k) {
        const ir::ValueId v = steps_[l.first + size_t(k)];
        const ir::Node& n = g.nodes[size_t(v)];
        ins[k].clear();
        for (ir::ValueId x : n.inputs) ins[k].push_back(dview(x));
        outs[k] = dview(v);
        args.push_back(cuda::KernelArgs{n, ins[k], outs[k], ctx});
      }
      // Steps the fused kernel ran; the rest run one by one.
      const size_t done = fuse ? run_fused(l.kind, std::span<const cuda::KernelArgs>(args)) : 0;
      for (size_t k = done; k < args.size(); ++k) reg.find(args[k].node.op)(args[k]);
      if (prof) cudaEventRecord(ev.back(), ctx.stream());
    }
  };
  // Records the kernel sequence into d.graph. False (plain launches for this program from
  // then on) when capture does not work, e.g. a library call that synchronizes.
  auto capture = [&] {
    const uint64_t epoch = ctx.scratch_epoch();
    cudaStream_t s = ctx.stream();
    RLX_CUDA_CHECK(cudaStreamBeginCapture(s, cudaStreamCaptureModeRelaxed));
    bool ok = true;
    try {
      launch_all();
    } catch (...) {
      ok = false;  // the plain run after this reports a genuine error again
    }
    cudaGraph_t graph = nullptr;
    const cudaError_t end = cudaStreamEndCapture(s, &graph);
    ok = ok && end == cudaSuccess && graph && ctx.scratch_epoch() == epoch;
    cudaGraphExec_t exec = nullptr;
    if (ok) ok = cudaGraphInstantiate(&exec, graph, 0) == cudaSuccess;
    if (graph) cudaGraphDestroy(graph);
    cudaGetLastError();  // clear what a failed capture left behind (not a sticky error)
    if (!ok) {
      if (exec) cudaGraphExecDestroy(exec);
      d.graph_failed = true;
      log_warn("CUDA Graph capture failed for a program of {} steps; it runs with plain launches",
               steps_.size());
      return false;
    }
    d.graph = exec;
    return true;
  };
  // Everything a captured graph bakes in: every address, the scratch buffer, the kernel choice.
  std::vector<uintptr_t> sig(bases.size() + 2);
  for (size_t i = 0; i < bases.size(); ++i) sig[i] = reinterpret_cast<uintptr_t>(bases[i]);
  sig[bases.size()] = uintptr_t(ctx.scratch_epoch());
  sig[bases.size() + 1] = ctx.fast_kernels() ? 1 : 0;
  const bool graphs = ctx.graphs() && !d.graph_failed && !prof;  // profiling times each launch
  if (!graphs || sig != d.graph_sig) {
    if (d.graph) cudaGraphExecDestroy(d.graph);
    d.graph = nullptr;
    d.graph_sig.clear();
  }
  const Clock::time_point t_launch = timing ? Clock::now() : Clock::time_point{};
  if (timing) RLX_CUDA_CHECK(cudaEventRecord(d.run_ev[0], ctx.stream()));
  const bool replay = d.graph != nullptr;
  if (d.graph) {
    RLX_CUDA_CHECK(cudaGraphLaunch(d.graph, ctx.stream()));
    ctx.note_graph_launch();
  } else if (graphs && sig == d.last_sig && capture()) {
    d.graph_sig = sig;
    RLX_CUDA_CHECK(cudaGraphLaunch(d.graph, ctx.stream()));
    ctx.note_graph_launch();
  } else {
    launch_all();
  }
  if (timing) RLX_CUDA_CHECK(cudaEventRecord(d.run_ev[1], ctx.stream()));
  const Clock::time_point t_issued = timing ? Clock::now() : Clock::time_point{};

  auto contiguous_on_device = [&](const TensorView& src, int64_t nbytes) -> const void* {
    if (src.is_contiguous()) return src.data;
    void* tmp = ctx.scratch(nbytes);  // gather a strided view on the device first
    cuda::Layout l;
    l.rank = src.rank();
    for (int i = 0; i < src.rank(); ++i) l.shape[i] = src.shape[i], l.stride[i] = src.strides[i];
    cuda::launch_copy(src.data, l, element_size(src.dtype), tmp, src.numel(), ctx.stream());
    return tmp;
  };
  // Outputs: gathered if strided, copied down (into pinned staging when small), then one
  // synchronization that also reads the kernels' error flag.
  struct Pending {
    std::string name;
    Tensor t;
    const void* staged;
  };
  std::vector<Pending> pending;
  int64_t out_off = d.staging_out;
  for (auto& [name, v] : g.outputs) {
    TensorView src = dview(v);
    RLX_CHECK(!is_quantized(src.dtype), "output '{}' of type {} cannot be downloaded", name,
              dtype_name(src.dtype));
    Tensor t = Tensor::empty(src.dtype, src.shape);
    const void* staged = nullptr;
    if (out_off >= 0) {
      const void* from = contiguous_on_device(src, t.nbytes());
      void* dst = static_cast<char*>(d.staging) + out_off;
      RLX_CUDA_CHECK(
          cudaMemcpyAsync(dst, from, size_t(t.nbytes()), cudaMemcpyDeviceToHost, ctx.stream()));
      staged = dst;
      out_off += (t.nbytes() + 255) / 256 * 256;
    }
    pending.push_back({name, std::move(t), staged});
  }
  // What the next run must bind to capture (the scratch as this run left it).
  sig[bases.size()] = uintptr_t(ctx.scratch_epoch());
  d.last_sig = std::move(sig);
  ctx.check_errors();  // synchronizes; throws for an out-of-range token or a full KV cache
  const Clock::time_point t_synced = timing ? Clock::now() : Clock::time_point{};
  if (prof) {
    for (size_t i = 0; i < names.size(); ++i) {
      float ms = 0;
      cudaEventElapsedTime(&ms, ev[2 * i], ev[2 * i + 1]);
      OpProfile::add(OpProfile::Table::Cuda, names[i], ms * 1e-3);
      cudaEventDestroy(ev[2 * i]);
      cudaEventDestroy(ev[2 * i + 1]);
    }
  }

  std::map<std::string, Tensor> outs;
  for (Pending& p : pending) {
    if (p.staged) {
      std::memcpy(p.t.data(), p.staged, size_t(p.t.nbytes()));
    } else {
      const void* from = contiguous_on_device(dview(g.outputs.at(p.name)), p.t.nbytes());
      cuda::download(ctx, p.t.data(), from, p.t.nbytes());
    }
    outs[p.name] = std::move(p.t);
  }
  if (timing) {
    float gpu_ms = 0;
    RLX_CUDA_CHECK(cudaEventElapsedTime(&gpu_ms, d.run_ev[0], d.run_ev[1]));
    const std::string key = std::to_string(steps_.size()) + " steps" + (replay ? ", graph" : "");
    auto secs = [](Clock::time_point a, Clock::time_point b) {
      return std::chrono::duration<double>(b - a).count();
    };
    OpProfile::add(OpProfile::Table::CudaRuns, key + ": host before launch",
                   secs(t_enter, t_launch));
    OpProfile::add(OpProfile::Table::CudaRuns, key + ": host launching", secs(t_launch, t_issued));
    OpProfile::add(OpProfile::Table::CudaRuns, key + ": GPU (events)", gpu_ms * 1e-3);
    OpProfile::add(OpProfile::Table::CudaRuns, key + ": issued to synced",
                   secs(t_issued, t_synced));
    OpProfile::add(OpProfile::Table::CudaRuns, key + ": host after sync",
                   secs(t_synced, Clock::now()));
  }
  return outs;
}

namespace detail {
void forget_device_state(const void* host) {
  cuda::forget_state_everywhere(host);
}
}  // namespace detail

#else  // CPU-only build

struct Program::DeviceState {};

void Program::require_device(const Device& device) {
  fail("device {} is not available in this build of rlx (CPU only)", device.str());
}
void Program::prepare_device(const CompileOptions&) {}

int64_t device_weight_bytes(const Device&, const TensorView& param, DType) {
  return param.nbytes();
}

std::optional<DeviceMemory> device_memory(const Device& device) {
  if (device.kind == Device::Kind::Cpu) return std::nullopt;
  fail("device {} is not available in this build of rlx (CPU only)", device.str());
}
std::map<std::string, Tensor> Program::run_device(std::vector<void*>&) {
  return {};
}

namespace detail {
void forget_device_state(const void*) {}
}  // namespace detail

#endif

}  // namespace rlx
