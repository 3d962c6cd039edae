// Decode attention (few query rows per KV head over a long KV range). One block of four warps
// serves one (batch, KV head) and a slice of its keys: the query rows of every head that shares
// the KV head (GQA) and every query position are handled together, so each K/V row is read once
// for all of them.
//
// A warp takes tiles of 32 keys (the block's tiles go round-robin over its warps):
//  - scores: 8 lanes read one key row with 16-byte loads (four keys per load instruction, so
//    every load reads whole 128-byte lines), each lane a dot product over its slice of the row
//    for every query row (queries staged in shared memory as F32); the 8-lane partial sums are
//    then reduced and scattered so that lane i holds the full score of one key of the tile;
//  - one warp max per query row and tile, an online-softmax rescale, p = exp(s - max) (the
//    running sums are kept per lane and summed once at the end);
//  - P·V: the p's go through shared memory, V rows are read coalesced (a row over a group of
//    lanes, each lane owning whole 16-byte vectors of output dims) and the next tile's K and V
//    rows are prefetched into L2.
// The warps of a block are merged in shared memory. When the key range needs one block (at most
// kMinTiles tiles, or a one-block plan) that block writes the output. Otherwise every block
// writes its (max, sum, unnormalized output) as a partial and the last block of the (batch, KV
// head) to finish merges them (e.counters[blockIdx.x] counts finished blocks and is reset by
// that last block, so every launch starts from zero).
//
// The key range is read from kv_pos on the device, so the launch geometry does not change from
// token to token (CUDA Graph replay): how many blocks actually take keys is decided on the
// device, the others exit at once. With a cache the new keys are read from the inputs (rounded
// as the cache stores them) and written into the cache by the first block of each (batch, KV
// head); no block reads a cache row that is being written.
#include <climits>

#include "backends/cuda/common.cuh"

