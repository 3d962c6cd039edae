// Decode kernels: the F16/BF16 matrix-vector product and the fused small ops that save
// launches per layer (SiLU·mul, residual add + RMSNorm).
//
// Matrix-vector product: y[M, N] = x[M, K] · W[N, K]ᵀ with an F16/BF16 weight and a few
// activation rows; up to three weights that read the same x (q/k/v, gate/up) in one launch. Decode
// reads every weight once per token, so the kernel is a stream of 128-bit weight loads: one warp
// per output column, each lane takes 8 weights at a time and the M activation rows reuse them.
// Activations are rounded to the weight's type before the product (as cuBLAS after launch_to_half
// and the CPU's dot kernels see them); sums are F32.
#include <cstdint>

#include "backends/cuda/common.cuh"

namespace rlx::cuda {
namespace {

constexpr int kGemvWarps = 8;  // output columns per block

template <typename WT>
struct GemvParts {
  const WT* w[kGemvMaxParts];
  const float* bias[kGemvMaxParts];
  float* y[kGemvMaxParts];
  int64_t N[kGemvMaxParts];
  unsigned end[kGemvMaxParts];
  int count;
};

__device__ inline void unpack8(const uint4& u, float (&w)[8], const __half*) {
  const __half2* h = reinterpret_cast<const __half2*>(&u);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 f = __half22float2(h[i]);
    w[2 * i] = f.x, w[2 * i + 1] = f.y;
  }
}
__device__ inline void unpack8(const uint4& u, float (&w)[8], const __nv_bfloat16*) {
  const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&u);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 f = __bfloat1622float2(h[i]);
    w[2 * i] = f.x, w[2 * i + 1] = f.y;
  }
}
__device__ inline float round_to(float x, const __half*) {
  return __half2float(__float2half_rn(x));
}
__device__ inline float round_to(float x, const __nv_bfloat16*) {
  return __bfloat162float(__float2bfloat16_rn(x));
}

// Output column n from `wpr` warps (warp `sub` of them takes every wpr-th run of 256 weights);
// the warps' sums meet in shared memory. Every thread of the block reaches the barrier.
// With kGlu, x is silu(x) * up (the SiLU-gated MLP's product, computed as the unary and binary
// kernels compute it, then rounded like any x).
template <typename WT, int M, bool kGlu>
__device__ inline void gemv_column(const WT* __restrict__ w, const float* __restrict__ x,
                                   const float* __restrict__ up, const float* __restrict__ bias,
                                   float* __restrict__ y, int64_t N, int64_t K, int64_t n, int wpr,
                                   int sub, int lane) {
  __shared__ float part[kGemvWarps][M];
  float sum[M];
#pragma unroll
  for (int m = 0; m < M; ++m) sum[m] = 0.f;
  if (n < N) {
    const uint4* wr = reinterpret_cast<const uint4*>(w + n * K);
    const int64_t groups = K / 8;  // 8 weights per 128-bit load
#pragma unroll 4
    for (int64_t g = sub * 32 + lane; g < groups; g += 32 * wpr) {
      float wv[8];
      unpack8(__ldg(wr + g), wv, w);
#pragma unroll
      for (int m = 0; m < M; ++m) {
        const float4* xr = reinterpret_cast<const float4*>(x + m * K) + 2 * g;
        const float4 a = __ldg(xr), b = __ldg(xr + 1);
        float xv[8] = {a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w};
        if constexpr (kGlu) {
          const float4* ur = reinterpret_cast<const float4*>(up + m * K) + 2 * g;
          const float4 c = __ldg(ur), d = __ldg(ur + 1);
          const float uv[8] = {c.x, c.y, c.z, c.w, d.x, d.y, d.z, d.w};
#pragma unroll
          for (int i = 0; i < 8; ++i) xv[i] = xv[i] / (1.f + expf(-xv[i])) * uv[i];
        }
#pragma unroll
        for (int i = 0; i < 8; ++i) sum[m] += wv[i] * round_to(xv[i], w);
      }
    }
  }
#pragma unroll
  for (int m = 0; m < M; ++m) sum[m] = warp_sum(sum[m]);
  if (wpr > 1) {
    const int warp = threadIdx.x >> 5;
    if (lane == 0)
#pragma unroll
      for (int m = 0; m < M; ++m) part[warp][m] = sum[m];
    __syncthreads();
    if (sub != 0) return;
#pragma unroll
    for (int m = 0; m < M; ++m)
      for (int k = 1; k < wpr; ++k) sum[m] += part[warp + k][m];
  }
  if (lane == 0 && n < N)
#pragma unroll
    for (int m = 0; m < M; ++m) y[m * N + n] = sum[m] + (bias ? bias[n] : 0.f);
}

