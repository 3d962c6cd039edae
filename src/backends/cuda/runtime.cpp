#include "backends/cuda/runtime.h"

#include <array>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "backends/cuda/check.h"
#include "backends/cuda/cublas_api.h"
#include "backends/cuda/launch.h"
#include "rlx/core/half.h"
#include "rlx/core/log.h"

namespace rlx::cuda {

void throw_cuda_error(cudaError_t e, const char* expr, const char* file, int line) {
  throw Error(fmt::format("CUDA error at {}:{}: {} failed: {} ({})", file, line, expr,
                          cudaGetErrorString(e), cudaGetErrorName(e)));
}

void throw_cublas_error(cublasStatus_t s, const char* expr, const char* file, int line) {
  throw Error(fmt::format("cuBLAS error at {}:{}: {} failed: {} ({})", file, line, expr,
                          cublas_api().status_string(s), cublas_api().status_name(s)));
}

int device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no driver" state for later calls
    return 0;
  }
  return n;
}

namespace {

// The one message every "no such device" path gives.
[[noreturn]] void unavailable(int index, cudaError_t e) {
  fail("CUDA device {} is not available: {}", index,
       e == cudaSuccess ? "no such device" : cudaGetErrorString(e));
}

void require_device(int index) {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    cudaGetLastError();
    unavailable(index, e);
  }
  if (index < 0 || index >= n)
    fail("CUDA device {} is not available: this machine has {} CUDA device(s)", index, n);
}

constexpr int kMaxDevices = 64;
std::mutex g_contexts_mu;
std::array<Context*, kMaxDevices> g_contexts{};

}  // namespace

DeviceInfo device_info(int index) {
  require_device(index);
  cudaDeviceProp p{};
  RLX_CUDA_CHECK(cudaGetDeviceProperties(&p, index));
  DeviceInfo d;
  d.index = index;
  d.name = p.name;
  d.sm_major = p.major;
  d.sm_minor = p.minor;
  d.multiprocessors = p.multiProcessorCount;
  d.total_bytes = int64_t(p.totalGlobalMem);
  int prev = 0;
  RLX_CUDA_CHECK(cudaGetDevice(&prev));
  RLX_CUDA_CHECK(cudaSetDevice(index));
  size_t free_b = 0, total_b = 0;
  RLX_CUDA_CHECK(cudaMemGetInfo(&free_b, &total_b));
  RLX_CUDA_CHECK(cudaSetDevice(prev));
  d.free_bytes = int64_t(free_b);
  return d;
}

DeviceBuffer::DeviceBuffer(int device, int64_t bytes) : bytes_(bytes), device_(device) {
  if (bytes <= 0) return;
  RLX_CUDA_CHECK(cudaSetDevice(device));
  cudaError_t e = cudaMalloc(&data_, size_t(bytes));
  if (e != cudaSuccess) {
    cudaGetLastError();
    size_t free_b = 0, total_b = 0;
    cudaMemGetInfo(&free_b, &total_b);
    fail("out of GPU memory on CUDA device {}: {} bytes requested, {} of {} bytes free ({})",
         device, bytes, free_b, total_b, cudaGetErrorString(e));
  }
}

DeviceBuffer::~DeviceBuffer() {
  if (data_) cudaFree(data_);  // errors at process teardown are of no use to anyone
}

DeviceBuffer& DeviceBuffer::operator=(DeviceBuffer&& o) noexcept {
  if (this != &o) {
    if (data_) cudaFree(data_);
    data_ = o.data_;
    bytes_ = o.bytes_;
    device_ = o.device_;
    o.data_ = nullptr;
    o.bytes_ = 0;
  }
  return *this;
}

