// Decode attention (few queries over a long KV range), split over the keys. One block serves
// one (batch, KV head): the query rows of every head that shares the KV head (GQA) and every
// query position are handled together, so each K/V row is read once for all of them. The key
// range is cut into `splits` slices, one per warp (four warps a block); a warp keeps an online
// softmax (max, sum, weighted V) per query row and writes it as a partial; the last block of
// each KV head to finish merges the partials. With a cache the new keys are read from the
// inputs and written into the cache by the same kernel (no separate cache write). The key range is
// read from kv_pos on the device, so the launch geometry does not change from token to token (CUDA
// Graph replay).
#include "backends/cuda/common.cuh"

namespace rlx::cuda {
namespace {

constexpr int kWarps = 4;         // warps (key slices) per block
constexpr int kMinKeys = 8;       // smallest slice worth a warp
constexpr int kMaxSplits = 1024;  // slices per (batch, KV head) (shared weights of the merge)
constexpr int kMaxRows = 8;       // query rows per KV head (Tq * Hq / Hkv)
constexpr int kMaxLanes = 8;      // head dims per lane (D, Dv <= 256)

template <typename KT>
__device__ inline float kv_at(const KT* p, int64_t i) {
  if constexpr (sizeof(KT) == 2)
    return __half2float(p[i]);
  else
    return p[i];
}

// Key range [lo, hi) of query position t (all queries: the same key count).
struct Range {
  int64_t lo, hi;
};
__device__ inline Range key_range(const AttentionArgs& a, int64_t t, int64_t n_keys, int64_t base) {
  const int64_t qpos = base + t;
  Range r{0, n_keys};
  if (a.mask != 0) r.hi = min(n_keys, qpos + 1);                 // causal or sliding
  if (a.mask == 2) r.lo = max(int64_t(0), qpos - a.window + 1);  // sliding window
  return r;
}

// Grid: x = B * Hkv, y = splits / kWarps. Partials: [rows, splits] of (m, l) and of Dv sums;
// the last block of a (batch, KV head) to finish merges them (e.counters[x] counts finished
// blocks and is reset by that last block, so every launch starts from zero).
template <int R, int NI, typename KT>
__global__ void __launch_bounds__(kWarps * 32)
    k_attention_decode(AttentionArgs a, DecodeExtra e, int splits, float* ml, float* acc_out) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int64_t b = blockIdx.x / a.Hkv, hk = blockIdx.x % a.Hkv;
  const int64_t G = a.Hq / a.Hkv, rows = a.Tq * G;  // rows <= R
  const int sid = blockIdx.y * kWarps + warp;

  int64_t n_keys = a.n_keys, base = a.n_keys - a.Tq;
  bool valid = true;
  if (a.kv_pos) {
    const int64_t p0 = *a.kv_pos;
    valid = p0 >= 0 && p0 + a.Tk <= a.cache_len;
    n_keys = p0 + a.Tk;
    base = p0;
  }
  // With e.new_k the new keys are read from the inputs (rounded as the cache stores them) and
  // written into the cache here, by the first block of each (batch, KV head).
  const bool fold = e.new_k != nullptr;
  if (fold && !valid && blockIdx.x == 0 && blockIdx.y == 0 && threadIdx.x == 0)
    atomicExch(a.err, kErrKvCacheFull);
  if (fold && valid && blockIdx.y == 0) {
    const int64_t W = a.D > a.Dv ? a.D : a.Dv;
    for (int64_t x = threadIdx.x; x < a.Tk * W; x += blockDim.x) {
      const int64_t t = x / W, d = x % W, src = (b * a.Tk + t) * a.Hkv + hk;
      const int64_t row = (b * a.Hkv + hk) * a.cache_len + base + t;
      if (d < a.D) static_cast<KT*>(e.kc)[row * a.D + d] = KT(e.new_k[src * a.D + d]);
      if (d < a.Dv) static_cast<KT*>(e.vc)[row * a.Dv + d] = KT(e.new_v[src * a.Dv + d]);
    }
  }
  // Union of the rows' key ranges (lo and hi grow with t), sliced evenly over the splits.
  const Range first = key_range(a, 0, n_keys, base), last = key_range(a, a.Tq - 1, n_keys, base);
  const int64_t len = valid ? max(int64_t(0), last.hi - first.lo) : 0;
  const int64_t chunk = max(int64_t(kMinKeys), (len + splits - 1) / splits);
  const int64_t j0 = first.lo + sid * chunk, j1 = min(first.lo + len, j0 + chunk);
  // Slices that hold keys: only these write partials, and the merge reads only these.
  const int nact = len == 0 ? 0 : int(min(int64_t(splits), (len + chunk - 1) / chunk));