// Blocks [0, end[0]) serve part 0, [end[0], end[1]) part 1, [end[1], end[2]) part 2; a block
// computes kGemvWarps / wpr columns.
template <typename WT, int M, bool kGlu>
__global__ void __launch_bounds__(kGemvWarps * 32)
    k_gemv_half(GemvParts<WT> p, const float* __restrict__ x, const float* __restrict__ up,
                int64_t K, int wpr) {
  // Constant indices only (a dynamic index would copy the parameters to local memory).
  const unsigned b = blockIdx.x;
  const int i = b < p.end[0] ? 0 : (b < p.end[1] || p.count < 3 ? 1 : 2);
  const unsigned first = i == 0 ? 0u : (i == 1 ? p.end[0] : p.end[1]);
  const WT* w = i == 0 ? p.w[0] : (i == 1 ? p.w[1] : p.w[2]);
  const float* bias = i == 0 ? p.bias[0] : (i == 1 ? p.bias[1] : p.bias[2]);
  float* y = i == 0 ? p.y[0] : (i == 1 ? p.y[1] : p.y[2]);
  const int64_t N = i == 0 ? p.N[0] : (i == 1 ? p.N[1] : p.N[2]);
  const int warp = threadIdx.x >> 5;
  const int64_t n = int64_t(b - first) * (kGemvWarps / wpr) + warp / wpr;
  gemv_column<WT, M, kGlu>(w, x, up, bias, y, N, K, n, wpr, warp % wpr, threadIdx.x & 31);
}

template <typename WT, bool kGlu>
void launch_m(const GemvParts<WT>& p, unsigned grid, const float* x, const float* up, int64_t M,
              int64_t K, int wpr, cudaStream_t s) {
  const int threads = kGemvWarps * 32;
  switch (M) {
    case 1:
      k_gemv_half<WT, 1, kGlu><<<grid, threads, 0, s>>>(p, x, up, K, wpr);
      break;
    case 2:
      k_gemv_half<WT, 2, kGlu><<<grid, threads, 0, s>>>(p, x, up, K, wpr);
      break;
    case 3:
      k_gemv_half<WT, 3, kGlu><<<grid, threads, 0, s>>>(p, x, up, K, wpr);
      break;
    default:
      k_gemv_half<WT, 4, kGlu><<<grid, threads, 0, s>>>(p, x, up, K, wpr);
      break;
  }
}

template <typename WT>
void launch_typed(const GemvParts<WT>& p, unsigned grid, const float* x, const float* up, int64_t M,
                  int64_t K, int wpr, cudaStream_t s) {
  if (up)
    launch_m<WT, true>(p, grid, x, up, M, K, wpr, s);
  else
    launch_m<WT, false>(p, grid, x, up, M, K, wpr, s);
}

// out = silu(gate) * up, the same float operations as the unary and binary kernels.
__global__ void k_silu_mul(const float* gate, const float* up, float* out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    const float g = gate[i];
    out[i] = g / (1.f + expf(-g)) * up[i];
  }
}