Context::Context(int device) : device_(device) {
  RLX_CUDA_CHECK(cudaSetDevice(device));
  RLX_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  RLX_CUBLAS_CHECK(cublas_api().create(&cublas_));
  RLX_CUBLAS_CHECK(cublas_api().set_stream(cublas_, stream_));
  // Plain FP32 GEMMs (no TF32): F32 programs must match the CPU to 1e-4.
  RLX_CUBLAS_CHECK(cublas_api().set_math_mode(cublas_, CUBLAS_DEFAULT_MATH));
  RLX_CUDA_CHECK(cudaMalloc(&error_flag_, sizeof(int)));
  RLX_CUDA_CHECK(cudaMemset(error_flag_, 0, sizeof(int)));
  RLX_CUDA_CHECK(cudaMalloc(&counters_, sizeof(int) * kMaxDecodeGroups));
  RLX_CUDA_CHECK(cudaMemset(counters_, 0, sizeof(int) * kMaxDecodeGroups));
  RLX_CUDA_CHECK(cudaDeviceGetAttribute(&multiprocessors_, cudaDevAttrMultiProcessorCount, device));
  RLX_CUDA_CHECK(cudaDeviceGetAttribute(&shared_per_block_optin_,
                                        cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  auto off = [](const char* name) {
    const char* v = std::getenv(name);
    return v && std::string(v) == "0";
  };
  fast_kernels_ = !off("RLX_CUDA_FAST");
  graphs_ = !off("RLX_CUDA_GRAPH");
}

Context::~Context() {
  if (cublas_) cublas_api().destroy(cublas_);
  if (stream_) cudaStreamDestroy(stream_);
  if (error_flag_) cudaFree(error_flag_);
  if (counters_) cudaFree(counters_);
}

void Context::activate() const {
  RLX_CUDA_CHECK(cudaSetDevice(device_));
}

void* Context::scratch(int64_t bytes) {
  if (scratch_.bytes() < bytes) {
    RLX_CUDA_CHECK(cudaStreamSynchronize(stream_));  // the old scratch may still be in use
    scratch_ = DeviceBuffer();
    scratch_ = DeviceBuffer(device_, bytes + bytes / 4);
    ++scratch_epoch_;
  }
  return scratch_.data();
}

std::shared_ptr<const TensorView> Context::weight(const TensorView& host, DType as) {
  std::lock_guard<std::mutex> lock(mu_);
  RLX_CHECK(
      as == host.dtype || (host.dtype == DType::F32 && (as == DType::F16 || as == DType::BF16)),
      "a {} weight cannot be uploaded as {}", dtype_name(host.dtype), dtype_name(as));
  WeightKey key{host.data, as, host.shape.str()};
  auto it = weights_.find(key);
  if (it != weights_.end())
    if (auto w = it->second.lock()) return w;
  RLX_CHECK(host.is_contiguous(), "weights on CUDA must be contiguous (shape {})",
            host.shape.str());
  struct Held {
    DeviceBuffer buf;
    TensorView view;
  };
  auto held = std::make_shared<Held>();
  if (is_quantized(host.dtype) && !native_quant(host.dtype)) {
    static std::once_flag said;
    std::call_once(said, [&] {
      std::fprintf(stderr,
                   "rlx: CUDA has no kernels for %s weights; they (and any other quantized type "
                   "but Q4_0, Q8_0, Q4_K, Q5_K, Q6_K) are dequantized to F16 on upload\n",
                   dtype_name(host.dtype));
    });
    Tensor f = to_f32(host);
    std::vector<uint16_t> h(size_t(f.numel()));
    f32_to_f16_row(f.ptr<float>(), h.data(), f.numel());
    held->buf = DeviceBuffer(device_, int64_t(h.size() * 2));
    upload(*this, held->buf.data(), h.data(), int64_t(h.size() * 2));
    held->view = TensorView(held->buf.data(), DType::F16, host.shape);
  } else if (as != host.dtype) {  // F32 -> F16 / BF16 (--precision)
    std::vector<uint16_t> h(size_t(host.numel()));
    if (as == DType::F16)
      f32_to_f16_row(host.ptr<float>(), h.data(), host.numel());
    else
      f32_to_bf16_row(host.ptr<float>(), h.data(), host.numel());
    held->buf = DeviceBuffer(device_, int64_t(h.size() * 2));
    upload(*this, held->buf.data(), h.data(), int64_t(h.size() * 2));
    held->view = TensorView(held->buf.data(), as, host.shape);
  } else {
    held->buf = DeviceBuffer(device_, host.nbytes());
    upload(*this, held->buf.data(), host.data, host.nbytes());
    held->view = TensorView(held->buf.data(), host.dtype, host.shape);
  }
  std::shared_ptr<const TensorView> w(held, &held->view);
  weights_[key] = w;
  return w;
}

void* Context::state(const TensorView& host) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = states_.find(host.data);
  if (it != states_.end() && it->second.bytes() == host.nbytes()) return it->second.data();
  DeviceBuffer b(device_, host.nbytes());
  upload(*this, b.data(), host.data, host.nbytes());
  void* p = b.data();
  states_[host.data] = std::move(b);
  return p;
}

void Context::forget_state(const void* host) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = states_.find(host);
  if (it == states_.end()) return;
  cudaStreamSynchronize(stream_);  // a kernel may still write it
  states_.erase(it);
}

void Context::check_errors() {
  int code = 0;
  RLX_CUDA_CHECK(cudaMemcpyAsync(&code, error_flag_, sizeof(int), cudaMemcpyDeviceToHost, stream_));
  RLX_CUDA_CHECK(cudaStreamSynchronize(stream_));
  if (code == kErrNone) return;
  RLX_CUDA_CHECK(cudaMemsetAsync(error_flag_, 0, sizeof(int), stream_));
  switch (code) {
    case kErrTokenRange:
      fail("embedding: a token id is out of range for the vocabulary (on CUDA device {})", device_);
    case kErrKvCacheFull:
      fail("KV cache is full: cached + new tokens exceed its positions (on CUDA device {})",
           device_);
    default:
      fail("CUDA kernel error code {} on device {}", code, device_);
  }
}

Context& context(int index) {
  std::lock_guard<std::mutex> lock(g_contexts_mu);
  require_device(index);
  RLX_CHECK(index < kMaxDevices, "CUDA device {} is not supported (at most {})", index,
            kMaxDevices);
  // Never destroyed: contexts outlive every program, and tearing down after the driver
  // unloads at exit only produces errors.
  if (!g_contexts[size_t(index)]) g_contexts[size_t(index)] = new Context(index);
  return *g_contexts[size_t(index)];
}

void forget_state_everywhere(const void* host) {
  std::lock_guard<std::mutex> lock(g_contexts_mu);
  for (Context* c : g_contexts)
    if (c) c->forget_state(host);
}

void upload(Context& ctx, void* dst, const void* src, int64_t bytes) {
  if (bytes <= 0) return;
  RLX_CUDA_CHECK(cudaMemcpyAsync(dst, src, size_t(bytes), cudaMemcpyHostToDevice, ctx.stream()));
}

void download(Context& ctx, void* dst, const void* src, int64_t bytes) {
  if (bytes <= 0) return;
  RLX_CUDA_CHECK(cudaMemcpyAsync(dst, src, size_t(bytes), cudaMemcpyDeviceToHost, ctx.stream()));
  RLX_CUDA_CHECK(cudaStreamSynchronize(ctx.stream()));
}

}  // namespace rlx::cuda
