// Program on a device (CUDA): the same plan as on the CPU (liveness, views, copies, one
// arena), executed with device kernels. Parameters come from the context's weight cache
// (uploaded once, shared between programs), inputs are uploaded into a per-program buffer,
// States live in device mirrors, outputs are downloaded into host tensors.
#include "rlx/core/error.h"
#include "rlx/runtime/program.h"
#include "runtime/device_state.h"

#ifdef RLX_HAS_CUDA
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <vector>

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
};

namespace {

// RLX_CUDA_PROFILE=1: every kernel is timed with CUDA events; the totals per op (Linear per
// weight type; "small" = at most 64 output rows, i.e. decode) are printed to stderr at exit.
struct KernelProfile {
  std::mutex mu;
  std::map<std::string, std::pair<double, int64_t>> ms;  // total ms, calls
  ~KernelProfile() {
    if (ms.empty()) return;
    std::vector<std::pair<std::string, std::pair<double, int64_t>>> v(ms.begin(), ms.end());
    std::sort(v.begin(), v.end(),
              [](const auto& a, const auto& b) { return a.second.first > b.second.first; });
    double total = 0;
    for (auto& e : v) total += e.second.first;
    std::fprintf(stderr, "rlx: CUDA kernel time by op (total %.2f ms)\n", total);
    for (auto& [k, t] : v)
      std::fprintf(stderr, "  %-32s %10.3f ms %5.1f%% %8lld calls %8.2f us/call\n", k.c_str(),
                   t.first, 100 * t.first / total, static_cast<long long>(t.second),
                   1e3 * t.first / double(t.second));
  }
};

KernelProfile* kernel_profile() {
  static const bool on = std::getenv("RLX_CUDA_PROFILE") != nullptr;
  static KernelProfile p;
  return on ? &p : nullptr;
}

}  // namespace

void Program::require_device(const Device& device) {
  RLX_CHECK(device.kind == Device::Kind::Cuda, "device {} is not supported", device.str());
  cuda::context(device.index);  // throws "CUDA device N is not available: ..."
}

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
  device_ = std::move(d);
}

std::map<std::string, Tensor> Program::run_device(std::vector<void*>& bases) {
  const ir::Graph& g = graph_;
  DeviceState& d = *device_;
  cuda::Context& ctx = *d.ctx;
  ctx.activate();
  char* in_base = static_cast<char*>(d.inputs.data());
  for (auto& [name, v] : g.inputs) {
    const ir::Node& n = g.nodes[size_t(v)];
    void* dst = in_base + d.input_off.at(v);
    cuda::upload(ctx, dst, bases[size_t(v)], dtype_bytes(n.dtype, n.shape.numel()));
    bases[size_t(v)] = dst;
  }
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
  std::vector<TensorView> ins;
  KernelProfile* prof = kernel_profile();
  std::vector<cudaEvent_t> ev;
  std::vector<std::string> names;
  for (ir::ValueId v : steps_) {
    const ir::Node& n = g.nodes[size_t(v)];
    ins.clear();
    for (ir::ValueId x : n.inputs) ins.push_back(dview(x));
    TensorView out = dview(v);
    if (prof) {
      std::string k = ir::op_name(n.op);
      if (n.op == ir::OpKind::Linear) k += std::string(" ") + dtype_name(ins[1].dtype);
      const int64_t last = out.rank() ? out.shape.back() : 1;
      k += last > 0 && out.numel() / last <= 64 ? " (small)" : "";
      names.push_back(std::move(k));
      ev.resize(ev.size() + 2);
      cudaEventCreate(&ev[ev.size() - 2]);
      cudaEventCreate(&ev[ev.size() - 1]);
      cudaEventRecord(ev[ev.size() - 2], ctx.stream());
    }
    reg.find(n.op)(cuda::KernelArgs{n, ins, out, ctx});
    if (prof) cudaEventRecord(ev.back(), ctx.stream());
  }
  ctx.check_errors();  // synchronizes; throws for an out-of-range token or a full KV cache
  if (prof) {
    std::lock_guard<std::mutex> lock(prof->mu);
    for (size_t i = 0; i < names.size(); ++i) {
      float ms = 0;
      cudaEventElapsedTime(&ms, ev[2 * i], ev[2 * i + 1]);
      auto& t = prof->ms[names[i]];
      t.first += ms, t.second += 1;
      cudaEventDestroy(ev[2 * i]);
      cudaEventDestroy(ev[2 * i + 1]);
    }
  }

  std::map<std::string, Tensor> outs;
  for (auto& [name, v] : g.outputs) {
    TensorView src = dview(v);
    RLX_CHECK(!is_quantized(src.dtype), "output '{}' of type {} cannot be downloaded", name,
              dtype_name(src.dtype));
    Tensor t = Tensor::empty(src.dtype, src.shape);
    const void* from = src.data;
    if (!src.is_contiguous()) {  // gather a strided view on the device first
      void* tmp = ctx.scratch(t.nbytes());
      cuda::Layout l;
      l.rank = src.rank();
      for (int i = 0; i < src.rank(); ++i) l.shape[i] = src.shape[i], l.stride[i] = src.strides[i];
      cuda::launch_copy(src.data, l, element_size(src.dtype), tmp, src.numel(), ctx.stream());
      from = tmp;
    }
    cuda::download(ctx, t.data(), from, t.nbytes());
    outs[name] = std::move(t);
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
