// Kernel launchers implemented in the .cu files. Plain data only, so nvcc never parses the
// graph or tensor headers; kernels.cpp / linear.cpp translate KernelArgs into these calls.
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

#include "rlx/core/dtype.h"

namespace rlx::cuda {

constexpr int kMaxRank = 8;

// Codes that kernels raise through Context::error_flag (kernels cannot throw).
enum DeviceErrorCode : int { kErrNone = 0, kErrTokenRange = 1, kErrKvCacheFull = 2 };

// Shape and element strides of one operand (strides broadcast to the output shape where
// the op broadcasts; 0 on broadcast axes).
struct Layout {
  int rank = 0;
  int64_t shape[kMaxRank] = {};
  int64_t stride[kMaxRank] = {};
};

// elementwise.cu
enum class Binary : int { Add, Sub, Mul, Div };
enum class Unary : int {
  Scale,
  Silu,
  GeluErf,
  GeluTanh,
  Relu,
  Sigmoid,
  Tanh,
  Exp,
  Log,
  Softplus,
  Sqrt,
  Abs,
  Neg,
  Pow
};
void launch_binary(Binary op, const float* a, Layout la, const float* b, Layout lb, float* out,
                   int64_t n, cudaStream_t s);
void launch_unary(Unary op, const float* x, Layout lx, float* out, int64_t n, float p0, float p1,
                  cudaStream_t s);
void launch_cast(const void* x, DType xt, Layout lx, void* out, DType ot, int64_t n,
                 cudaStream_t s);
// Strided gather of `lx` (row-major element order) into contiguous `out`.
void launch_copy(const void* x, Layout lx, int64_t elem_bytes, void* out, int64_t n,
                 cudaStream_t s);
void launch_concat_part(const void* x, int64_t outer, int64_t part_inner, void* out,
                        int64_t out_inner, int64_t at, int64_t elem_bytes, cudaStream_t s);
void launch_pad(const void* x, int64_t outer, int64_t n, int64_t inner, void* out, int64_t m,
                int64_t before, bool reflect, int64_t elem_bytes, cudaStream_t s);
// out[t, :] = table[ids[t], :] as F32 (table F32/F16/BF16; ids I32 or I64). Out-of-range ids
// give zeros and raise kErrTokenRange.
void launch_embedding(const void* table, DType tt, int64_t V, int64_t D, const void* ids,
                      bool ids64, int64_t T, float* out, int* err, cudaStream_t s);
// F32 -> F16/BF16 (activations before a 16-bit GEMM).
void launch_to_half(const float* x, void* out, DType ot, int64_t n, cudaStream_t s);
void launch_add_bias(float* y, const float* bias, int64_t rows, int64_t n, cudaStream_t s);

// rows.cu (row-wise over the last axis, contiguous F32)
void launch_rms_norm(const float* x, const float* w, float* y, int64_t rows, int64_t D, float eps,
                     float offset, cudaStream_t s);
void launch_layer_norm(const float* x, const float* w, const float* b, float* y, int64_t rows,
                       int64_t D, float eps, cudaStream_t s);
void launch_softmax(const float* x, float* y, int64_t rows, int64_t D, float scale, float softcap,
                    cudaStream_t s);
void launch_rope(const float* x, const int32_t* pos, const float* inv_freq, float* y, int64_t B,
                 int64_t T, int64_t H, int64_t D, int64_t rot, bool neox, float mscale,
                 cudaStream_t s);

// reduce.cu
enum class Reduce : int { Sum, Mean, Max };
void launch_reduce(Reduce op, const float* x, float* out, int64_t outer, int64_t n, int64_t inner,
                   cudaStream_t s);
void launch_argmax(const float* x, int32_t* out, int64_t outer, int64_t n, int64_t inner,
                   cudaStream_t s);
void launch_conv1d(const float* x, const float* w, const float* bias, float* y, int64_t B,
                   int64_t Cin, int64_t L, int64_t Cout, int64_t K, int64_t Lout, int64_t stride,
                   int64_t padding, int64_t dilation, int64_t groups, cudaStream_t s);

// quant.cu: weights kept in their GGUF block layout (Q4_0, Q8_0, Q4_K, Q5_K, Q6_K).
bool native_quant(DType t);
// Matrix-vector products with at most this many activation rows use launch_matvec.
constexpr int kMatvecMaxM = 8;
// y[M, N] = x[M, K] · W[N, K]ᵀ for a native quantized (or F16, K % 8 == 0) W, M <= kMatvecMaxM;
// one warp per output row, F32 accumulation.
void launch_matvec(const void* w, DType t, int64_t N, int64_t K, const float* x, int M, float* y,
                   cudaStream_t s);
// Rows [0, rows) of a native quantized [rows, K] matrix to F16 (row-major); rows <= 65535,
// `out` 16-byte aligned.
void launch_dequant_f16(const void* w, DType t, int64_t rows, int64_t K, void* out, cudaStream_t s);
// Embedding gather from a native quantized table, rows dequantized to F32 (as to_f32).
void launch_embedding_quant(const void* table, DType t, int64_t V, int64_t D, const void* ids,
                            bool ids64, int64_t T, float* out, int* err, cudaStream_t s);

// attention.cu
struct AttentionArgs {
  const float* q;  // [B, Tq, Hq, D]
  const void* k;   // as described by the strides below (F32, or F16 for a cache)
  const void* v;
  bool kv_f16;
  int64_t B, Tq, Hq, Hkv, D, Dv;
  int64_t k_bs, k_hs, k_js, v_bs, v_hs, v_js;  // batch / head / key strides in elements
  int64_t n_keys;                              // without a cache; with one, kv_pos + Tk
  const int32_t* kv_pos;                       // device scalar, or null (no cache)
  int64_t Tk;                                  // new keys (with a cache)
  int64_t cache_len;                           // S (with a cache)
  int mask;                                    // ir::MaskKind
  int64_t window;
  float scale, softcap;
  const void* key_mask;  // [B, mask_cols] or null
  DType key_mask_type;
  int64_t mask_cols;
  float* out;  // [B, Tq, Hq, Dv]
  int* err;
};
// Writes the new K/V rows ([B, Tk, Hkv, D] F32) into the caches at kv_pos (raising
// kErrKvCacheFull when they do not fit).
void launch_cache_write(const float* k, const float* v, void* kc, void* vc, bool f16, int64_t B,
                        int64_t Tk, int64_t Hkv, int64_t S, int64_t D, int64_t Dv,
                        const int32_t* kv_pos, int* err, cudaStream_t s);
void launch_attention(const AttentionArgs& a, cudaStream_t s);
// Prefill attention uses the flash kernel unless turned off (tests compare it with the plain
// kernel); process-wide.
void set_flash_attention(bool on);

}  // namespace rlx::cuda
