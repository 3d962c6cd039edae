// Reductions along one axis (sum, mean, max), argmax and a direct conv1d: one thread per
// output element, which is enough for the small shapes these ops see (VAD, heads).
#include "backends/cuda/common.cuh"

namespace rlx::cuda {
namespace {

__global__ void k_reduce(Reduce op, const float* x, float* out, int64_t outer, int64_t n,
                         int64_t inner) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < outer * inner;
       e += int64_t(gridDim.x) * blockDim.x) {
    const float* p = x + (e / inner) * n * inner + e % inner;
    if (op == Reduce::Max) {
      float m = -INFINITY;
      for (int64_t j = 0; j < n; ++j) m = fmaxf(m, p[j * inner]);
      out[e] = m;
    } else {
      double s = 0;
      for (int64_t j = 0; j < n; ++j) s += p[j * inner];
      out[e] = float(op == Reduce::Mean ? s / double(n) : s);
    }
  }
}

__global__ void k_argmax(const float* x, int32_t* out, int64_t outer, int64_t n, int64_t inner) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < outer * inner;
       e += int64_t(gridDim.x) * blockDim.x) {
    const float* p = x + (e / inner) * n * inner + e % inner;
    int64_t best = 0;
    for (int64_t j = 1; j < n; ++j)
      if (p[j * inner] > p[best * inner]) best = j;  // first maximum wins, as in PyTorch
    out[e] = int32_t(best);
  }
}

__global__ void k_conv1d(const float* x, const float* w, const float* bias, float* y, int64_t B,
                         int64_t Cin, int64_t L, int64_t Cout, int64_t K, int64_t Lout,
                         int64_t stride, int64_t padding, int64_t dilation, int64_t groups) {
  const int64_t total = B * Cout * Lout, Cg = Cin / groups, per_group = Cout / groups;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t t = e % Lout, co = (e / Lout) % Cout, b = e / (Lout * Cout);
    const int64_t g = co / per_group;
    float acc = bias ? bias[co] : 0.f;
    for (int64_t ci = 0; ci < Cg; ++ci) {
      const float* xr = x + (b * Cin + g * Cg + ci) * L;
      const float* wr = w + (co * Cg + ci) * K;
      for (int64_t k = 0; k < K; ++k) {
        const int64_t i = t * stride - padding + k * dilation;
        if (i >= 0 && i < L) acc += wr[k] * xr[i];
      }
    }
    y[e] = acc;
  }
}

}  // namespace

void launch_reduce(Reduce op, const float* x, float* out, int64_t outer, int64_t n, int64_t inner,
                   cudaStream_t s) {
  if (outer * inner == 0) return;
  k_reduce<<<grid_for(outer * inner), kThreads, 0, s>>>(op, x, out, outer, n, inner);
  RLX_CUDA_LAUNCHED();
}

void launch_argmax(const float* x, int32_t* out, int64_t outer, int64_t n, int64_t inner,
                   cudaStream_t s) {
  if (outer * inner == 0) return;
  k_argmax<<<grid_for(outer * inner), kThreads, 0, s>>>(x, out, outer, n, inner);
  RLX_CUDA_LAUNCHED();
}

void launch_conv1d(const float* x, const float* w, const float* bias, float* y, int64_t B,
                   int64_t Cin, int64_t L, int64_t Cout, int64_t K, int64_t Lout, int64_t stride,
                   int64_t padding, int64_t dilation, int64_t groups, cudaStream_t s) {
  const int64_t total = B * Cout * Lout;
  if (total == 0) return;
  k_conv1d<<<grid_for(total), kThreads, 0, s>>>(x, w, bias, y, B, Cin, L, Cout, K, Lout, stride,
                                                padding, dilation, groups);
  RLX_CUDA_LAUNCHED();
}

}  // namespace rlx::cuda
