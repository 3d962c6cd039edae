// Linear (y = x·Wᵀ + b) and MatMul through cuBLAS. Row-major tensors are read as
// column-major transposes, so y[M,N] = x[M,K]·W[N,K]ᵀ is C(N×M) = op_T(W)·x in cuBLAS terms.
// F32 weights: plain SGEMM (no TF32, to match the CPU). F16/BF16 weights: activations are
// converted to the weight's type (as the CPU's dot kernels round them) and multiplied with
// F32 accumulation and F32 output (cublasGemmEx). Quantized weights arrive here as F16
// (dequantized at upload, see Context::weight), except the natively kept Q4_0/Q8_0/Q4_K/Q5_K/
// Q6_K: dequantize-to-F16 + GEMM (quant.cu). Decode-sized products (M <= 8) of any of these
// weights use the decode linear kernel (decode_linear.cu) unless the fast kernels are off.
#include <algorithm>

#include "backends/cuda/check.h"
#include "backends/cuda/cublas_api.h"
#include "backends/cuda/kernel.h"
#include "backends/cuda/launch.h"

namespace rlx::cuda {
namespace {

using ir::OpKind;

// Prefill with a quantized weight: the weight is dequantized to an F16 scratch, in chunks of
// rows (at most kChunkBytes), each multiplied by cublasGemmEx (tensor cores, F32 accumulate).
void quant_gemm(const KernelArgs& a, const float* x, int64_t M, int64_t N, int64_t K, float* y) {
  constexpr int64_t kChunkBytes = int64_t(64) << 20;
  const int64_t xh_bytes = (M * K * 2 + 255) / 256 * 256;
  const int64_t rows = std::min<int64_t>({N, 65535, std::max<int64_t>(1, kChunkBytes / (K * 2))});
  char* scratch = static_cast<char*>(a.ctx.scratch(xh_bytes + rows * K * 2));
  void* xh = scratch;
  void* wh = scratch + xh_bytes;
  launch_to_half(x, xh, DType::F16, M * K, a.ctx.stream());
  const int64_t rb = dtype_bytes(a.in[1].dtype, K);
  const float one = 1.f, zero = 0.f;
  for (int64_t n0 = 0; n0 < N; n0 += rows) {
    const int64_t n = std::min(rows, N - n0);
    launch_dequant_f16(static_cast<const char*>(a.in[1].data) + n0 * rb, a.in[1].dtype, n, K, wh,
                       a.ctx.stream());
    RLX_CUBLAS_CHECK(cublas_api().gemm_ex(a.ctx.cublas(), CUBLAS_OP_T, CUBLAS_OP_N, int(n), int(M),
                                          int(K), &one, wh, CUDA_R_16F, int(K), xh, CUDA_R_16F,
                                          int(K), &zero, y + n0, CUDA_R_32F, int(N),
                                          CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  }
}

void finish_bias(const KernelArgs& a, float* y, int64_t M, int64_t N) {
  if (a.in.size() <= 2) return;
  RLX_CHECK(a.in[2].dtype == DType::F32, "linear bias must be F32 (got {})",
            dtype_name(a.in[2].dtype));
  launch_add_bias(y, a.in[2].ptr<float>(), M, N, a.ctx.stream());
}

void k_linear(const KernelArgs& a) {
  const TensorView &x = a.in[0], &w = a.in[1];
  RLX_CHECK(x.dtype == DType::F32, "linear input must be F32 (got {})", dtype_name(x.dtype));
  const int64_t K = w.shape[1], N = w.shape[0], M = x.numel() / K;
  float* y = a.out.ptr<float>();
  const float one = 1.f, zero = 0.f;
  cublasHandle_t h = a.ctx.cublas();
  if (M > 0 && N > 0) {
    if (w.dtype == DType::F32) {
      RLX_CUBLAS_CHECK(cublas_api().sgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, int(N), int(M), int(K), &one,
                                          w.ptr<float>(), int(K), x.ptr<float>(), int(K), &zero, y,
                                          int(N)));
    } else {
      RLX_CHECK(native_quant(w.dtype) || w.dtype == DType::F16 || w.dtype == DType::BF16,
                "linear: weight type {} is not supported on CUDA", dtype_name(w.dtype));
      RLX_CHECK(w.is_contiguous(), "linear: a {} weight must be contiguous on CUDA",
                dtype_name(w.dtype));
      // Decode (a few rows): the decode linear kernel, bias included.
      if (a.ctx.fast_kernels() && fused_linears(std::span<const KernelArgs>(&a, 1))) return;
      if (native_quant(w.dtype)) {
        quant_gemm(a, x.ptr<float>(), M, N, K, y);
        return finish_bias(a, y, M, N);
      }
      const cudaDataType_t t = w.dtype == DType::F16 ? CUDA_R_16F : CUDA_R_16BF;
      void* xh = a.ctx.scratch(M * K * 2);
      launch_to_half(x.ptr<float>(), xh, w.dtype, M * K, a.ctx.stream());
      RLX_CUBLAS_CHECK(cublas_api().gemm_ex(
          h, CUBLAS_OP_T, CUBLAS_OP_N, int(N), int(M), int(K), &one, w.data, t, int(K), xh, t,
          int(K), &zero, y, CUDA_R_32F, int(N), CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
    }
  }
  finish_bias(a, y, M, N);
}

// a [..., M, K] · b [..., K, N] (or [..., N, K] with transpose_b); b is shared by every
// batch unless it has a's rank (> 2).
void k_matmul(const KernelArgs& a) {
  const TensorView &A = a.in[0], &B = a.in[1];
  RLX_CHECK(A.dtype == DType::F32 && B.dtype == DType::F32, "matmul supports F32 only on CUDA");
  const bool tb = a.node.attrs.transpose_b;
  const int64_t M = A.shape.at(-2), K = A.shape.at(-1), N = a.out.shape.at(-1);
  const int64_t batch = M * K > 0 ? A.numel() / (M * K) : 0;
  const bool b_batched = B.rank() == A.rank() && B.rank() > 2;
  if (batch == 0 || M == 0 || N == 0) return;
  const float one = 1.f, zero = 0.f;
  // C(N×M) = op(B)(N×K) · A(K×M), all column-major views of the row-major data.
  RLX_CUBLAS_CHECK(cublas_api().sgemm_strided_batched(
      a.ctx.cublas(), tb ? CUBLAS_OP_T : CUBLAS_OP_N, CUBLAS_OP_N, int(N), int(M), int(K), &one,
      B.ptr<float>(), tb ? int(K) : int(N), b_batched ? K * N : 0, A.ptr<float>(), int(K), M * K,
      &zero, a.out.ptr<float>(), int(N), M * N, int(batch)));
}

}  // namespace

void register_linear_kernels(KernelRegistry& r) {
  r.add(OpKind::Linear, k_linear);
  r.add(OpKind::MatMul, k_matmul);
}

}  // namespace rlx::cuda
