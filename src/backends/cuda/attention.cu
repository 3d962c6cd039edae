// Attention. GQA maps query head h to KV head h / (Hq / Hkv).
//  - k_attention (the plain reference): one block per (batch, query, head) row streams the
//    keys in chunks with an online softmax (running max and sum), so any context length fits
//    in a fixed amount of shared memory.
//  - k_flash (prefill, Tq >= kFlashMinTq, D and Dv <= 256 and multiples of 4): a block holds
//    a tile of kFlashQ queries of one (batch, head); K/V tiles of kFlashK keys go through
//    shared memory (F32, float4 reads) and every warp keeps an online softmax and its queries'
//    outputs in registers. Same masks, soft-cap and F16/F32 cache as the plain kernel. SIMT
//    F32 (no tensor cores yet).
#include <atomic>

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

constexpr int kFlashWarps = 4, kFlashQW = 4;     // warps per block, queries per warp
constexpr int kFlashQ = kFlashWarps * kFlashQW;  // queries per block
constexpr int kFlashK = 32;                      // keys per tile (one per lane)
constexpr int64_t kFlashMinTq = 4;

// C = values of Dv per lane (Dv <= 32 * C).
template <int C>
__global__ void __launch_bounds__(32 * kFlashWarps) k_flash(AttentionArgs a) {
  extern __shared__ float sh[];
  // K rows padded by 4 floats: the lanes' float4 reads of 8 rows at a time hit distinct banks.
  const int D = int(a.D), Dv = int(a.Dv), Dp = D + 4;
  float* ks = sh;                 // kFlashK x Dp
  float* vs = ks + kFlashK * Dp;  // kFlashK x Dv
  float* qs = vs + kFlashK * Dv;  // kFlashQ x D
  float* ps = qs + kFlashQ * D;   // kFlashQ x kFlashK
  const int tid = threadIdx.x, lane = tid & 31, w = tid >> 5;
  // The last query tiles see the most keys (causal): they start first.
  const int64_t q0 = int64_t(gridDim.x - 1 - blockIdx.x) * kFlashQ, h = blockIdx.y, b = blockIdx.z;
  const int64_t hk = h / (a.Hq / a.Hkv);

  int64_t n_keys = a.n_keys, base = a.n_keys - a.Tq;
  bool full = false;
  if (a.kv_pos) {
    const int64_t p0 = *a.kv_pos;
    full = p0 < 0 || p0 + a.Tk > a.cache_len;  // reported by the cache write
    n_keys = p0 + a.Tk;
    base = p0;
  }
  // This warp's queries: key range [lo, hi) each (empty past Tq).
  int64_t lo[kFlashQW], hi[kFlashQW];
#pragma unroll
  for (int r = 0; r < kFlashQW; ++r) {
    const int64_t t = q0 + w * kFlashQW + r, qpos = base + t;
    lo[r] = 0, hi[r] = n_keys;
    if (a.mask != 0) hi[r] = min(n_keys, qpos + 1);
    if (a.mask == 2) lo[r] = max(int64_t(0), qpos - a.window + 1);
    if (t >= a.Tq || full) lo[r] = hi[r] = 0;
  }
  // The block's key range (lo and hi grow with the query position).
  const int64_t t_last = min(a.Tq - 1, q0 + kFlashQ - 1);
  int64_t jlo = 0, jhi = full ? 0 : n_keys;
  if (a.mask != 0) jhi = min(jhi, base + t_last + 1);
  if (a.mask == 2) jlo = max(int64_t(0), base + q0 - a.window + 1);

  for (int e = tid; e < kFlashQ * D; e += blockDim.x) {
    const int64_t t = q0 + e / D;
    qs[e] = t < a.Tq ? a.q[((b * a.Tq + t) * a.Hq + h) * a.D + e % D] : 0.f;
  }
  float m[kFlashQW], l[kFlashQW], acc[kFlashQW][C];
#pragma unroll
  for (int r = 0; r < kFlashQW; ++r) {
    m[r] = -INFINITY, l[r] = 0.f;
#pragma unroll
    for (int c = 0; c < C; ++c) acc[r][c] = 0.f;
  }
  const int64_t k_off = b * a.k_bs + hk * a.k_hs, v_off = b * a.v_bs + hk * a.v_hs;
  const float* qw = qs + w * kFlashQW * D;
  float* pw = ps + w * kFlashQW * kFlashK;
  for (int64_t j0 = jlo; j0 < jhi; j0 += kFlashK) {
    __syncthreads();  // the previous tile is no longer read (and qs is written, first time)
    for (int jj = w; jj < kFlashK; jj += kFlashWarps) {  // one key row per warp
      const bool in = j0 + jj < jhi;
      const int64_t kr = k_off + (j0 + jj) * a.k_js, vr = v_off + (j0 + jj) * a.v_js;
      for (int d = lane; d < D; d += 32)
        ks[jj * Dp + d] = in ? load_kv(a.k, a.kv_f16, kr + d) : 0.f;
      for (int d = lane; d < Dv; d += 32)
        vs[jj * Dv + d] = in ? load_kv(a.v, a.kv_f16, vr + d) : 0.f;
    }
    __syncthreads();
    float s[kFlashQW];
#pragma unroll
    for (int r = 0; r < kFlashQW; ++r) s[r] = 0.f;
    const float4* kr = reinterpret_cast<const float4*>(ks + lane * Dp);
    for (int d4 = 0; d4 < D / 4; ++d4) {
      const float4 kv = kr[d4];
#pragma unroll
      for (int r = 0; r < kFlashQW; ++r) {
        const float4 qv = reinterpret_cast<const float4*>(qw + r * D)[d4];
        s[r] += qv.x * kv.x;
        s[r] += qv.y * kv.y;
        s[r] += qv.z * kv.z;
        s[r] += qv.w * kv.w;
      }
    }
    const int64_t j = j0 + lane;
    const bool key_ok = j < jhi && (!a.key_mask || load_as_double(a.key_mask, a.key_mask_type,
                                                                  b * a.mask_cols + j) != 0);
#pragma unroll
    for (int r = 0; r < kFlashQW; ++r) {
      float sc = -INFINITY;
      if (key_ok && j >= lo[r] && j < hi[r]) {
        sc = s[r] * a.scale;
        if (a.softcap > 0.f) sc = a.softcap * tanhf(sc / a.softcap);
      }
      const float new_m = fmaxf(m[r], warp_max(sc));
      float p = 0.f;
      if (new_m != -INFINITY) {  // else every key so far is masked: nothing changes
        const float alpha = m[r] == -INFINITY ? 0.f : expf(m[r] - new_m);
        p = sc == -INFINITY ? 0.f : expf(sc - new_m);
        l[r] = l[r] * alpha + warp_sum(p);
        m[r] = new_m;
#pragma unroll
        for (int c = 0; c < C; ++c) acc[r][c] *= alpha;
      }
      pw[r * kFlashK + lane] = p;
    }
    __syncwarp();
    // Keys past jhi have p = 0 and zero-filled V rows: every tile runs all kFlashK keys.
    for (int jj = 0; jj < kFlashK; jj += 4) {
      float4 p4[kFlashQW];
#pragma unroll
      for (int r = 0; r < kFlashQW; ++r)
        p4[r] = *reinterpret_cast<const float4*>(pw + r * kFlashK + jj);
#pragma unroll
      for (int c = 0; c < C; ++c) {
        const int d = lane + 32 * c;
        if (d >= Dv) break;
        const float v0 = vs[jj * Dv + d], v1 = vs[(jj + 1) * Dv + d], v2 = vs[(jj + 2) * Dv + d],
                    v3 = vs[(jj + 3) * Dv + d];
#pragma unroll
        for (int r = 0; r < kFlashQW; ++r) {
          acc[r][c] += p4[r].x * v0;
          acc[r][c] += p4[r].y * v1;
          acc[r][c] += p4[r].z * v2;
          acc[r][c] += p4[r].w * v3;
        }
      }
    }
    __syncwarp();
  }
#pragma unroll
  for (int r = 0; r < kFlashQW; ++r) {
    const int64_t t = q0 + w * kFlashQW + r;
    if (t >= a.Tq) break;
    float* out = a.out + ((b * a.Tq + t) * a.Hq + h) * a.Dv;
    const float inv = l[r] > 0.f ? 1.f / l[r] : 0.f;  // no key seen: zeros, as on the CPU
#pragma unroll
    for (int c = 0; c < C; ++c)
      if (lane + 32 * c < Dv) out[lane + 32 * c] = acc[r][c] * inv;
  }
}

