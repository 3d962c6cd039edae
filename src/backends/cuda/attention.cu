// Attention, straightforward and exact: one block per (batch, query, head) row streams the
// keys in chunks with an online softmax (running max and sum), so any context length fits
// in a fixed amount of shared memory. GQA maps query head h to KV head h / (Hq / Hkv).
// A flash-style prefill kernel and a split-K decode kernel are later work (issue 8).
#include "backends/cuda/common.cuh"

namespace rlx::cuda {
namespace {

constexpr int kAttnThreads = 128;
constexpr int kChunk = 256;  // keys scored per pass

__device__ inline float load_kv(const void* p, bool f16, int64_t i) {
  return f16 ? __half2float(static_cast<const __half*>(p)[i]) : static_cast<const float*>(p)[i];
}

__global__ void k_attention(AttentionArgs a) {
  extern __shared__ float sh[];
  float* q = sh;          // D
  float* acc = q + a.D;   // Dv
  float* p = acc + a.Dv;  // kChunk
  __shared__ float red[32];
  const int64_t row = blockIdx.x;  // ((b * Tq) + t) * Hq + h
  const int64_t h = row % a.Hq, t = (row / a.Hq) % a.Tq, b = row / (a.Hq * a.Tq);
  const int64_t hk = h / (a.Hq / a.Hkv);
  float* out = a.out + row * a.Dv;

  int64_t n_keys = a.n_keys, base = a.n_keys - a.Tq;
  if (a.kv_pos) {
    const int64_t p0 = *a.kv_pos;
    if (p0 < 0 || p0 + a.Tk > a.cache_len) {  // reported by the cache write
      for (int64_t d = threadIdx.x; d < a.Dv; d += blockDim.x) out[d] = 0.f;
      return;
    }
    n_keys = p0 + a.Tk;
    base = p0;
  }
  const int64_t qpos = base + t;
  int64_t lo = 0, hi = n_keys;
  if (a.mask != 0) hi = min(n_keys, qpos + 1);                 // causal or sliding
  if (a.mask == 2) lo = max(int64_t(0), qpos - a.window + 1);  // sliding window

  const float* qr = a.q + row * a.D;
  for (int64_t d = threadIdx.x; d < a.D; d += blockDim.x) q[d] = qr[d];
  for (int64_t d = threadIdx.x; d < a.Dv; d += blockDim.x) acc[d] = 0.f;
  __syncthreads();

  const int64_t k_off = b * a.k_bs + hk * a.k_hs, v_off = b * a.v_bs + hk * a.v_hs;
  float m = -INFINITY, l = 0.f;
  for (int64_t j0 = lo; j0 < hi; j0 += kChunk) {
    const int64_t cn = min(int64_t(kChunk), hi - j0);
    float cmax = -INFINITY;
    for (int64_t jj = threadIdx.x; jj < cn; jj += blockDim.x) {
      const int64_t j = j0 + jj;
      float s = -INFINITY;
      if (!a.key_mask || load_as_double(a.key_mask, a.key_mask_type, b * a.mask_cols + j) != 0) {
        const int64_t kr = k_off + j * a.k_js;
        float dot = 0.f;
        for (int64_t d = 0; d < a.D; ++d) dot += q[d] * load_kv(a.k, a.kv_f16, kr + d);
        s = dot * a.scale;
        if (a.softcap > 0.f) s = a.softcap * tanhf(s / a.softcap);
      }
      p[jj] = s;
      cmax = fmaxf(cmax, s);
    }
    cmax = block_reduce<true>(cmax, red);
    const float new_m = fmaxf(m, cmax);
    if (new_m == -INFINITY) continue;  // every key so far masked
    const float alpha = m == -INFINITY ? 0.f : expf(m - new_m);
    float sum = 0.f;
    for (int64_t jj = threadIdx.x; jj < cn; jj += blockDim.x) {
      const float e = p[jj] == -INFINITY ? 0.f : expf(p[jj] - new_m);
      p[jj] = e;
      sum += e;
    }
    sum = block_reduce<false>(sum, red);  // also orders the p[] writes before the reads below
    l = l * alpha + sum;
    m = new_m;
    for (int64_t d = threadIdx.x; d < a.Dv; d += blockDim.x) {
      float o = acc[d] * alpha;
      for (int64_t jj = 0; jj < cn; ++jj)
        o += p[jj] * load_kv(a.v, a.kv_f16, v_off + (j0 + jj) * a.v_js + d);
      acc[d] = o;
    }
    __syncthreads();  // p[] is rewritten by the next chunk
  }
  const float inv = l > 0.f ? 1.f / l : 0.f;  // a row that saw no key is zeros, as on the CPU
  for (int64_t d = threadIdx.x; d < a.Dv; d += blockDim.x) out[d] = acc[d] * inv;
}

__global__ void k_cache_write(const float* k, const float* v, void* kc, void* vc, bool f16,
                              int64_t B, int64_t Tk, int64_t Hkv, int64_t S, int64_t D, int64_t Dv,
                              const int32_t* kv_pos, int* err) {
  const int64_t p0 = *kv_pos;
  if (p0 < 0 || p0 + Tk > S) {
    if (blockIdx.x == 0 && threadIdx.x == 0) atomicExch(err, kErrKvCacheFull);
    return;
  }
  const int64_t W = D > Dv ? D : Dv, total = B * Tk * Hkv * W;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t d = e % W, r = e / W;  // r = (b * Tk + t) * Hkv + h
    const int64_t h = r % Hkv, t = (r / Hkv) % Tk, b = r / (Hkv * Tk);
    const int64_t row = (b * Hkv + h) * S + p0 + t;
    if (d < D) {
      const float x = k[r * D + d];
      if (f16)
        static_cast<__half*>(kc)[row * D + d] = __float2half(x);
      else
        static_cast<float*>(kc)[row * D + d] = x;
    }
    if (d < Dv) {
      const float x = v[r * Dv + d];
      if (f16)
        static_cast<__half*>(vc)[row * Dv + d] = __float2half(x);
      else
        static_cast<float*>(vc)[row * Dv + d] = x;
    }
  }
}

}  // namespace

void launch_cache_write(const float* k, const float* v, void* kc, void* vc, bool f16, int64_t B,
                        int64_t Tk, int64_t Hkv, int64_t S, int64_t D, int64_t Dv,
                        const int32_t* kv_pos, int* err, cudaStream_t s) {
  const int64_t total = B * Tk * Hkv * (D > Dv ? D : Dv);
  if (total == 0) return;
  k_cache_write<<<grid_for(total), kThreads, 0, s>>>(k, v, kc, vc, f16, B, Tk, Hkv, S, D, Dv,
                                                     kv_pos, err);
  RLX_CUDA_LAUNCHED();
}

void launch_attention(const AttentionArgs& a, cudaStream_t s) {
  const int64_t rows = a.B * a.Tq * a.Hq;
  if (rows == 0) return;
  const size_t shared = sizeof(float) * size_t(a.D + a.Dv + kChunk);
  if (shared > 48 * 1024)
    RLX_CUDA_CHECK(cudaFuncSetAttribute(k_attention, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        int(shared)));
  k_attention<<<unsigned(rows), kAttnThreads, shared, s>>>(a);
  RLX_CUDA_LAUNCHED();
}

}  // namespace rlx::cuda
