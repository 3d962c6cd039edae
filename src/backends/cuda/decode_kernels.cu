// Decode kernels: fused small ops that save launches per layer (SiLU·mul, residual add +
// RMSNorm, QK-norm + RoPE of q and k together) when the decode linears cannot take them in.
#include <cstdint>

#include "backends/cuda/common.cuh"

namespace rlx::cuda {
namespace {

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

// y = rope(rms_norm(x) * (w + offset)) (or rope(x)) for one head row per block, rows of up to
// two tensors (q and k) in one launch: the reduction of rows.cu's RMSNorm and the rotation of its
// RoPE kernel, so results are identical. The row is staged in shared memory before it is
// written, so y may be x.
__global__ void __launch_bounds__(kNormThreads)
    k_norm_rope(NormRope t0, NormRope t1, int64_t rows0, const int32_t* pos, const float* inv_freq,
                int64_t T, int64_t D, int64_t rot, bool neox, float mscale) {
  allow_next_kernel();            // the kernels after it start early (PDL)
  extern __shared__ float row[];  // D values
  __shared__ float red[32];
  const bool second = int64_t(blockIdx.x) >= rows0;
  NormRope t = t0;  // copies from the parameters with constant indices
  if (second) t = t1;
  const int64_t R = second ? blockIdx.x - rows0 : blockIdx.x, tpos = (R / t.H) % T;
  const float* xr = t.x + R * D;
  if (t.norm) {
    float ss = 0.f;
    for (int64_t i = threadIdx.x; i < D; i += blockDim.x) ss += xr[i] * xr[i];
    ss = block_reduce<false>(ss, red);
    const float scale = float(1.0 / sqrt(double(ss) / double(D) + double(t.eps)));
    for (int64_t i = threadIdx.x; i < D; i += blockDim.x)
      row[i] = t.w ? xr[i] * scale * (t.w[i] + t.offset) : xr[i] * scale;
  } else {
    for (int64_t i = threadIdx.x; i < D; i += blockDim.x) row[i] = xr[i];
  }
  __syncthreads();
  const float p = float(pos[tpos]);
  const int64_t half = rot / 2;
  float* yo = t.y + R * D;
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

void launch_norm_rope(const NormRope* t, int count, const int32_t* pos, const float* inv_freq,
                      int64_t B, int64_t T, int64_t D, int64_t rot, bool neox, float mscale,
                      cudaStream_t s) {
  const int64_t rows0 = B * T * t[0].H, rows = rows0 + (count > 1 ? B * T * t[1].H : 0);
  if (rows == 0) return;
  k_norm_rope<<<unsigned(rows), kNormThreads, sizeof(float) * size_t(D), s>>>(
      t[0], count > 1 ? t[1] : t[0], rows0, pos, inv_freq, T, D, rot, neox, mscale);
  RLX_CUDA_LAUNCHED();
}

}  // namespace rlx::cuda
