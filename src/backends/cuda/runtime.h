// The CUDA device runtime: device discovery, owned device buffers, host<->device copies and
// the per-device Context (stream, cuBLAS handle, scratch, weight cache, state mirrors).
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>

#include "rlx/core/tensor.h"

namespace rlx::cuda {

struct DeviceInfo {
  int index = 0;
  std::string name;
  int sm_major = 0, sm_minor = 0, multiprocessors = 0;
  int64_t total_bytes = 0, free_bytes = 0;
};

// Number of usable CUDA devices; 0 when there is no GPU or no driver (never throws).
int device_count();
// Properties of device `index`; throws rlx::Error when it is not available.
DeviceInfo device_info(int index);

// Device memory owned by one object (cudaFree on destruction).
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(int device, int64_t bytes);
  ~DeviceBuffer();
  DeviceBuffer(DeviceBuffer&& o) noexcept { *this = std::move(o); }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept;
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void* data() const { return data_; }
  int64_t bytes() const { return bytes_; }

 private:
  void* data_ = nullptr;
  int64_t bytes_ = 0;
  int device_ = 0;
};

// One per device, created on first use and kept for the process. Every call on a Context
// happens on the thread that runs programs; the map accessors are locked for safety anyway.
class Context {
 public:
  explicit Context(int device);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  int device() const { return device_; }
  cudaStream_t stream() const { return stream_; }
  cublasHandle_t cublas() const { return cublas_; }
  // Makes this device current on the calling thread.
  void activate() const;

  // Scratch memory for kernels (e.g. activations converted to F16 before a GEMM); grows on
  // demand and stays valid until the next call. scratch_epoch() changes whenever it moves
  // (a captured CUDA Graph that baked the old address must then be captured again).
  void* scratch(int64_t bytes);
  uint64_t scratch_epoch() const { return scratch_epoch_; }

  int multiprocessors() const { return multiprocessors_; }
  // Shared memory a kernel may opt in to per block (bytes).
  int shared_per_block_optin() const { return shared_per_block_optin_; }
  // kMaxDecodeGroups ints, zeroed at creation; kernels that count with them leave them zeroed.
  int* counters() const { return counters_; }
  // Fast paths (decode attention split over the keys, F16/BF16 matrix-vector kernel) and CUDA
  // Graph replay of repeated runs; both on unless RLX_CUDA_FAST=0 / RLX_CUDA_GRAPH=0 (for
  // debugging and A/B timing; tests switch them here).
  bool fast_kernels() const { return fast_kernels_; }
  void set_fast_kernels(bool on) { fast_kernels_ = on; }
  bool graphs() const { return graphs_; }
  void set_graphs(bool on) { graphs_ = on; }
  // Counts graph launches (programs call it; tests read it).
  void note_graph_launch() { ++graph_launches_; }
  uint64_t graph_launches() const { return graph_launches_; }

  // Device copy of a weight, shared by every program that binds the same host tensor
  // (keyed by data pointer, dtype and shape; kept alive by the programs holding it).
  // Q4_0, Q8_0, Q4_K, Q5_K, Q6_K stay in their block layout (quant.cu); other quantized
  // types are dequantized to F16 on upload.
  std::shared_ptr<const TensorView> weight(const TensorView& host, DType as);

  // Device mirror of a State tensor keyed by the host pointer: uploaded from the host on
  // first use, then kept on the device across runs (the host copy is not updated).
  void* state(const TensorView& host);
  void forget_state(const void* host);

  // Raises/reads the kernels' error flag (a device int). check_errors() synchronizes and
  // throws rlx::Error for a raised code, then clears it.
  int* error_flag() const { return error_flag_; }
  void check_errors();

 private:
  int device_;
  cudaStream_t stream_ = nullptr;
  cublasHandle_t cublas_ = nullptr;
  int* error_flag_ = nullptr;
  int* counters_ = nullptr;
  int multiprocessors_ = 1;
  int shared_per_block_optin_ = 48 << 10;
  bool fast_kernels_ = true, graphs_ = true;
  uint64_t scratch_epoch_ = 0, graph_launches_ = 0;
  DeviceBuffer scratch_;
  std::mutex mu_;
  using WeightKey = std::tuple<const void*, DType, std::string>;
  std::map<WeightKey, std::weak_ptr<const TensorView>> weights_;
  std::map<const void*, DeviceBuffer> states_;
};

// The context of device `index`; throws "CUDA device N is not available: ..." without one.
Context& context(int index);

// Drops the state mirrors of `host` on every device context created so far (called when the
// owner of a State tensor, e.g. a KvCache, goes away; creates no context).
void forget_state_everywhere(const void* host);

// Copies (on the context's stream; synchronous for pageable host memory).
void upload(Context& ctx, void* dst, const void* src, int64_t bytes);
void download(Context& ctx, void* dst, const void* src, int64_t bytes);

}  // namespace rlx::cuda