namespace rlx::cuda {
namespace {

constexpr int kWarps = 4;        // warps per block
constexpr int kTile = 32;        // keys per warp tile
constexpr int kMinTiles = 8;     // a block takes this many tiles before the keys use more blocks
constexpr int kMaxBlocks = 128;  // blocks per (batch, KV head) (shared weights of the merge)
constexpr int kMaxRows = 8;      // query rows per KV head (Tq * Hq / Hkv)
constexpr int kMaxDim = 256;     // D, Dv
constexpr int kVecs = 16;        // 16-byte loads in flight per lane (64 registers), 8 for R = 8

// Key range [lo, hi) of query position t.
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

// 16 bytes of a K/V row (8 F16 or 4 F32 values) as floats.
template <typename KT>
__device__ inline void unpack(const uint4& u, float* f) {
  if constexpr (sizeof(KT) == 2) {
    const unsigned w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {  // the lower half is the element at the lower address
      f[2 * i] = __half2float(__ushort_as_half(static_cast<unsigned short>(w[i] & 0xffffu)));
      f[2 * i + 1] = __half2float(__ushort_as_half(static_cast<unsigned short>(w[i] >> 16)));
    }
  } else {
    f[0] = __uint_as_float(u.x), f[1] = __uint_as_float(u.y);
    f[2] = __uint_as_float(u.z), f[3] = __uint_as_float(u.w);
  }
}

// 16 bytes' worth of a new (F32) K/V row as the cache holds it (rounded to KT), read with
// scalar loads (the inputs need not be aligned).
template <typename KT>
__device__ inline uint4 pack_new(const float* p) {
  if constexpr (sizeof(KT) == 2) {
    unsigned w[4];
#pragma unroll
    for (int i = 0; i < 4; ++i)
      w[i] = unsigned(__half_as_ushort(__float2half_rn(p[2 * i]))) |
             (unsigned(__half_as_ushort(__float2half_rn(p[2 * i + 1]))) << 16);
    return make_uint4(w[0], w[1], w[2], w[3]);
  } else {
    return make_uint4(__float_as_uint(p[0]), __float_as_uint(p[1]), __float_as_uint(p[2]),
                      __float_as_uint(p[3]));
  }
}

__device__ inline uint4 load16(const void* p) {
  return *static_cast<const uint4*>(p);
}

__device__ inline void prefetch_l2(const void* p) {
  asm volatile("prefetch.L2 [%0];" ::"l"(p));
}
__device__ inline void prefetch_row(const void* p, int bytes) {
  const char* c = static_cast<const char*>(p);
  for (int o = 0; o < bytes; o += 128) prefetch_l2(c + o);
  prefetch_l2(c + bytes - 1);  // a row that does not start on a line
}

// Shared-memory slot of query dim d. For F16 K (8 values per 16-byte vector) the first and the
// second four floats of a vector go to the two halves of the row, so that the lanes' float4
// reads of consecutive vectors hit distinct banks.
template <int VW>
__device__ inline int q_slot(int d) {
  if constexpr (VW == 8)
    return ((d & 4) ? kMaxDim / 2 : 0) + (d >> 3) * 4 + (d & 3);
  else
    return d;
}

// One level of the 8-lane reduce-scatter: P[2H][R] -> P[H][R], the partner lane (lane ^ mask)
// taking the other half; entry k afterwards stands for entry k + H * (lane has mask set).
template <int H, int N, int R>
__device__ inline void halve(float (&P)[N][R], int lane, int mask) {
  const bool up = (lane & mask) != 0;
#pragma unroll
  for (int k = 0; k < H; ++k)
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const float mine = up ? P[k + H][r] : P[k][r], theirs = up ? P[k][r] : P[k + H][r];
      P[k][r] = mine + __shfl_xor_sync(0xffffffffu, theirs, mask);
    }
}

// R: query rows (padded), KT: cache element type, NV: 16-byte vectors of a V row per lane.
// Grid: x = B * Hkv, y = splits. Partials (with more than one block at run time): (max, sum)
// pairs at ml and unnormalized outputs at part, [row, split] each.
template <int R, typename KT, int NV>
__global__ void __launch_bounds__(kWarps * 32)
    k_attention_decode(AttentionArgs a, DecodeExtra e, int splits, float* ml, float* part) {
  allow_next_kernel();                            // the o-projection after it starts early (PDL)
  constexpr int VW = 16 / int(sizeof(KT));        // values per 16-byte vector
  constexpr int KB = R >= 8 ? 4 : 8;              // keys of an 8-lane group per score batch
  constexpr int NBT = 8 / KB;                     // score batches per tile
  constexpr int NL = R >= 8 ? kVecs / 2 : kVecs;  // 16-byte loads in flight per lane
  constexpr int CP = NL / KB;                     // K vectors per lane and key per load pass
  constexpr int U = NL / NV;                      // V rows per lane per load batch
  constexpr int kBig = kWarps * R * kMaxDim;
  static_assert(R * kMaxDim + kWarps * R * kTile <= kBig && R * kMaxBlocks <= kBig);
  // Loop: q [R][kMaxDim], p [kWarps][R][kTile]. Merge: warp outputs [kWarps][R][kMaxDim], then
  // the split weights [R][kMaxBlocks]. After kBig: warp max / sum / weight, block max / sum.
  __shared__ __align__(16) float sh[kBig + 3 * kWarps * R + 2 * R];
  __shared__ int merger;

  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int64_t b = blockIdx.x / a.Hkv, hk = blockIdx.x % a.Hkv;
  const int G = int(a.Hq / a.Hkv), rows = int(a.Tq) * G, D = int(a.D), Dv = int(a.Dv);

  int64_t n_keys = a.n_keys, base = a.n_keys - a.Tq;
  bool valid = true;
  if (a.kv_pos) {
    const int64_t p0 = *a.kv_pos;
    valid = p0 >= 0 && p0 + a.Tk <= a.cache_len;
    n_keys = p0 + a.Tk;
    base = p0;
  }
  const bool fold = e.new_k != nullptr;
  if (fold && !valid && blockIdx.x == 0 && blockIdx.y == 0 && threadIdx.x == 0)
    atomicExch(a.err, kErrKvCacheFull);

  // Union [jlo, jend) of the rows' key ranges (lo and hi grow with t), in tiles of 32 keys;
  // each active block takes per_block consecutive tiles (the last one fewer).
  const Range first = key_range(a, 0, n_keys, base), last = key_range(a, a.Tq - 1, n_keys, base);
  const int jlo = valid ? int(first.lo) : 0;
  const int jend = valid ? int(max(first.lo, last.hi)) : 0;
  const int tiles = (jend - jlo + kTile - 1) / kTile;
  const int per_block = max(kMinTiles, (tiles + splits - 1) / splits);
  const int nb = max(1, (tiles + per_block - 1) / per_block);  // blocks with keys (at least one)
  if (int(blockIdx.y) >= nb) return;
  const int t_begin = int(blockIdx.y) * per_block, t_end = min(tiles, t_begin + per_block);

  // Key range of each row ([lo, hi), empty for padding rows), in shared memory (registers are
  // short with 8 rows).
  __shared__ int2 range[R];
  if (threadIdx.x < R) {
    const int r = threadIdx.x;
    int2 v = make_int2(0, 0);
    if (r < rows) {
      const Range kr = key_range(a, r / G, n_keys, base);
      v = make_int2(int(kr.lo), int(kr.hi));
    }
    range[r] = v;
  }

  const KT* kp = static_cast<const KT*>(a.k) + b * a.k_bs + hk * a.k_hs;
  const KT* vp = static_cast<const KT*>(a.v) + b * a.v_bs + hk * a.v_hs;
  // Keys from nbase on are new: read from the inputs (row i at nk + i * nk_js).
  const int nbase = fold ? int(base) : INT_MAX;
  const float* nk = fold ? e.new_k + (b * a.Tk * a.Hkv + hk) * a.D : nullptr;
  const float* nv = fold ? e.new_v + (b * a.Tk * a.Hkv + hk) * a.Dv : nullptr;
  const int64_t nk_js = a.Hkv * a.D, nv_js = a.Hkv * a.Dv;
  // 16-byte vector vi of key j's K or V row: from the inputs for a new key, else the cache.
  auto row_vec = [&](const KT* cache, int64_t js, const float* fresh, int64_t fresh_js, int j,
                     int vi) {
    return j >= nbase ? pack_new<KT>(fresh + int64_t(j - nbase) * fresh_js + vi * VW)
                      : load16(cache + int64_t(j) * js + vi * VW);
  };
  auto prefetch_tile = [&](int tile) {  // K and V rows of a tile into L2, a row per lane
    if (tile >= t_end) return;
    const int j = jlo + tile * kTile + lane;
    if (j < jend && j < nbase) {
      prefetch_row(kp + int64_t(j) * a.k_js, D * int(sizeof(KT)));
      prefetch_row(vp + int64_t(j) * a.v_js, Dv * int(sizeof(KT)));
    }
  };
  prefetch_tile(t_begin + warp);

  // Query rows as F32 (zeros past D and for padding rows): row r = t * G + g is head hk * G + g
  // at position t.
  float* qs = sh;
  float* ps = sh + R * kMaxDim + warp * R * kTile;  // this warp's p's, [R][kTile]
  for (int x = threadIdx.x; x < R * kMaxDim; x += kWarps * 32) {
    const int r = x / kMaxDim, d = x % kMaxDim;
    float v = 0.f;
    if (r < rows && d < D) v = a.q[((b * a.Tq + r / G) * a.Hq + hk * G + r % G) * a.D + d];
    qs[r * kMaxDim + q_slot<VW>(d)] = v;
  }
  // The cache write (first block of each (batch, KV head)); this launch reads these rows from
  // the inputs only.
  if (fold && valid && blockIdx.y == 0) {
    const int64_t W = a.D > a.Dv ? a.D : a.Dv;
    for (int64_t x = threadIdx.x; x < a.Tk * W; x += blockDim.x) {
      const int64_t t = x / W, d = x % W, src = (b * a.Tk + t) * a.Hkv + hk;
      const int64_t row = (b * a.Hkv + hk) * a.cache_len + base + t;
      if (d < a.D) static_cast<KT*>(e.kc)[row * a.D + d] = KT(e.new_k[src * a.D + d]);
      if (d < a.Dv) static_cast<KT*>(e.vc)[row * a.Dv + d] = KT(e.new_v[src * a.Dv + d]);
    }
  }
  __syncthreads();

  // Scores: lane = 8 * q4 + sub reads vectors sub, sub + 8, ... of keys 4 * i + q4 (i = 0..7)
  // and ends with the full score of key 4 * sub + q4 of the tile.
  const int sub = lane & 7, q4 = lane >> 3, mykey = 4 * sub + q4;
  const int nvk = D / VW, nck = (nvk + 7) / 8;  // K vectors per row, in chunks of 8
  // P·V: a V row over lpr lanes (vectors vs, vs + lpr, ...), kps keys side by side.
  const int nvv = Dv / VW;
  int lpr = 1;
  while (lpr * NV < nvv) lpr <<= 1;
  const int kps = kTile / lpr, vg = lane / lpr, vs = lane % lpr;

  float m[R], l[R], acc[R][NV][VW];
#pragma unroll
  for (int r = 0; r < R; ++r) {
    m[r] = -INFINITY, l[r] = 0.f;  // l: this lane's keys only until the end
#pragma unroll
    for (int c = 0; c < NV; ++c)
#pragma unroll
      for (int i = 0; i < VW; ++i) acc[r][c][i] = 0.f;
  }

  for (int tile = t_begin + warp; tile < t_end; tile += kWarps) {
    prefetch_tile(tile + kWarps);
    const int j0 = jlo + tile * kTile, n = min(kTile, jend - j0);
    const int j = j0 + mykey;
    bool keep = mykey < n;
    if (keep && a.key_mask)
      keep = load_as_double(a.key_mask, a.key_mask_type, b * a.mask_cols + j) != 0;

    float sc[R];
    {
      float T[NBT][R];
#pragma unroll
      for (int bt = 0; bt < NBT; ++bt) {
        // Batch bt: keys i = k * NBT + bt (k < KB) of each group.
        float P[KB][R];
#pragma unroll
        for (int k = 0; k < KB; ++k)
#pragma unroll
          for (int r = 0; r < R; ++r) P[k][r] = 0.f;
        for (int c0 = 0; c0 < nck; c0 += CP) {
          uint4 kv[KB][CP];
#pragma unroll
          for (int k = 0; k < KB; ++k) {
            const int kk = 4 * (k * NBT + bt) + q4, jk = j0 + kk;
#pragma unroll
            for (int cc = 0; cc < CP; ++cc) {
              const int vi = sub + 8 * (c0 + cc);
              kv[k][cc] = make_uint4(0u, 0u, 0u, 0u);
              if (kk < n && vi < nvk) kv[k][cc] = row_vec(kp, a.k_js, nk, nk_js, jk, vi);
            }
          }
#pragma unroll
          for (int cc = 0; cc < CP; ++cc) {
            if (c0 + cc >= nck) break;  // warp-uniform
            const int vi = sub + 8 * (c0 + cc);
#pragma unroll
            for (int k = 0; k < KB; ++k) {
              float kf[VW];
              unpack<KT>(kv[k][cc], kf);
#pragma unroll
              for (int r = 0; r < R; ++r) {
                const float* qv = qs + r * kMaxDim + vi * 4;  // zeros past D
                const float4 qa = *reinterpret_cast<const float4*>(qv);
                float s = P[k][r];
                s = fmaf(qa.x, kf[0], s), s = fmaf(qa.y, kf[1], s);
                s = fmaf(qa.z, kf[2], s), s = fmaf(qa.w, kf[3], s);
                if constexpr (VW == 8) {
                  const float4 qb = *reinterpret_cast<const float4*>(qv + kMaxDim / 2);
                  s = fmaf(qb.x, kf[4], s), s = fmaf(qb.y, kf[5], s);
                  s = fmaf(qb.z, kf[6], s), s = fmaf(qb.w, kf[7], s);
                }
                P[k][r] = s;
              }
            }
          }
        }
        // Reduce over the 8 lanes of the group, scattering the keys: afterwards P[0] holds the
        // sum for k = sub (KB == 8), or k = sub >> 1 (KB == 4); either way key i = sub once
        // the batches are combined below.
        if constexpr (KB == 8) {
          halve<4>(P, lane, 4), halve<2>(P, lane, 2), halve<1>(P, lane, 1);
        } else {
          halve<2>(P, lane, 4), halve<1>(P, lane, 2);
        }
#pragma unroll
        for (int r = 0; r < R; ++r) T[bt][r] = P[0][r];
      }
      if constexpr (NBT == 2) {  // batch bt = (sub & 1): the last level over lane bit 0
        const bool up = (lane & 1) != 0;
#pragma unroll
        for (int r = 0; r < R; ++r) {
          const float mine = up ? T[1][r] : T[0][r], theirs = up ? T[0][r] : T[1][r];
          sc[r] = mine + __shfl_xor_sync(0xffffffffu, theirs, 1);
        }
      } else {
#pragma unroll
        for (int r = 0; r < R; ++r) sc[r] = T[0][r];
      }
    }
#pragma unroll
    for (int r = 0; r < R; ++r) {
      float s = sc[r] * a.scale;
      if (a.softcap > 0.f) s = a.softcap * tanhf(s / a.softcap);
      const int2 kr = range[r];
      sc[r] = keep && j >= kr.x && j < kr.y ? s : -INFINITY;
    }

    // Online softmax: one max per row and tile; p of this lane's key to shared memory.
    float mx[R];
#pragma unroll
    for (int r = 0; r < R; ++r) mx[r] = sc[r];
#pragma unroll
    for (int o = 16; o > 0; o >>= 1)
#pragma unroll
      for (int r = 0; r < R; ++r) mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], o));
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const float nm = fmaxf(m[r], mx[r]), ref = nm == -INFINITY ? 0.f : nm;
      const float alpha = expf(m[r] - ref), p = expf(sc[r] - ref);  // 0 for -inf
      m[r] = nm;
      l[r] = l[r] * alpha + p;
      ps[r * kTile + mykey] = p;