std::atomic<bool> g_flash{true};

template <int C>
void launch_flash(const AttentionArgs& a, cudaStream_t s) {
  const size_t shared = sizeof(float) * size_t(kFlashK * (a.D + 4) + kFlashK * a.Dv +
                                               kFlashQ * a.D + kFlashQ * kFlashK);
  if (shared > 48 * 1024)  // per device, so set each time (a cheap host call)
    RLX_CUDA_CHECK(
        cudaFuncSetAttribute(k_flash<C>, cudaFuncAttributeMaxDynamicSharedMemorySize, int(shared)));
  const dim3 grid(unsigned((a.Tq + kFlashQ - 1) / kFlashQ), unsigned(a.Hq), unsigned(a.B));
  k_flash<C><<<grid, 32 * kFlashWarps, shared, s>>>(a);
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

void set_flash_attention(bool on) {
  g_flash = on;
}

void launch_attention(const AttentionArgs& a, cudaStream_t s) {
  const int64_t rows = a.B * a.Tq * a.Hq;
  if (rows == 0) return;
  if (g_flash && a.Tq >= kFlashMinTq && a.D <= 256 && a.Dv <= 256 && a.D % 4 == 0 &&
      a.Dv % 4 == 0 && a.Hq <= 65535 && a.B <= 65535) {
    if (a.Dv <= 64)
      launch_flash<2>(a, s);
    else if (a.Dv <= 128)
      launch_flash<4>(a, s);
    else
      launch_flash<8>(a, s);
    RLX_CUDA_LAUNCHED();
    return;
  }
  const size_t shared = sizeof(float) * size_t(a.D + a.Dv + kChunk);
  if (shared > 48 * 1024)
    RLX_CUDA_CHECK(cudaFuncSetAttribute(k_attention, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        int(shared)));
  k_attention<<<unsigned(rows), kAttnThreads, shared, s>>>(a);
  RLX_CUDA_LAUNCHED();
}

}  // namespace rlx::cuda