  // Query rows of this warp in registers: row r = t * G + g is head hk * G + g at position t.
  float q[R][NI];
  int64_t lo[R], hi[R];
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const int64_t t = r < rows ? r / G : 0, h = hk * G + (r < rows ? r % G : 0);
    const float* qr = a.q + ((b * a.Tq + t) * a.Hq + h) * a.D;
#pragma unroll
    for (int i = 0; i < NI; ++i) {
      const int64_t d = lane + 32 * i;
      q[r][i] = r < rows && d < a.D ? qr[d] : 0.f;
    }
    const Range kr = key_range(a, t, n_keys, base);
    lo[r] = r < rows ? kr.lo : 0;
    hi[r] = r < rows ? kr.hi : 0;
  }
  float m[R], l[R], acc[R][NI];
#pragma unroll
  for (int r = 0; r < R; ++r) {
    m[r] = -INFINITY, l[r] = 0.f;
#pragma unroll
    for (int i = 0; i < NI; ++i) acc[r][i] = 0.f;
  }

  const KT* kp = static_cast<const KT*>(a.k) + b * a.k_bs + hk * a.k_hs;
  const KT* vp = static_cast<const KT*>(a.v) + b * a.v_bs + hk * a.v_hs;
  // K/V rows of key j in registers, the next key's loads issued before this one's math.
  float kr[NI], vr[NI];
  auto load = [&](int64_t j, float(&kx)[NI], float(&vx)[NI]) {
    if (fold && j >= base) {  // a new key: from the inputs, as the cache will hold it
      const int64_t src = (b * a.Tk + (j - base)) * a.Hkv + hk;
#pragma unroll
      for (int i = 0; i < NI; ++i) {
        const int64_t d = lane + 32 * i;
        kx[i] = d < a.D ? float(KT(e.new_k[src * a.D + d])) : 0.f;
        vx[i] = d < a.Dv ? float(KT(e.new_v[src * a.Dv + d])) : 0.f;
      }
      return;
    }
#pragma unroll
    for (int i = 0; i < NI; ++i) {
      const int64_t d = lane + 32 * i;
      kx[i] = d < a.D ? kv_at(kp, j * a.k_js + d) : 0.f;
      vx[i] = d < a.Dv ? kv_at(vp, j * a.v_js + d) : 0.f;
    }
  };
  if (j0 < j1) load(j0, kr, vr);
  for (int64_t j = j0; j < j1; ++j) {
    float kn[NI] = {}, vn[NI] = {};
    if (j + 1 < j1) load(j + 1, kn, vn);
    const bool masked =
        a.key_mask && load_as_double(a.key_mask, a.key_mask_type, b * a.mask_cols + j) == 0;
#pragma unroll
    for (int r = 0; r < R; ++r) {
      if (masked || r >= rows || j < lo[r] || j >= hi[r]) continue;  // warp-uniform
      float dot = 0.f;
#pragma unroll
      for (int i = 0; i < NI; ++i) dot += q[r][i] * kr[i];
      float s = warp_sum(dot) * a.scale;
      if (a.softcap > 0.f) s = a.softcap * tanhf(s / a.softcap);
      const float nm = fmaxf(m[r], s);
      const float alpha = m[r] == -INFINITY ? 0.f : expf(m[r] - nm), p = expf(s - nm);
      l[r] = l[r] * alpha + p;
#pragma unroll
      for (int i = 0; i < NI; ++i) acc[r][i] = acc[r][i] * alpha + p * vr[i];
      m[r] = nm;
    }
#pragma unroll
    for (int i = 0; i < NI; ++i) kr[i] = kn[i], vr[i] = vn[i];
  }
#pragma unroll
  for (int r = 0; r < R; ++r) {
    if (r >= rows || sid >= nact) break;
    const int64_t t = r / G, h = hk * G + r % G;
    const int64_t part = ((b * a.Tq + t) * a.Hq + h) * splits + sid;
    if (lane == 0) ml[2 * part] = m[r], ml[2 * part + 1] = l[r];
    if (m[r] == -INFINITY) continue;  // the merge skips it without reading the sums
#pragma unroll
    for (int i = 0; i < NI; ++i) {
      const int64_t d = lane + 32 * i;
      if (d < a.Dv) acc_out[part * a.Dv + d] = acc[r][i];
    }
  }

