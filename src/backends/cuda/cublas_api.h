// cuBLAS entry points, resolved with dlopen on first use. Linking libcublas directly costs every
// rlx process about 200 MiB of resident memory at startup (libcublasLt's relocations and static
// data), CPU-only runs included; loading it when a CUDA context is made keeps that off them.
#pragma once
#include <cublas_v2.h>

namespace rlx::cuda {

struct CublasApi {
  decltype(&cublasCreate_v2) create = nullptr;
  decltype(&cublasDestroy_v2) destroy = nullptr;
  decltype(&cublasSetStream_v2) set_stream = nullptr;
  decltype(&cublasSetMathMode) set_math_mode = nullptr;
  decltype(&cublasSgemm_v2) sgemm = nullptr;
  // The exported cublasGemmEx (the header adds an inline overload taking a cudaDataType).
  cublasStatus_t (*gemm_ex)(cublasHandle_t, cublasOperation_t, cublasOperation_t, int, int, int,
                            const void*, const void*, cudaDataType, int, const void*, cudaDataType,
                            int, const void*, void*, cudaDataType, int, cublasComputeType_t,
                            cublasGemmAlgo_t) = nullptr;
  decltype(&cublasSgemmStridedBatched) sgemm_strided_batched = nullptr;
  decltype(&cublasGetStatusString) status_string = nullptr;
  decltype(&cublasGetStatusName) status_name = nullptr;
};

// Loads libcublas.so.13 (or libcublas.so) once; throws rlx::Error naming the library and the
// loader's message when it or one of its functions is missing.
const CublasApi& cublas_api();

}  // namespace rlx::cuda
