// Quantized weights in their GGUF block layout on the device (Q4_0, Q8_0, Q4_K, Q5_K, Q6_K):
//  - matrix-vector (decode, M <= kMatvecMaxM): one warp per output row, the weights
//    dequantized in registers and dotted with F32 activations (F32 accumulation); every lane
//    reads one contiguous piece of a block, so a warp streams whole blocks;
//  - dequantization to F16 (the prefill GEMM's scratch) and of gathered embedding rows.
// Block layouts and the element formulas are the CPU reference's (src/core/quant); the
// element-wise dequantizers round like it (no FMA contraction), so embeddings match exactly.
#include "backends/cuda/common.cuh"

namespace rlx::cuda {
namespace {

// ---- loads from 2-byte aligned block fields ----
__device__ inline float ld_f16(const uint8_t* p) {
  return __half2float(__ushort_as_half(*reinterpret_cast<const uint16_t*>(p)));
}
__device__ inline uint32_t ld_u32_a2(const uint8_t* p) {
  const uint16_t* h = reinterpret_cast<const uint16_t*>(p);
  return uint32_t(h[0]) | (uint32_t(h[1]) << 16);
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

// ---- per-type traits: block elements / bytes, element dequantizer, warp-piece decoder ----
// A piece is what one lane decodes for the matrix-vector kernel: kRuns runs of kRun
// consecutive elements (starting at start[r] within the block), kLanes lanes per block.
template <int Q>
struct Fmt;

template <>
struct Fmt<int(DType::Q4_0)> {
  static constexpr int kQK = 32, kBytes = 18, kLanes = 4, kRuns = 2, kRun = 4;
  __device__ static float elem(const uint8_t* b, int i) {
    const uint8_t q = b[2 + (i & 15)];
    return __fmul_rn(float(int(i < 16 ? q & 0xF : q >> 4) - 8), ld_f16(b));
  }
  __device__ static void piece(const uint8_t* b, int p, float* w, int* start) {
    const float d = ld_f16(b);
    const uint32_t q = ld_u32_a2(b + 2 + 4 * p);
    start[0] = 4 * p, start[1] = 16 + 4 * p;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      w[i] = float(int((q >> (8 * i)) & 0xF) - 8) * d;
      w[4 + i] = float(int((q >> (8 * i + 4)) & 0xF) - 8) * d;
    }
  }
};

template <>
struct Fmt<int(DType::Q8_0)> {
  static constexpr int kQK = 32, kBytes = 34, kLanes = 4, kRuns = 1, kRun = 8;
  __device__ static float elem(const uint8_t* b, int i) {
    return __fmul_rn(float(int8_t(b[2 + i])), ld_f16(b));
  }
  __device__ static void piece(const uint8_t* b, int p, float* w, int* start) {
    const float d = ld_f16(b);
    const uint32_t q0 = ld_u32_a2(b + 2 + 8 * p), q1 = ld_u32_a2(b + 6 + 8 * p);
    start[0] = 8 * p;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      w[i] = float(int8_t(q0 >> (8 * i))) * d;
      w[4 + i] = float(int8_t(q1 >> (8 * i))) * d;
    }
  }
};

template <>
struct Fmt<int(DType::Q4_K)> {  // d, dmin, scales[12], qs[128]
  static constexpr int kQK = 256, kBytes = 144, kLanes = 16, kRuns = 2, kRun = 8;
  __device__ static float elem(const uint8_t* b, int i) {
    const int c = i >> 6, hi = (i >> 5) & 1, l = i & 31;
    int sc, m;
    scale_min_k4(2 * c + hi, b + 4, sc, m);
    const uint8_t q = b[16 + 32 * c + l];
    const float d1 = __fmul_rn(ld_f16(b), float(sc)), m1 = __fmul_rn(ld_f16(b + 2), float(m));
    return __fsub_rn(__fmul_rn(d1, float(hi ? q >> 4 : q & 0xF)), m1);
  }
  // Lane p: chunk c = p / 4 (64 elements), bytes l0 = 8 * (p % 4) of its 32: elements
  // 64c + l0 + i (low nibbles, scale 2c) and 64c + 32 + l0 + i (high nibbles, scale 2c + 1).
  __device__ static void piece(const uint8_t* b, int p, float* w, int* start) {
    const int c = p >> 2, l0 = 8 * (p & 3);
    const float d = ld_f16(b), dmin = ld_f16(b + 2);
    int sc, m;
    scale_min_k4(2 * c, b + 4, sc, m);
    const float d1 = d * float(sc), m1 = dmin * float(m);
    scale_min_k4(2 * c + 1, b + 4, sc, m);
    const float d2 = d * float(sc), m2 = dmin * float(m);
    const uint2 q = *reinterpret_cast<const uint2*>(b + 16 + 32 * c + l0);
    start[0] = 64 * c + l0, start[1] = 64 * c + 32 + l0;
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const uint32_t byte = ((i < 4 ? q.x : q.y) >> (8 * (i & 3))) & 0xFF;
      w[i] = d1 * float(byte & 0xF) - m1;
      w[8 + i] = d2 * float(byte >> 4) - m2;
    }
  }
};