  // The last block of this (batch, KV head) merges its rows' partials.
  __shared__ bool merger;
  __threadfence();  // this block's partials are visible before it is counted
  __syncthreads();
  if (threadIdx.x == 0) merger = atomicAdd(&e.counters[blockIdx.x], 1) == int(gridDim.y) - 1;
  __syncthreads();
  if (!merger) return;
  __threadfence();
  // The whole block merges: max and weighted sum over the active slices as block reductions,
  // the slices' weights in shared memory, then one thread per output dim.
  __shared__ float wts[kMaxSplits];
  __shared__ float red[32];
  for (int64_t r = 0; r < rows; ++r) {
    const int64_t t = r / G, h = hk * G + r % G, row = (b * a.Tq + t) * a.Hq + h;
    const float* mr = ml + 2 * row * splits;
    float mx = -INFINITY;
    for (int s = threadIdx.x; s < nact; s += blockDim.x) mx = fmaxf(mx, __ldcg(mr + 2 * s));
    const float M = block_reduce<true>(mx, red);
    float ls = 0.f;
    for (int s = threadIdx.x; s < nact; s += blockDim.x) {
      const float ms = __ldcg(mr + 2 * s);
      const float w = ms == -INFINITY ? 0.f : expf(ms - M);
      wts[s] = w;
      if (w != 0.f) ls += __ldcg(mr + 2 * s + 1) * w;
    }
    const float L = block_reduce<false>(ls, red);  // its barriers also publish wts[]
    const float inv = L > 0.f ? 1.f / L : 0.f;     // a row that saw no key is zeros, as on the CPU
    for (int64_t d = threadIdx.x; d < a.Dv; d += blockDim.x) {
      float o = 0.f;
#pragma unroll 4
      for (int s = 0; s < nact; ++s)
        if (wts[s] != 0.f) o += __ldcg(acc_out + (row * splits + s) * a.Dv + d) * wts[s];
      a.out[row * a.Dv + d] = o * inv;
    }
    __syncthreads();  // wts[] is rewritten for the next row
  }
  if (threadIdx.x == 0) e.counters[blockIdx.x] = 0;  // ready for the next launch
}

template <int R, int NI>
void launch_rows(const AttentionArgs& a, const DecodeExtra& e, int splits, float* ml, float* acc,
                 cudaStream_t s) {
  const dim3 grid(unsigned(a.B * a.Hkv), unsigned(splits / kWarps));
  if (a.kv_f16)
    k_attention_decode<R, NI, __half><<<grid, kWarps * 32, 0, s>>>(a, e, splits, ml, acc);
  else
    k_attention_decode<R, NI, float><<<grid, kWarps * 32, 0, s>>>(a, e, splits, ml, acc);
}

template <int NI>
void launch_ni(const AttentionArgs& a, const DecodeExtra& e, int rows, int splits, float* ml,
               float* acc, cudaStream_t s) {
  if (rows <= 1)
    launch_rows<1, NI>(a, e, splits, ml, acc, s);
  else if (rows <= 2)
    launch_rows<2, NI>(a, e, splits, ml, acc, s);
  else if (rows <= 4)
    launch_rows<4, NI>(a, e, splits, ml, acc, s);
  else
    launch_rows<8, NI>(a, e, splits, ml, acc, s);
}

}  // namespace

DecodeAttentionPlan plan_attention_decode(const AttentionArgs& a, int multiprocessors) {
  DecodeAttentionPlan p;
  const int64_t rows = a.Tq * (a.Hq / a.Hkv), groups = a.B * a.Hkv;
  if (rows > kMaxRows || a.D > 32 * kMaxLanes || a.Dv > 32 * kMaxLanes || groups == 0 ||
      groups > 65535)
    return p;
  // About two blocks per SM in all, but no more slices than the longest key range fills.
  const int64_t max_keys = a.kv_pos ? a.cache_len : a.n_keys;
  int64_t blocks = (2 * int64_t(multiprocessors) + groups - 1) / groups;
  const int64_t useful = (max_keys + kMinKeys * kWarps - 1) / (kMinKeys * kWarps);
  if (blocks > useful) blocks = useful;
  if (blocks > kMaxSplits / kWarps) blocks = kMaxSplits / kWarps;
  if (blocks < 1) blocks = 1;
  p.splits = int(blocks * kWarps);
  const int64_t all_rows = a.B * a.Tq * a.Hq;
  p.ml_floats = 2 * all_rows * p.splits;
  p.bytes = int64_t(sizeof(float)) * (p.ml_floats + all_rows * p.splits * a.Dv);
  return p;
}

void launch_attention_decode(const AttentionArgs& a, const DecodeAttentionPlan& p,
                             const DecodeExtra& e, void* work, cudaStream_t s) {
  const int64_t all_rows = a.B * a.Tq * a.Hq;
  if (all_rows == 0) return;
  float* ml = static_cast<float*>(work);
  float* acc = ml + p.ml_floats;
  const int rows = int(a.Tq * (a.Hq / a.Hkv));
  const int64_t dmax = a.D > a.Dv ? a.D : a.Dv;
  if (dmax <= 128)
    launch_ni<4>(a, e, rows, p.splits, ml, acc, s);
  else
    launch_ni<8>(a, e, rows, p.splits, ml, acc, s);
  RLX_CUDA_LAUNCHED();
}

}  // namespace rlx::cuda
