// Row-wise kernels over the last axis (one block per row): RMSNorm, LayerNorm, softmax; RoPE.
#include "backends/cuda/common.cuh"

namespace rlx::cuda {
namespace {

constexpr int kRowThreads = 256;

__global__ void k_rms_norm(const float* x, const float* w, float* y, int64_t D, float eps,
                           float offset) {
  __shared__ float red[32];
  const float* xr = x + blockIdx.x * D;
  float* yr = y + blockIdx.x * D;
  float ss = 0.f;
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x) ss += xr[i] * xr[i];
  ss = block_reduce<false>(ss, red);
  const float scale = float(1.0 / sqrt(double(ss) / double(D) + double(eps)));
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x)
    yr[i] = w ? xr[i] * scale * (w[i] + offset) : xr[i] * scale;
}

__global__ void k_layer_norm(const float* x, const float* w, const float* b, float* y, int64_t D,
                             float eps) {
  __shared__ float red[32];
  const float* xr = x + blockIdx.x * D;
  float* yr = y + blockIdx.x * D;
  float s = 0.f;
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x) s += xr[i];
  const float mean = block_reduce<false>(s, red) / float(D);
  float v = 0.f;
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x) v += (xr[i] - mean) * (xr[i] - mean);
  v = block_reduce<false>(v, red);
  const float inv = float(1.0 / sqrt(double(v) / double(D) + double(eps)));
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
    float r = (xr[i] - mean) * inv;
    if (w) r *= w[i];
    if (b) r += b[i];
    yr[i] = r;
  }
}

__device__ inline float capped(float v, float scale, float softcap) {
  v *= scale;
  if (softcap > 0.f && v != -INFINITY) v = softcap * tanhf(v / softcap);
  return v;
}

__global__ void k_softmax(const float* x, float* y, int64_t D, float scale, float softcap) {
  __shared__ float red[32];
  const float* xr = x + blockIdx.x * D;
  float* yr = y + blockIdx.x * D;
  float mx = -INFINITY;
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x)
    mx = fmaxf(mx, capped(xr[i], scale, softcap));
  mx = block_reduce<true>(mx, red);
  if (mx == -INFINITY) {  // fully masked row: zeros, as on the CPU
    for (int64_t i = threadIdx.x; i < D; i += blockDim.x) yr[i] = 0.f;
    return;
  }
  float sum = 0.f;
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
    const float e = expf(capped(xr[i], scale, softcap) - mx);
    yr[i] = e;
    sum += e;
  }
  const float inv = 1.f / block_reduce<false>(sum, red);
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x) yr[i] *= inv;
}

// One block per (b, t) row of heads; threads over (head, pair).
__global__ void k_rope(const float* x, const int32_t* pos, const float* inv_freq, float* y,
                       int64_t T, int64_t H, int64_t D, int64_t rot, bool neox, float mscale) {
  const int64_t r = blockIdx.x, t = r % T, half = rot / 2;
  const float p = float(pos[t]);
  for (int64_t e = threadIdx.x; e < H * D; e += blockDim.x) {
    const int64_t h = e / D, i = e % D;
    const float* xi = x + (r * H + h) * D;
    float* yo = y + (r * H + h) * D;
    if (i >= rot) {
      yo[i] = xi[i];
      continue;
    }
    if (i >= half) continue;  // each thread with i < half writes both elements of its pair
    const float ang = p * inv_freq[i];  // in float, like the references
    const float c = cosf(ang) * mscale, sn = sinf(ang) * mscale;
    const int64_t i0 = neox ? i : 2 * i, i1 = neox ? i + half : 2 * i + 1;
    const float x0 = xi[i0], x1 = xi[i1];
    yo[i0] = x0 * c - x1 * sn;
    yo[i1] = x1 * c + x0 * sn;
  }
}

}  // namespace

void launch_rms_norm(const float* x, const float* w, float* y, int64_t rows, int64_t D, float eps,
                     float offset, cudaStream_t s) {
  if (rows == 0) return;
  k_rms_norm<<<unsigned(rows), kRowThreads, 0, s>>>(x, w, y, D, eps, offset);
  RLX_CUDA_LAUNCHED();
}

void launch_layer_norm(const float* x, const float* w, const float* b, float* y, int64_t rows,
                       int64_t D, float eps, cudaStream_t s) {
  if (rows == 0) return;
  k_layer_norm<<<unsigned(rows), kRowThreads, 0, s>>>(x, w, b, y, D, eps);
  RLX_CUDA_LAUNCHED();
}

void launch_softmax(const float* x, float* y, int64_t rows, int64_t D, float scale, float softcap,
                    cudaStream_t s) {
  if (rows == 0) return;
  k_softmax<<<unsigned(rows), kRowThreads, 0, s>>>(x, y, D, scale, softcap);
  RLX_CUDA_LAUNCHED();
}

void launch_rope(const float* x, const int32_t* pos, const float* inv_freq, float* y, int64_t B,
                 int64_t T, int64_t H, int64_t D, int64_t rot, bool neox, float mscale,
                 cudaStream_t s) {
  if (B * T == 0) return;
  k_rope<<<unsigned(B * T), kRowThreads, 0, s>>>(x, pos, inv_freq, y, T, H, D, rot, neox, mscale);
  RLX_CUDA_LAUNCHED();
}

}  // namespace rlx::cuda
