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

// attention_decode.cu: few query rows per KV head (decode), the keys split over many warps and
// the partial softmaxes merged. A plan with splits == 0 means the shape does not fit (more
// than 8 query rows per KV head, or a head dim over 256): use launch_attention.
struct DecodeAttentionPlan {
  int splits = 0;
  int64_t ml_floats = 0;  // partial (max, sum) pairs, before the partial sums in the workspace
  int64_t bytes = 0;      // device workspace
};
// kMaxDecodeGroups zeroed ints (Context::counters) that the kernel leaves zeroed; new_k/new_v
// (F32 [B, Tk, Hkv, D]) and the caches when the kernel also does the cache write (then
// launch_cache_write is not called; a full cache raises kErrKvCacheFull here).
constexpr int64_t kMaxDecodeGroups = 65536;
struct DecodeExtra {
  int* counters;
  const float* new_k = nullptr;
  const float* new_v = nullptr;
  void* kc = nullptr;
  void* vc = nullptr;
};
DecodeAttentionPlan plan_attention_decode(const AttentionArgs& a, int multiprocessors);
void launch_attention_decode(const AttentionArgs& a, const DecodeAttentionPlan& p,
                             const DecodeExtra& e, void* work, cudaStream_t s);

// decode_linear.cu: y[M, N] = in[M, K] · W[N, K]ᵀ (+ bias) (+ residual) for a few rows
// (decode) and F16, BF16, Q4_0, Q8_0, Q4_K, Q5_K or Q6_K weights, where `in` is x or
// rms_norm(x) · (norm_w + offset), staged in shared memory once per block (rounded to the weight
// type for 16-bit weights, as the cuBLAS path and the CPU see it); up to kGemvMaxParts weights
// that read the same input, each with its own output (one launch per weight type), or gate and
// up with silu(gate) · up as the output. Sums in F32. decode_linear_fits says whether the
// shapes, types and alignments suit it. Launched with PDL (may start before the previous
// kernel ends; it waits for it before reading anything but weights).
constexpr int64_t kDecodeLinearMaxM = 8;
constexpr int kGemvMaxParts = 3;
enum class LinearInput : int { Plain, RmsNorm };
struct DecodeLinear {
  struct Part {
    const void* w;
    DType type;
    const float* bias;  // or null
    float* y;           // [M, N]
    int64_t N;
  };
  Part parts[kGemvMaxParts];
  int count = 0;
  int64_t M = 0, K = 0;
  LinearInput input = LinearInput::Plain;
  const float* x = nullptr;       // [M, K]: the input or the norm's input
  const float* norm_w = nullptr;  // RmsNorm: [K] or null
  float eps = 0.f, offset = 0.f;  // RmsNorm
  // One part only: y = in · Wᵀ + bias + residual, [M, N]; may be y itself (read, then written).
  const float* residual = nullptr;
  // Two parts (gate, up: one type, the same N): silu(gate) · up, [M, N], goes here (their y
  // are not written).
  float* glu_out = nullptr;
};
// smem_limit: the device's opt-in shared memory per block (Context::shared_per_block_optin).
bool decode_linear_fits(const DecodeLinear& d, int64_t smem_limit);
void launch_decode_linear(const DecodeLinear& d, int multiprocessors, cudaStream_t s);
// decode_kernels.cu: small fused ops of a decode step.
// out = silu(gate) * up (F32, contiguous).
void launch_silu_mul(const float* gate, const float* up, float* out, int64_t n, cudaStream_t s);
// x = a + b, y = rms_norm(x) (weight w or null, plus offset), rows of D (F32, contiguous).
void launch_add_rms_norm(const float* a, const float* b, float* x, const float* w, float* y,
                         int64_t rows, int64_t D, float eps, float offset, cudaStream_t s);
// y = rope(rms_norm(x) · (w + offset)) (QK-norm then RoPE), or rope(x) without `norm`, for
// x [B, T, H, D], as launch_rms_norm followed by launch_rope; up to two tensors of the same
// positions and head size (q and k) in one launch; D <= 8192 (shared memory). y may be x, but
// one tensor's y must not overlap the other's x.
struct NormRope {
  const float* x;
  const float* w;  // or null
  float* y;
  int64_t H;
  bool norm;
  float eps, offset;
};
void launch_norm_rope(const NormRope* t, int count, const int32_t* pos, const float* inv_freq,
                      int64_t B, int64_t T, int64_t D, int64_t rot, bool neox, float mscale,
                      cudaStream_t s);

}  // namespace rlx::cuda