#pragma unroll
      for (int c = 0; c < NV; ++c)
#pragma unroll
        for (int i = 0; i < VW; ++i) acc[r][c][i] *= alpha;
    }
    __syncwarp();

    // P·V: key jj of the tile goes to the lanes of group vg = jj % kps.
    for (int jb = 0; jb < n; jb += kps * U) {
      uint4 vv[U][NV];
#pragma unroll
      for (int u = 0; u < U; ++u) {
        const int jj = jb + u * kps + vg, jv = j0 + jj;
#pragma unroll
        for (int c = 0; c < NV; ++c) {
          const int vi = vs + c * lpr;
          vv[u][c] = make_uint4(0u, 0u, 0u, 0u);
          if (jj < n && vi < nvv) vv[u][c] = row_vec(vp, a.v_js, nv, nv_js, jv, vi);
        }
      }
#pragma unroll
      for (int u = 0; u < U; ++u) {
        const int jj = jb + u * kps + vg;
        if (jj < n) {
          float pr[R];
#pragma unroll
          for (int r = 0; r < R; ++r) pr[r] = ps[r * kTile + jj];
#pragma unroll
          for (int c = 0; c < NV; ++c) {
            float vf[VW];
            unpack<KT>(vv[u][c], vf);
#pragma unroll
            for (int r = 0; r < R; ++r)
#pragma unroll
              for (int i = 0; i < VW; ++i) acc[r][c][i] = fmaf(pr[r], vf[i], acc[r][c][i]);
          }
        }
      }
    }
    __syncwarp();  // ps is rewritten by the next tile
  }

  // The warp's sums: l over the lanes, the outputs over the kps key groups.