// x = a + b; y = rms_norm(x) * (w + offset): one block per row, the reduction of the RMSNorm
// kernel in rows.cu (same thread count, same order), so the result is identical.
constexpr int kNormThreads = 256;
__global__ void __launch_bounds__(kNormThreads)
    k_add_rms_norm(const float* a, const float* b, float* x, const float* w, float* y, int64_t D,
                   float eps, float offset) {
  __shared__ float red[32];
  const int64_t r = blockIdx.x * D;
  float ss = 0.f;
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
    const float v = a[r + i] + b[r + i];
    x[r + i] = v;
    ss += v * v;
  }
  ss = block_reduce<false>(ss, red);  // orders the x writes before the reads below
  const float scale = float(1.0 / sqrt(double(ss) / double(D) + double(eps)));
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x)
    y[r + i] = w ? x[r + i] * scale * (w[i] + offset) : x[r + i] * scale;
}

// The same for rows of at most kNormThreads * kPer values, kept in registers between the passes.
template <int kPer>
__global__ void __launch_bounds__(kNormThreads)
    k_add_rms_norm_regs(const float* a, const float* b, float* x, const float* w, float* y,
                        int64_t D, float eps, float offset) {
  __shared__ float red[32];
  const int64_t r = blockIdx.x * D;
  float v[kPer], ss = 0.f;
#pragma unroll
  for (int k = 0; k < kPer; ++k) {
    const int64_t i = threadIdx.x + int64_t(k) * blockDim.x;
    v[k] = 0.f;
    if (i < D) {
      v[k] = a[r + i] + b[r + i];
      x[r + i] = v[k];
      ss += v[k] * v[k];
    }
  }
  ss = block_reduce<false>(ss, red);
  const float scale = float(1.0 / sqrt(double(ss) / double(D) + double(eps)));
#pragma unroll
  for (int k = 0; k < kPer; ++k) {
    const int64_t i = threadIdx.x + int64_t(k) * blockDim.x;
    if (i < D) y[r + i] = w ? v[k] * scale * (w[i] + offset) : v[k] * scale;
  }
}

// y = rope(rms_norm(x) * (w + offset)) for one head row per block (QK-norm before RoPE): the
// reduction of rows.cu's RMSNorm and the rotation of its RoPE kernel, so results are identical.
__global__ void __launch_bounds__(kNormThreads)
    k_rms_norm_rope(const float* x, const float* w, float eps, float offset, const int32_t* pos,
                    const float* inv_freq, float* y, int64_t T, int64_t H, int64_t D, int64_t rot,
                    bool neox, float mscale) {
  extern __shared__ float row[];  // D normalized values
  __shared__ float red[32];
  const int64_t R = blockIdx.x, t = (R / H) % T;
  const float* xr = x + R * D;
  float ss = 0.f;
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x) ss += xr[i] * xr[i];
  ss = block_reduce<false>(ss, red);
  const float scale = float(1.0 / sqrt(double(ss) / double(D) + double(eps)));
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x)
    row[i] = w ? xr[i] * scale * (w[i] + offset) : xr[i] * scale;
  __syncthreads();
  const float p = float(pos[t]);
  const int64_t half = rot / 2;
  float* yo = y + R * D;
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
    if (i >= rot) {
      yo[i] = row[i];
      continue;
    }
    if (i >= half) continue;  // each thread with i < half writes both elements of its pair
    const float ang = p * inv_freq[i];
    const float c = cosf(ang) * mscale, sn = sinf(ang) * mscale;
    const int64_t i0 = neox ? i : 2 * i, i1 = neox ? i + half : 2 * i + 1;
    const float x0 = row[i0], x1 = row[i1];
    yo[i0] = x0 * c - x1 * sn;
    yo[i1] = x1 * c + x0 * sn;
  }
}

}  // namespace

