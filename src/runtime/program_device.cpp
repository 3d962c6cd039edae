// Program on a device (CUDA): the same plan as on the CPU (liveness, views, copies, one
// arena), executed with device kernels. Parameters come from the context's weight cache
// (uploaded once, shared between programs), inputs are uploaded into a per-program buffer,
// States live in device mirrors, outputs are downloaded into host tensors.
#include <chrono>
#include <cstring>

#include "rlx/core/error.h"
#include "rlx/core/log.h"
#include "rlx/runtime/program.h"
#include "runtime/device_state.h"
#include "runtime/op_profile.h"

#ifdef RLX_HAS_CUDA
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
  enum class Fuse : uint8_t { None, Linears, SiluMul, AddRmsNorm, RmsNormRope, QkNormRope };
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

// Groups consecutive steps that one fused kernel can run (see backends/cuda/fusion.cpp):
// linears reading the same x with 16-bit weights (q/k/v, gate/up), silu(gate) · up when the
// SiLU result has no other use, a residual
// add followed by the RMSNorm of its sum, and an RMSNorm whose only use is a RoPE (QK-norm: also
// norm q, norm k, rope q, rope k).
template <typename State>
void group_steps(const ir::Graph& g, const std::vector<ir::ValueId>& steps,
                 const std::vector<ir::ValueId>& root, State& d) {
  using ir::OpKind;
  using Fuse = typename State::Fuse;
  std::vector<int> uses(g.nodes.size(), 0);
  for (const ir::Node& n : g.nodes)
    for (ir::ValueId x : n.inputs) ++uses[size_t(x)];
  for (auto& [name, v] : g.outputs) uses[size_t(v)] += 2;  // an output is always written
  auto half_weight = [&](const ir::Node& n) {
    const DType t = d.storage[size_t(root[size_t(n.inputs[1])])];
    return t == DType::F16 || t == DType::BF16 ? t : DType::F32;
  };
  d.launches.clear();
  for (size_t i = 0; i < steps.size();) {
    const ir::ValueId v = steps[i];
    const ir::Node& n = g.nodes[size_t(v)];
    const ir::Node* next = i + 1 < steps.size() ? &g.nodes[size_t(steps[i + 1])] : nullptr;
    int count = 1;
    Fuse kind = Fuse::None;
    if (n.op == OpKind::Linear && half_weight(n) != DType::F32) {
      while (count < cuda::kGemvMaxParts && i + size_t(count) < steps.size()) {
        const ir::Node& m = g.nodes[size_t(steps[i + size_t(count)])];
        if (m.op != OpKind::Linear || m.inputs[0] != n.inputs[0] ||
            half_weight(m) != half_weight(n))
          break;
        ++count;
      }
      if (count > 1) kind = Fuse::Linears;
    } else if (n.op == OpKind::Silu && next && next->op == OpKind::Mul && uses[size_t(v)] == 1 &&
               (next->inputs[0] == v || next->inputs[1] == v)) {
      count = 2, kind = Fuse::SiluMul;
    } else if (n.op == OpKind::RmsNorm && i + 3 < steps.size() && next->op == OpKind::RmsNorm &&
               g.nodes[size_t(steps[i + 2])].op == OpKind::Rope &&
               g.nodes[size_t(steps[i + 3])].op == OpKind::Rope &&
               g.nodes[size_t(steps[i + 2])].inputs[0] == v &&
               g.nodes[size_t(steps[i + 3])].inputs[0] == steps[i + 1] && uses[size_t(v)] == 1 &&
               uses[size_t(steps[i + 1])] == 1) {
      count = 4, kind = Fuse::QkNormRope;  // norm q, norm k, rope q, rope k
    } else if (n.op == OpKind::RmsNorm && next && next->op == OpKind::Rope &&
               uses[size_t(v)] == 1 && next->inputs[0] == v) {
      count = 2, kind = Fuse::RmsNormRope;
    } else if (n.op == OpKind::Add && next && next->op == OpKind::RmsNorm && next->inputs[0] == v) {
      count = 2, kind = Fuse::AddRmsNorm;
    }
    d.launches.push_back({i, count, kind});
    i += size_t(count);
  }
}

}  // namespace

void Program::prepare_device(const Device& device) {
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
  for (auto& [v, host] : g.param_data) {
    auto w = d->ctx->weight(host);
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
  auto overlap = [](const TensorView& a, const TensorView& b) {
    const char *a0 = static_cast<const char*>(a.data), *b0 = static_cast<const char*>(b.data);
    return a0 < b0 + b.nbytes() && b0 < a0 + a.nbytes();
  };
  auto launch_all = [&] {
    using Fuse = DeviceState::Fuse;
    constexpr int kMaxGroup = 4;  // the longest group (norm q, norm k, rope q, rope k)
    static_assert(kMaxGroup >= cuda::kGemvMaxParts);
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
      bool done = false;
      if (fuse && l.kind == Fuse::Linears) done = cuda::fused_linears(args);
      if (fuse && l.kind == Fuse::SiluMul) done = cuda::fused_silu_mul(args[0], args[1]);
      if (fuse && l.kind == Fuse::AddRmsNorm) done = cuda::fused_add_rms_norm(args[0], args[1]);
      if (fuse && l.kind == Fuse::RmsNormRope) done = cuda::fused_rms_norm_rope(args[0], args[1]);
      if (fuse && l.kind == Fuse::QkNormRope && !overlap(args[2].out, args[1].in[0]) &&
          cuda::fused_rms_norm_rope(args[0], args[2], false) &&
          cuda::fused_rms_norm_rope(args[1], args[3], false)) {
        // rope q is written before the k norm reads k: their buffers must not overlap.
        cuda::fused_rms_norm_rope(args[0], args[2]);
        cuda::fused_rms_norm_rope(args[1], args[3]);
        done = true;
      }
      if (!done)
        for (const cuda::KernelArgs& a : args) reg.find(a.node.op)(a);
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
void Program::prepare_device(const Device&) {}
std::map<std::string, Tensor> Program::run_device(std::vector<void*>&) {
  return {};
}

namespace detail {
void forget_device_state(const void*) {}
}  // namespace detail

#endif

}  // namespace rlx