#pragma unroll
  for (int o = 16; o > 0; o >>= 1)
#pragma unroll
    for (int r = 0; r < R; ++r) l[r] += __shfl_xor_sync(0xffffffffu, l[r], o);
  for (int o = lpr; o < 32; o <<= 1)
#pragma unroll
    for (int r = 0; r < R; ++r)
#pragma unroll
      for (int c = 0; c < NV; ++c)
#pragma unroll
        for (int i = 0; i < VW; ++i) acc[r][c][i] += __shfl_xor_sync(0xffffffffu, acc[r][c][i], o);

  // Merge the warps in shared memory (q and p are no longer read once every warp is here).
  __syncthreads();
  float* sacc = sh;  // [kWarps][R][kMaxDim]
  float* sm = sh + kBig;
  float* sl = sm + kWarps * R;
  float* swt = sl + kWarps * R;
  float* sM = swt + kWarps * R;
  float* sL = sM + R;
  if (lane < lpr) {
#pragma unroll
    for (int r = 0; r < R; ++r)
#pragma unroll
      for (int c = 0; c < NV; ++c) {
        const int vi = lane + c * lpr;
        if (vi < nvv)
#pragma unroll
          for (int i = 0; i < VW; ++i) sacc[(warp * R + r) * kMaxDim + vi * VW + i] = acc[r][c][i];
      }
  }
  if (lane == 0) {
#pragma unroll
    for (int r = 0; r < R; ++r) sm[warp * R + r] = m[r], sl[warp * R + r] = l[r];
  }
  __syncthreads();
  if (threadIdx.x < R) {
    const int r = threadIdx.x;
    float M = -INFINITY, L = 0.f;
    for (int w = 0; w < kWarps; ++w) M = fmaxf(M, sm[w * R + r]);
    for (int w = 0; w < kWarps; ++w) {
      const float mw = sm[w * R + r], wt = mw == -INFINITY ? 0.f : expf(mw - M);
      swt[w * R + r] = wt;
      L += sl[w * R + r] * wt;
    }
    sM[r] = M, sL[r] = L;
  }
  __syncthreads();
  auto out_row = [&](int r) { return (b * a.Tq + r / G) * a.Hq + hk * G + r % G; };
  if (nb == 1) {  // the only block: the output
    for (int x = threadIdx.x; x < rows * Dv; x += kWarps * 32) {
      const int r = x / Dv, d = x % Dv;
      float o = 0.f;
#pragma unroll
      for (int w = 0; w < kWarps; ++w) o += sacc[(w * R + r) * kMaxDim + d] * swt[w * R + r];
      const float L = sL[r];  // a row that saw no key is zeros, as on the CPU
      a.out[out_row(r) * a.Dv + d] = L > 0.f ? o / L : 0.f;
    }
    return;
  }

  // This block's partial, then the last block of this (batch, KV head) merges.
  const int y = blockIdx.y;
  for (int x = threadIdx.x; x < rows * Dv; x += kWarps * 32) {
    const int r = x / Dv, d = x % Dv;
    float o = 0.f;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) o += sacc[(w * R + r) * kMaxDim + d] * swt[w * R + r];
    part[(out_row(r) * splits + y) * a.Dv + d] = o;
  }
  if (int(threadIdx.x) < rows) {
    const int64_t i = out_row(threadIdx.x) * splits + y;
    ml[2 * i] = sM[threadIdx.x], ml[2 * i + 1] = sL[threadIdx.x];
  }
  __threadfence();  // this block's partials are visible before it is counted
  __syncthreads();
  if (threadIdx.x == 0) merger = atomicAdd(&e.counters[blockIdx.x], 1) == nb - 1;
  __syncthreads();
  if (!merger) return;
  __threadfence();
  float* wts = sh;  // [R][kMaxBlocks]
  for (int r = warp; r < rows; r += kWarps) {
    const float* mr = ml + 2 * out_row(r) * splits;
    float M = -INFINITY;
    for (int s = lane; s < nb; s += 32) M = fmaxf(M, __ldcg(mr + 2 * s));
    M = warp_max(M);
    float L = 0.f;
    for (int s = lane; s < nb; s += 32) {
      const float ms = __ldcg(mr + 2 * s), w = ms == -INFINITY ? 0.f : expf(ms - M);
      wts[r * kMaxBlocks + s] = w;
      L += w * __ldcg(mr + 2 * s + 1);
    }
    L = warp_sum(L);
    if (lane == 0) sL[r] = L;
  }
  __syncthreads();
  for (int x = threadIdx.x; x < rows * Dv; x += kWarps * 32) {
    const int r = x / Dv, d = x % Dv;
    const float* pr = part + out_row(r) * splits * a.Dv + d;
    const float* wr = wts + r * kMaxBlocks;
    float o = 0.f;
#pragma unroll 8
    for (int s = 0; s < nb; ++s) o = fmaf(wr[s], __ldcg(pr + int64_t(s) * a.Dv), o);
    const float L = sL[r];
    a.out[out_row(r) * a.Dv + d] = L > 0.f ? o / L : 0.f;
  }
  if (threadIdx.x == 0) e.counters[blockIdx.x] = 0;  // ready for the next launch
}

