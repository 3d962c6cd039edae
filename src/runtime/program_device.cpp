// Program on a device (CUDA): the same plan as on the CPU (liveness, views, copies, one
// arena), executed with device kernels. Parameters come from the context's weight cache
// (uploaded once, shared between programs), inputs are uploaded into a per-program buffer,
// States live in device mirrors, outputs are downloaded into host tensors.
#include "rlx/core/error.h"
#include "rlx/runtime/program.h"
#include "runtime/device_state.h"

#ifdef RLX_HAS_CUDA
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
  for (ir::ValueId v : steps_) {
    const ir::Node& n = g.nodes[size_t(v)];
    ins.clear();
    for (ir::ValueId x : n.inputs) ins.push_back(dview(x));
    TensorView out = dview(v);
    reg.find(n.op)(cuda::KernelArgs{n, ins, out, ctx});
  }
  ctx.check_errors();  // synchronizes; throws for an out-of-range token or a full KV cache

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
