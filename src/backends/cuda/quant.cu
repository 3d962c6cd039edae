// Quantized weights in their GGUF block layout on the device (Q4_0, Q8_0, Q4_K, Q5_K, Q6_K):
// dequantization to F16 (the prefill GEMM's scratch) and of gathered embedding rows. Decode's
// matrix-vector products decode blocks in registers instead (decode_linear.cu).
// Block layouts and the element formulas are the CPU reference's (src/core/quant); the
// element-wise dequantizers round like it (no FMA contraction), so embeddings match exactly.
#include "backends/cuda/common.cuh"

namespace rlx::cuda {
namespace {

// ---- loads from 2-byte aligned block fields ----
__device__ inline float ld_f16(const uint8_t* p) {
  return __half2float(__ushort_as_half(*reinterpret_cast<const uint16_t*>(p)));
}

__device__ inline void scale_min_k4(int j, const uint8_t* q, int& sc, int& m) {
  if (j < 4) {
    sc = q[j] & 63;
    m = q[j + 4] & 63;
  } else {
    sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// ---- per-type traits: block elements / bytes, element dequantizer ----
template <int Q>
struct Fmt;

template <>
struct Fmt<int(DType::Q4_0)> {
  static constexpr int kQK = 32, kBytes = 18;
  __device__ static float elem(const uint8_t* b, int i) {
    const uint8_t q = b[2 + (i & 15)];
    return __fmul_rn(float(int(i < 16 ? q & 0xF : q >> 4) - 8), ld_f16(b));
  }
};

template <>
struct Fmt<int(DType::Q8_0)> {
  static constexpr int kQK = 32, kBytes = 34;
  __device__ static float elem(const uint8_t* b, int i) {
    return __fmul_rn(float(int8_t(b[2 + i])), ld_f16(b));
  }
};

template <>
struct Fmt<int(DType::Q4_K)> {  // d, dmin, scales[12], qs[128]
  static constexpr int kQK = 256, kBytes = 144;
  __device__ static float elem(const uint8_t* b, int i) {
    const int c = i >> 6, hi = (i >> 5) & 1, l = i & 31;
    int sc, m;
    scale_min_k4(2 * c + hi, b + 4, sc, m);
    const uint8_t q = b[16 + 32 * c + l];
    const float d1 = __fmul_rn(ld_f16(b), float(sc)), m1 = __fmul_rn(ld_f16(b + 2), float(m));
    return __fsub_rn(__fmul_rn(d1, float(hi ? q >> 4 : q & 0xF)), m1);
  }
};

template <>
struct Fmt<int(DType::Q5_K)> {  // d, dmin, scales[12], qh[32], qs[128]
  static constexpr int kQK = 256, kBytes = 176;
  __device__ static float elem(const uint8_t* b, int i) {
    const int c = i >> 6, hi = (i >> 5) & 1, l = i & 31;
    int sc, m;
    scale_min_k4(2 * c + hi, b + 4, sc, m);
    const uint8_t q = b[48 + 32 * c + l];
    const int v = (hi ? q >> 4 : q & 0xF) + ((b[16 + l] >> (2 * c + hi)) & 1 ? 16 : 0);
    const float d1 = __fmul_rn(ld_f16(b), float(sc)), m1 = __fmul_rn(ld_f16(b + 2), float(m));
    return __fsub_rn(__fmul_rn(d1, float(v)), m1);
  }
};

template <>
struct Fmt<int(DType::Q6_K)> {  // ql[128], qh[64], scales[16] (int8), d
  static constexpr int kQK = 256, kBytes = 210;
  __device__ static float elem(const uint8_t* b, int i) {
    const int h = i >> 7, quarter = (i >> 5) & 3, l = i & 31;
    const uint8_t qlb = b[64 * h + l + 32 * (quarter & 1)];
    const int nib = quarter >= 2 ? qlb >> 4 : qlb & 0xF;
    const int hb = (b[128 + 32 * h + l] >> (2 * quarter)) & 3;
    const int q = (nib | (hb << 4)) - 32;
    const int8_t sc = int8_t(b[192 + 8 * h + l / 16 + 2 * quarter]);
    return __fmul_rn(__fmul_rn(ld_f16(b + 208), float(sc)), float(q));
  }
};

// Row blockIdx.y of a quantized matrix to F16 (row-major, K per row); each thread writes 8
// consecutive elements (one 16-byte store; K is a multiple of the 32-element blocks).
template <int Q>
__global__ void k_dequant_f16(const uint8_t* __restrict__ w, int64_t row_bytes, int K,
                              __half* __restrict__ out) {
  using F = Fmt<Q>;
  const int k0 = (blockIdx.x * blockDim.x + threadIdx.x) * 8;
  if (k0 >= K) return;
  const uint8_t* b = w + blockIdx.y * row_bytes + (k0 / F::kQK) * F::kBytes;
  const int i0 = k0 % F::kQK;
  __align__(16) __half h[8];
#pragma unroll
  for (int i = 0; i < 8; ++i) h[i] = __float2half_rn(F::elem(b, i0 + i));
  *reinterpret_cast<uint4*>(out + blockIdx.y * int64_t(K) + k0) = *reinterpret_cast<uint4*>(h);
}

template <int Q>
__global__ void k_embedding_quant(const uint8_t* __restrict__ table, int64_t row_bytes, int64_t V,
                                  int64_t D, const void* ids, bool ids64, int64_t T,
                                  float* __restrict__ out, int* err) {
  allow_next_kernel();  // the decode linears after it start early (PDL)
  using F = Fmt<Q>;
  const int64_t n = T * D;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t t = e / D, d = e % D;
    const int64_t id =
        ids64 ? static_cast<const int64_t*>(ids)[t] : static_cast<const int32_t*>(ids)[t];
    if (id < 0 || id >= V) {
      out[e] = 0.f;
      atomicExch(err, kErrTokenRange);
      continue;
    }
    out[e] = F::elem(table + id * row_bytes + (d / F::kQK) * F::kBytes, int(d % F::kQK));
  }
}

template <int Q>
int64_t row_bytes_of(int64_t K) {
  return K / Fmt<Q>::kQK * Fmt<Q>::kBytes;
}

// Runs BODY with Q bound to the native type t (no-op for other types).
#define RLX_QUANT_DISPATCH(t, BODY)       \
  switch (t) {                            \
    case DType::Q4_0: {                   \
      constexpr int Q = int(DType::Q4_0); \
      BODY;                               \
    } break;                              \
    case DType::Q8_0: {                   \
      constexpr int Q = int(DType::Q8_0); \
      BODY;                               \
    } break;                              \
    case DType::Q4_K: {                   \
      constexpr int Q = int(DType::Q4_K); \
      BODY;                               \
    } break;                              \
    case DType::Q5_K: {                   \
      constexpr int Q = int(DType::Q5_K); \
      BODY;                               \
    } break;                              \
    case DType::Q6_K: {                   \
      constexpr int Q = int(DType::Q6_K); \
      BODY;                               \
    } break;                              \
    default:                              \
      break;                              \
  }

template <int Q>
void dequant_as(const void* w, int64_t rows, int64_t K, void* out, cudaStream_t s) {
  const dim3 grid(grid_for(K / 8), unsigned(rows));
  k_dequant_f16<Q><<<grid, kThreads, 0, s>>>(static_cast<const uint8_t*>(w), row_bytes_of<Q>(K),
                                             int(K), static_cast<__half*>(out));
}

template <int Q>
void embedding_as(const void* table, int64_t V, int64_t D, const void* ids, bool ids64, int64_t T,
                  float* out, int* err, cudaStream_t s) {
  k_embedding_quant<Q><<<grid_for(T * D), kThreads, 0, s>>>(
      static_cast<const uint8_t*>(table), row_bytes_of<Q>(D), V, D, ids, ids64, T, out, err);
}

}  // namespace

bool native_quant(DType t) {
  return t == DType::Q4_0 || t == DType::Q8_0 || t == DType::Q4_K || t == DType::Q5_K ||
         t == DType::Q6_K;
}

void launch_dequant_f16(const void* w, DType t, int64_t rows, int64_t K, void* out,
                        cudaStream_t s) {
  if (rows <= 0 || K <= 0) return;
  RLX_QUANT_DISPATCH(t, (dequant_as<Q>(w, rows, K, out, s)));
  RLX_CUDA_LAUNCHED();
}

void launch_embedding_quant(const void* table, DType t, int64_t V, int64_t D, const void* ids,
                            bool ids64, int64_t T, float* out, int* err, cudaStream_t s) {
  if (T * D <= 0) return;
  RLX_QUANT_DISPATCH(t, (embedding_as<Q>(table, V, D, ids, ids64, T, out, err, s)));
  RLX_CUDA_LAUNCHED();
}

}  // namespace rlx::cuda