template <typename KT, int NV>
void launch_kt(const AttentionArgs& a, const DecodeExtra& e, int rows, int splits, float* ml,
               float* part, cudaStream_t s) {
  const dim3 grid(unsigned(a.B * a.Hkv), unsigned(splits));
  const int threads = kWarps * 32;
  if (rows <= 1)
    k_attention_decode<1, KT, NV><<<grid, threads, 0, s>>>(a, e, splits, ml, part);
  else if (rows <= 2)
    k_attention_decode<2, KT, NV><<<grid, threads, 0, s>>>(a, e, splits, ml, part);
  else if (rows <= 4)
    k_attention_decode<4, KT, NV><<<grid, threads, 0, s>>>(a, e, splits, ml, part);
  else
    k_attention_decode<8, KT, NV><<<grid, threads, 0, s>>>(a, e, splits, ml, part);
}

}  // namespace

DecodeAttentionPlan plan_attention_decode(const AttentionArgs& a, int multiprocessors) {
  DecodeAttentionPlan p;
  const int64_t rows = a.Tq * (a.Hq / a.Hkv), groups = a.B * a.Hkv;
  const int64_t max_keys = a.kv_pos ? a.cache_len : a.n_keys;
  if (rows > kMaxRows || a.D > kMaxDim || a.Dv > kMaxDim || groups == 0 || groups > 65535 ||
      max_keys > INT_MAX / 2)
    return p;
  // About two blocks per SM in all, but no more blocks than the longest key range fills with
  // kMinTiles tiles each.
  int64_t blocks = (2 * int64_t(multiprocessors) + groups - 1) / groups;
  const int64_t useful = (max_keys + kTile * kMinTiles - 1) / (kTile * kMinTiles);
  if (blocks > useful) blocks = useful;
  if (blocks > kMaxBlocks) blocks = kMaxBlocks;
  if (blocks < 1) blocks = 1;
  p.splits = int(blocks);
  if (blocks > 1) {  // one block writes the output directly
    const int64_t all_rows = a.B * a.Tq * a.Hq;
    p.ml_floats = 2 * all_rows * blocks;
    p.bytes = int64_t(sizeof(float)) * (p.ml_floats + all_rows * blocks * a.Dv);
  }
  return p;
}