bool gemv_half_fits(const void* w, const float* x, int64_t M, int64_t K) {
  return M >= 1 && M <= kGemvMaxRows && K % 8 == 0 && reinterpret_cast<uintptr_t>(w) % 16 == 0 &&
         reinterpret_cast<uintptr_t>(x) % 16 == 0;
}

void launch_gemv_half(const GemvPart* parts, int count, DType wt, const float* x, int64_t M,
                      int64_t K, cudaStream_t s, const float* up) {
  if (M == 0 || count == 0) return;
  // Warps per column: enough warps in all to keep the memory system busy (about a full GPU
  // of resident warps), while each warp still has two or more 128-bit loads per lane.
  int64_t columns = 0;
  for (int i = 0; i < count; ++i) columns += parts[i].N;
  if (columns == 0) return;
  int wpr = 1;
  while (wpr < kGemvWarps && columns * wpr < 8192 && K / 8 >= 64 * (wpr * 2)) wpr *= 2;
  const int64_t per_block = kGemvWarps / wpr;
  GemvParts<__half> p{};  // the pointers are reinterpreted for BF16 below
  unsigned blocks = 0;
  for (int i = 0; i < count; ++i) {
    p.w[i] = static_cast<const __half*>(parts[i].w);
    p.bias[i] = parts[i].bias;
    p.y[i] = parts[i].y;
    p.N[i] = parts[i].N;
    blocks += unsigned((parts[i].N + per_block - 1) / per_block);
    p.end[i] = blocks;
  }
  p.count = count;
  if (wt == DType::F16) {
    launch_typed(p, blocks, x, up, M, K, wpr, s);
  } else {
    GemvParts<__nv_bfloat16> q{};
    for (int i = 0; i < count; ++i) {
      q.w[i] = static_cast<const __nv_bfloat16*>(parts[i].w);
      q.bias[i] = p.bias[i], q.y[i] = p.y[i], q.N[i] = p.N[i], q.end[i] = p.end[i];
    }
    q.count = count;
    launch_typed(q, blocks, x, up, M, K, wpr, s);
  }
  RLX_CUDA_LAUNCHED();
}

void launch_silu_mul(const float* gate, const float* up, float* out, int64_t n, cudaStream_t s) {
  if (n == 0) return;
  k_silu_mul<<<grid_for(n), kThreads, 0, s>>>(gate, up, out, n);
  RLX_CUDA_LAUNCHED();
}

void launch_add_rms_norm(const float* a, const float* b, float* x, const float* w, float* y,
                         int64_t rows, int64_t D, float eps, float offset, cudaStream_t s) {
  if (rows == 0) return;
  if (D <= kNormThreads * 4)
    k_add_rms_norm_regs<4><<<unsigned(rows), kNormThreads, 0, s>>>(a, b, x, w, y, D, eps, offset);
  else if (D <= kNormThreads * 8)
    k_add_rms_norm_regs<8><<<unsigned(rows), kNormThreads, 0, s>>>(a, b, x, w, y, D, eps, offset);
  else
    k_add_rms_norm<<<unsigned(rows), kNormThreads, 0, s>>>(a, b, x, w, y, D, eps, offset);
  RLX_CUDA_LAUNCHED();
}

}  // namespace rlx::cuda

namespace rlx::cuda {

void launch_rms_norm_rope(const float* x, const float* w, float eps, float offset,
                          const int32_t* pos, const float* inv_freq, float* y, int64_t B, int64_t T,
                          int64_t H, int64_t D, int64_t rot, bool neox, float mscale,
                          cudaStream_t s) {
  const int64_t rows = B * T * H;
  if (rows == 0) return;
  k_rms_norm_rope<<<unsigned(rows), kNormThreads, sizeof(float) * size_t(D), s>>>(
      x, w, eps, offset, pos, inv_freq, y, T, H, D, rot, neox, mscale);
  RLX_CUDA_LAUNCHED();
}

}  // namespace rlx::cuda