template <>
struct Fmt<int(DType::Q5_K)> {  // d, dmin, scales[12], qh[32], qs[128]
  static constexpr int kQK = 256, kBytes = 176, kLanes = 16, kRuns = 2, kRun = 8;
  __device__ static float elem(const uint8_t* b, int i) {
    const int c = i >> 6, hi = (i >> 5) & 1, l = i & 31;
    int sc, m;
    scale_min_k4(2 * c + hi, b + 4, sc, m);
    const uint8_t q = b[48 + 32 * c + l];
    const int v = (hi ? q >> 4 : q & 0xF) + ((b[16 + l] >> (2 * c + hi)) & 1 ? 16 : 0);
    const float d1 = __fmul_rn(ld_f16(b), float(sc)), m1 = __fmul_rn(ld_f16(b + 2), float(m));
    return __fsub_rn(__fmul_rn(d1, float(v)), m1);
  }
  __device__ static void piece(const uint8_t* b, int p, float* w, int* start) {
    const int c = p >> 2, l0 = 8 * (p & 3);
    const float d = ld_f16(b), dmin = ld_f16(b + 2);
    int sc, m;
    scale_min_k4(2 * c, b + 4, sc, m);
    const float d1 = d * float(sc), m1 = dmin * float(m);
    scale_min_k4(2 * c + 1, b + 4, sc, m);
    const float d2 = d * float(sc), m2 = dmin * float(m);
    const uint2 q = *reinterpret_cast<const uint2*>(b + 48 + 32 * c + l0);
    const uint2 h = *reinterpret_cast<const uint2*>(b + 16 + l0);
    start[0] = 64 * c + l0, start[1] = 64 * c + 32 + l0;
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const int sh = 8 * (i & 3);
      const uint32_t byte = ((i < 4 ? q.x : q.y) >> sh) & 0xFF;
      const uint32_t hb = ((i < 4 ? h.x : h.y) >> sh) >> (2 * c);
      w[i] = d1 * float(int(byte & 0xF) + int(hb & 1) * 16) - m1;
      w[8 + i] = d2 * float(int(byte >> 4) + int((hb >> 1) & 1) * 16) - m2;
    }
  }
};

template <>
struct Fmt<int(DType::Q6_K)> {  // ql[128], qh[64], scales[16] (int8), d
  static constexpr int kQK = 256, kBytes = 210, kLanes = 16, kRuns = 4, kRun = 4;
  __device__ static float elem(const uint8_t* b, int i) {
    const int h = i >> 7, quarter = (i >> 5) & 3, l = i & 31;
    const uint8_t qlb = b[64 * h + l + 32 * (quarter & 1)];
    const int nib = quarter >= 2 ? qlb >> 4 : qlb & 0xF;
    const int hb = (b[128 + 32 * h + l] >> (2 * quarter)) & 3;
    const int q = (nib | (hb << 4)) - 32;
    const int8_t sc = int8_t(b[192 + 8 * h + l / 16 + 2 * quarter]);
    return __fmul_rn(__fmul_rn(ld_f16(b + 208), float(sc)), float(q));
  }
  // Lane p: half h = p / 8, l0 = 4 * (p % 8): elements 128h + 32k + l0 + i for k = 0..3.
  __device__ static void piece(const uint8_t* b, int p, float* w, int* start) {
    const int h = p >> 3, l0 = 4 * (p & 7);
    const float d = ld_f16(b + 208);
    const uint32_t qa = ld_u32_a2(b + 64 * h + l0), qb = ld_u32_a2(b + 64 * h + 32 + l0);
    const uint32_t qh = ld_u32_a2(b + 128 + 32 * h + l0);
    const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192 + 8 * h + l0 / 16);
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      start[k] = 128 * h + 32 * k + l0;
      const float dk = d * float(sc[2 * k]);
      const uint32_t ql = (k & 1) ? qb : qa;
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        const int nib = ((ql >> (8 * i)) >> (k >= 2 ? 4 : 0)) & 0xF;
        const int hb = ((qh >> (8 * i)) >> (2 * k)) & 3;
        w[4 * k + i] = dk * float((nib | (hb << 4)) - 32);
      }
    }
  }
};

