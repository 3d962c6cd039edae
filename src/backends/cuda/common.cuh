// Device helpers shared by the .cu files: launch geometry, strided offsets, typed loads.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "backends/cuda/check.h"
#include "backends/cuda/launch.h"

namespace rlx::cuda {

constexpr int kThreads = 256;

inline unsigned grid_for(int64_t n, int threads = kThreads) {
  int64_t g = (n + threads - 1) / threads;
  return unsigned(g < 1 ? 1 : (g > (1 << 30) ? (1 << 30) : g));
}

// Element offset of flat (row-major) index i in a strided layout.
__device__ inline int64_t strided_offset(const Layout& l, int64_t i) {
  int64_t off = 0;
  for (int d = l.rank - 1; d >= 0; --d) {
    const int64_t n = l.shape[d];
    off += (i % n) * l.stride[d];
    i /= n;
  }
  return off;
}

__device__ inline double load_as_double(const void* p, DType t, int64_t i) {
  switch (t) {
    case DType::F32:
      return static_cast<const float*>(p)[i];
    case DType::F16:
      return __half2float(static_cast<const __half*>(p)[i]);
    case DType::BF16:
      return __bfloat162float(static_cast<const __nv_bfloat16*>(p)[i]);
    case DType::F64:
      return static_cast<const double*>(p)[i];
    case DType::I32:
      return static_cast<const int32_t*>(p)[i];
    case DType::I64:
      return double(static_cast<const int64_t*>(p)[i]);
    case DType::I8:
      return static_cast<const int8_t*>(p)[i];
    default:  // U8, Bool (others are rejected on the host)
      return static_cast<const uint8_t*>(p)[i];
  }
}

// Block-wide sum / max of one float per thread (blockDim.x a multiple of 32, at most 1024).
__device__ inline float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ inline float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}
template <bool kMax>
__device__ inline float block_reduce(float v, float* shared32) {
  const int lane = threadIdx.x & 31, wid = threadIdx.x >> 5, nw = blockDim.x >> 5;
  v = kMax ? warp_max(v) : warp_sum(v);
  __syncthreads();  // shared32 may still be read by a previous reduction
  if (lane == 0) shared32[wid] = v;
  __syncthreads();
  float r = lane < nw ? shared32[lane] : (kMax ? -INFINITY : 0.f);
  r = kMax ? warp_max(r) : warp_sum(r);
  return r;
}

// PDL (sm_90): lets the next kernel in the stream, when it is launched with programmatic
// stream serialization, start before this one ends (it waits for this one's results itself).
// A no-op for kernels launched normally and before sm_90.
__device__ inline void allow_next_kernel() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.launch_dependents;");
#endif
}

// The other side: a kernel launched with programmatic stream serialization waits here for the
// previous kernel to end (and its writes to be visible) before reading its outputs.
__device__ inline void wait_for_previous_kernel() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
#endif
}

#define RLX_CUDA_LAUNCHED() RLX_CUDA_CHECK(cudaGetLastError())

}  // namespace rlx::cuda
