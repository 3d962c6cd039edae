// Error checks for CUDA runtime and cuBLAS calls: a failure throws rlx::Error naming the call,
// the source location and the driver's message (a missing GPU is bad input, not a bug).
#pragma once
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include "rlx/core/error.h"

namespace rlx::cuda {

[[noreturn]] void throw_cuda_error(cudaError_t e, const char* expr, const char* file, int line);
[[noreturn]] void throw_cublas_error(cublasStatus_t s, const char* expr, const char* file,
                                     int line);

}  // namespace rlx::cuda

#define RLX_CUDA_CHECK(expr)                                                   \
  do {                                                                         \
    cudaError_t rlx_cuda_err_ = (expr);                                        \
    if (rlx_cuda_err_ != cudaSuccess)                                          \
      ::rlx::cuda::throw_cuda_error(rlx_cuda_err_, #expr, __FILE__, __LINE__); \
  } while (0)

#define RLX_CUBLAS_CHECK(expr)                                                    \
  do {                                                                            \
    cublasStatus_t rlx_cublas_st_ = (expr);                                       \
    if (rlx_cublas_st_ != CUBLAS_STATUS_SUCCESS)                                  \
      ::rlx::cuda::throw_cublas_error(rlx_cublas_st_, #expr, __FILE__, __LINE__); \
  } while (0)