// F16 as a "block" of 8 halves (one 16-byte load per lane); activations are rounded to F16
// first, as the CPU's F16 dot kernels do.
template <>
struct Fmt<int(DType::F16)> {
  static constexpr int kQK = 8, kBytes = 16, kLanes = 1, kRuns = 1, kRun = 8;
  __device__ static void piece(const uint8_t* b, int, float* w, int* start) {
    const uint4 v = *reinterpret_cast<const uint4*>(b);
    const __half2* h = reinterpret_cast<const __half2*>(&v);
    start[0] = 0;
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const float2 f = __half22float2(h[i]);
      w[2 * i] = f.x, w[2 * i + 1] = f.y;
    }
  }
};

constexpr int kRowsPerBlock = 4;  // warps per CUDA block, one output row each

template <int Q>
__global__ void __launch_bounds__(32 * kRowsPerBlock)
    k_matvec(const uint8_t* __restrict__ w, int64_t row_bytes, int64_t nb, int64_t N,
             const float* __restrict__ x, int64_t K, int M, float* __restrict__ y) {
  using F = Fmt<Q>;
  constexpr int kPer = 32 / F::kLanes, kElems = F::kRuns * F::kRun;
  const int lane = threadIdx.x & 31;
  const int64_t n = blockIdx.x * int64_t(kRowsPerBlock) + (threadIdx.x >> 5);
  if (n >= N) return;
  const uint8_t* row = w + n * row_bytes;
  const int part = lane % F::kLanes;
  const bool x16 = (reinterpret_cast<uintptr_t>(x) & 15) == 0 && (K & 3) == 0;
  float acc[kMatvecMaxM];
#pragma unroll
  for (int m = 0; m < kMatvecMaxM; ++m) acc[m] = 0.f;
  for (int64_t blk = lane / F::kLanes; blk < nb; blk += kPer) {
    float wv[kElems];
    int start[F::kRuns];
    F::piece(row + blk * F::kBytes, part, wv, start);
    const float* xb = x + blk * F::kQK;
#pragma unroll
    for (int m = 0; m < kMatvecMaxM; ++m) {
      if (m >= M) break;
      const float* xm = xb + m * K;
      float s = 0.f;
#pragma unroll
      for (int r = 0; r < F::kRuns; ++r) {
#pragma unroll
        for (int i = 0; i < F::kRun; i += 4) {
          float4 v;
          if (x16) {
            v = *reinterpret_cast<const float4*>(xm + start[r] + i);
          } else {
            v.x = xm[start[r] + i], v.y = xm[start[r] + i + 1];
            v.z = xm[start[r] + i + 2], v.w = xm[start[r] + i + 3];
          }
          if (Q == int(DType::F16)) {
            v.x = __half2float(__float2half_rn(v.x)), v.y = __half2float(__float2half_rn(v.y));
            v.z = __half2float(__float2half_rn(v.z)), v.w = __half2float(__float2half_rn(v.w));
          }
          const float* wr = wv + r * F::kRun + i;
          s += wr[0] * v.x + wr[1] * v.y + wr[2] * v.z + wr[3] * v.w;
        }
      }
      acc[m] += s;
    }
  }
#pragma unroll
  for (int m = 0; m < kMatvecMaxM; ++m) {
    if (m >= M) break;
    const float s = warp_sum(acc[m]);
    if (lane == 0) y[m * N + n] = s;
  }
}

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
void matvec_as(const void* w, int64_t N, int64_t K, const float* x, int M, float* y,
               cudaStream_t s) {
  using F = Fmt<Q>;
  const unsigned grid = unsigned((N + kRowsPerBlock - 1) / kRowsPerBlock);
  k_matvec<Q><<<grid, 32 * kRowsPerBlock, 0, s>>>(static_cast<const uint8_t*>(w),
                                                  row_bytes_of<Q>(K), K / F::kQK, N, x, K, M, y);
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

void launch_matvec(const void* w, DType t, int64_t N, int64_t K, const float* x, int M, float* y,
                   cudaStream_t s) {
  if (N <= 0 || M <= 0) return;
  if (t == DType::F16) {
    matvec_as<int(DType::F16)>(w, N, K, x, M, y, s);
  } else {
    RLX_QUANT_DISPATCH(t, (matvec_as<Q>(w, N, K, x, M, y, s)));
  }
  RLX_CUDA_LAUNCHED();
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