void launch_attention_decode(const AttentionArgs& a, const DecodeAttentionPlan& p,
                             const DecodeExtra& e, void* work, cudaStream_t s) {
  const int64_t all_rows = a.B * a.Tq * a.Hq;
  if (all_rows == 0) return;
  // K/V rows are read with 16-byte loads: otherwise the cache write (when folded here) and the
  // plain kernel.
  const int64_t vw = a.kv_f16 ? 8 : 4;
  const int64_t dims[] = {a.D, a.Dv, a.k_bs, a.k_hs, a.k_js, a.v_bs, a.v_hs, a.v_js};
  bool vec =
      reinterpret_cast<uintptr_t>(a.k) % 16 == 0 && reinterpret_cast<uintptr_t>(a.v) % 16 == 0;
  for (int64_t x : dims) vec = vec && x % vw == 0;
  if (!vec) {
    if (e.new_k)
      launch_cache_write(e.new_k, e.new_v, e.kc, e.vc, a.kv_f16, a.B, a.Tk, a.Hkv, a.cache_len, a.D,
                         a.Dv, a.kv_pos, a.err, s);
    launch_attention(a, s);
    return;
  }
  float* ml = static_cast<float*>(work);
  float* part = p.splits > 1 ? ml + p.ml_floats : nullptr;
  const int rows = int(a.Tq * (a.Hq / a.Hkv));
  if (a.kv_f16)
    launch_kt<__half, 1>(a, e, rows, p.splits, ml, part, s);
  else if (a.Dv > 128)
    launch_kt<float, 2>(a, e, rows, p.splits, ml, part, s);
  else
    launch_kt<float, 1>(a, e, rows, p.splits, ml, part, s);
  RLX_CUDA_LAUNCHED();
}

}  // namespace rlx::cuda
