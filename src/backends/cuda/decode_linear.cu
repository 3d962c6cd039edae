// Decode linears: y[M, N] = x[M, K] · W[N, K]ᵀ (+ bias) for a few activation rows (M <= 8),
// one kernel for every weight type the device keeps (F16, BF16, Q4_0, Q8_0, Q4_K, Q5_K, Q6_K),
// with what surrounds a decoder's linears folded into the same launch:
//  - the input is x, RMSNorm(x) (the norm computed per block, as rows.cu computes it) or
//    silu(gate) · up, staged once per block in shared memory (rounded to the weight type for
//    16-bit weights, as the cuBLAS path and the CPU's dot kernels see it);
//  - up to three weights that read the same input (q/k/v, gate/up), each with its own output;
//  - a residual added to the single output (the decoder's `x + linear(...)`).
// A decode step streams every weight once, in launches of a few microseconds, so the kernel is
// built around latency: each lane issues its first kPrefetch weight loads before staging the
// input (the loads do not depend on it), then multiplies from registers. One warp (or `wpr`
// warps, their sums meeting in shared memory) per output column; lanes take whole 16-byte
// units of F16/BF16 rows or fixed pieces of quantized blocks (Fmt below, the CPU reference's
// block layouts and element formulas), F32 products and sums.
#include <cstdint>
#include <type_traits>

#include "backends/cuda/common.cuh"

namespace rlx::cuda {
namespace {

constexpr int kWarps = 8;  // warps per block
// Shared memory for the staged input: at most this, and within what the device lets a block
// opt in to (less the kernel's static shared memory); larger inputs take the cuBLAS paths.
constexpr int64_t kMaxStageBytes = 96 << 10;
constexpr int64_t kStaticSmem = 2 << 10;  // red[], sums[] (under 0.5 KiB) with room to spare

template <int W>
struct Raw {  // one lane's undecoded share of a block
  uint32_t v[W];
};

__device__ inline float half_lo(uint32_t w) {
  return __half2float(__ushort_as_half(uint16_t(w & 0xFFFF)));
}
__device__ inline float half_hi(uint32_t w) {
  return __half2float(__ushort_as_half(uint16_t(w >> 16)));
}
__device__ inline uint32_t ld_u16(const uint8_t* p) {
  return *reinterpret_cast<const uint16_t*>(p);
}
__device__ inline uint32_t ld_u32_a2(const uint8_t* p) {  // 2-byte aligned fields
  return ld_u16(p) | (ld_u16(p + 2) << 16);
}
__device__ inline void ld_u4(const uint8_t* p, uint32_t* v) {
  const uint4 u = __ldg(reinterpret_cast<const uint4*>(p));
  v[0] = u.x, v[1] = u.y, v[2] = u.z, v[3] = u.w;
}
__device__ inline void ld_u2(const uint8_t* p, uint32_t* v) {
  const uint2 u = __ldg(reinterpret_cast<const uint2*>(p));
  v[0] = u.x, v[1] = u.y;
}

// acc[m] += scale · (w[0..n) · xs[m * K + 0..n)) for the first `rows` rows (xs: shared, 16-byte
// aligned).
template <int M, int N>
__device__ inline void dot_run(const float (&w)[N], const float* xs, int64_t K, int rows,
                               float (&acc)[M], float scale = 1.f) {
#pragma unroll
  for (int m = 0; m < M; ++m) {
    if (m >= rows) break;
    const float4* xr = reinterpret_cast<const float4*>(xs + m * K);
    float s = 0.f;
#pragma unroll
    for (int i = 0; i < N / 4; ++i) {
      const float4 x = xr[i];
      s += w[4 * i] * x.x + w[4 * i + 1] * x.y + w[4 * i + 2] * x.z + w[4 * i + 3] * x.w;
    }
    acc[m] += scale * s;
  }
}

// 16-bit value to float: F16, or BF16 (its bits are the float's upper half).
template <bool kBf16>
__device__ inline float from16(uint32_t bits) {
  if constexpr (kBf16)
    return __uint_as_float(bits << 16);
  else
    return __half2float(__ushort_as_half(uint16_t(bits)));
}

// acc[m] += w · x over 8 16-bit weights (r) and the staged inputs (already rounded to the
// weight type, so the products are exact in F32, as on the CPU).
template <bool kBf16, typename R, int M>
__device__ inline void dot8(const R& r, const float* xb, int64_t K, int rows, float (&acc)[M]) {
  float w[8];
#pragma unroll
  for (int i = 0; i < 4; ++i)
    w[2 * i] = from16<kBf16>(r.v[i] & 0xFFFF), w[2 * i + 1] = from16<kBf16>(r.v[i] >> 16);
  dot_run(w, xb, K, rows, acc);
}

// Per weight type: kQK elements in kBytes per block, kLanes lanes per block; load() reads lane
// `p`'s share of block `b` into registers, dot() decodes it and multiplies it with the staged
// input of the block (xb = xs + block * kQK).
template <int T>
struct Fmt;

// 16-bit weights: a "block" of 8 values, one 16-byte load.
template <bool kBf16>
struct Fmt16 {
  static constexpr int kQK = 8, kBytes = 16, kLanes = 1, kAlign = 16;
  static constexpr int kWords = 4;
  static constexpr int kPrefetch = 8, kMinBlocks = 4;  // loads in flight, blocks/SM
  using X = float;  // the staged input, rounded to the weight type
  using R = Raw<kWords>;
  __device__ static void load(const uint8_t* b, int, R& r) { ld_u4(b, r.v); }
  template <int M>
  __device__ static void dot(const R& r, int, const X* xb, int64_t K, int rows, float (&acc)[M]) {
    dot8<kBf16>(r, xb, K, rows, acc);
  }
};
template <>
struct Fmt<int(DType::F16)> : Fmt16<false> {};
template <>
struct Fmt<int(DType::BF16)> : Fmt16<true> {};

template <>
struct Fmt<int(DType::Q4_0)> {  // d, qs[16]; lane p: bytes 4p..4p+3 (elements 4p+i, 16+4p+i)
  static constexpr int kQK = 32, kBytes = 18, kLanes = 4, kAlign = 2;
  static constexpr int kWords = 2;
  static constexpr int kPrefetch = 8, kMinBlocks = 4;  // loads in flight, blocks/SM
  using X = float;
  using R = Raw<kWords>;
  __device__ static void load(const uint8_t* b, int p, R& r) {
    r.v[0] = ld_u16(b);
    r.v[1] = ld_u32_a2(b + 2 + 4 * p);
  }
  template <int M>
  __device__ static void dot(const R& r, int p, const float* xb, int64_t K, int rows,
                             float (&acc)[M]) {
    const float d = half_lo(r.v[0]);
    float lo[4], hi[4];
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      lo[i] = float(int((r.v[1] >> (8 * i)) & 0xF) - 8) * d;
      hi[i] = float(int((r.v[1] >> (8 * i + 4)) & 0xF) - 8) * d;
    }
    dot_run(lo, xb + 4 * p, K, rows, acc);
    dot_run(hi, xb + 16 + 4 * p, K, rows, acc);
  }
};

template <>
struct Fmt<int(DType::Q8_0)> {  // d, qs[32]; lane p: elements 8p..8p+7
  static constexpr int kQK = 32, kBytes = 34, kLanes = 4, kAlign = 2;
  static constexpr int kWords = 3;
  static constexpr int kPrefetch = 8, kMinBlocks = 4;  // loads in flight, blocks/SM
  using X = float;
  using R = Raw<kWords>;
  __device__ static void load(const uint8_t* b, int p, R& r) {
    r.v[0] = ld_u16(b);
    r.v[1] = ld_u32_a2(b + 2 + 8 * p);
    r.v[2] = ld_u32_a2(b + 6 + 8 * p);
  }
  template <int M>
  __device__ static void dot(const R& r, int p, const float* xb, int64_t K, int rows,
                             float (&acc)[M]) {
    const float d = half_lo(r.v[0]);
    float w[8];
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      w[i] = float(int8_t(r.v[1] >> (8 * i))) * d;
      w[4 + i] = float(int8_t(r.v[2] >> (8 * i))) * d;
    }
    dot_run(w, xb + 8 * p, K, rows, acc);
  }
};

// Byte i (0..11) of the K-quant scales held in words v[1..3] (constant register indices).
template <typename R>
__device__ inline int kscale_byte(const R& r, int i) {
  const uint32_t w = i < 4 ? r.v[1] : (i < 8 ? r.v[2] : r.v[3]);
  return int((w >> (8 * (i & 3))) & 0xFF);
}
// The 6-bit scale and min of sub-block j (0..7), as the CPU's get_scale_min_k4.
template <typename R>
__device__ inline void kscale_min(const R& r, int j, float& sc, float& m) {
  if (j < 4) {
    sc = float(kscale_byte(r, j) & 63);
    m = float(kscale_byte(r, j + 4) & 63);
  } else {
    sc = float((kscale_byte(r, j + 4) & 0xF) | ((kscale_byte(r, j - 4) >> 6) << 4));
    m = float((kscale_byte(r, j + 4) >> 4) | ((kscale_byte(r, j) >> 6) << 4));
  }
}

// Scales and mins of the sub-blocks 2c (low nibbles) and 2c + 1 (high nibbles) of chunk c,
// times the block's d and dmin (header words v[0..3]).
template <typename R>
__device__ inline void kscale_pair(const R& r, int c, float& d1, float& m1, float& d2, float& m2) {
  const float d = half_lo(r.v[0]), dmin = half_hi(r.v[0]);
  float sc, m;
  kscale_min(r, 2 * c, sc, m);
  d1 = d * sc, m1 = dmin * m;
  kscale_min(r, 2 * c + 1, sc, m);
  d2 = d * sc, m2 = dmin * m;
}

// Q4_K (and with kFifth Q5_K, whose fifth bits are in words v[6..7]): lane p's 16 values,
// chunk c = p / 4, bytes l0 = 8 (p % 4) of its qs (words v[4..5]), times the sub-block scales.
template <bool kFifth, typename R, int M>
__device__ inline void dot_k45(const R& r, int p, const float* xb, int64_t K, int rows,
                               float (&acc)[M]) {
  const int c = p >> 2, l0 = 8 * (p & 3);
  float d1, m1, d2, m2;
  kscale_pair(r, c, d1, m1, d2, m2);
  float lo[8], hi[8];
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    const int sh = 8 * (i & 3);
    const uint32_t byte = (r.v[4 + i / 4] >> sh) & 0xFF;
    int ql = int(byte & 0xF), qh = int(byte >> 4);
    if constexpr (kFifth) {
      const uint32_t hb = ((r.v[6 + i / 4] >> sh) & 0xFF) >> (2 * c);
      ql += int(hb & 1) * 16, qh += int((hb >> 1) & 1) * 16;
    }
    lo[i] = d1 * float(ql) - m1;
    hi[i] = d2 * float(qh) - m2;
  }
  dot_run(lo, xb + 64 * c + l0, K, rows, acc);
  dot_run(hi, xb + 64 * c + 32 + l0, K, rows, acc);
}

// Q4_K: d, dmin, scales[12], qs[128]. Lane p: chunk c = p / 4 (64 elements), bytes
// l0 = 8 (p % 4) of its 32: elements 64c + l0 + i (low nibbles, sub-block 2c) and
// 64c + 32 + l0 + i (high nibbles, sub-block 2c + 1).
template <>
struct Fmt<int(DType::Q4_K)> {
  static constexpr int kQK = 256, kBytes = 144, kLanes = 16, kAlign = 16;
  static constexpr int kWords = 6;
  static constexpr int kPrefetch = 4, kMinBlocks = 4;  // loads in flight, blocks/SM
  using X = float;
  using R = Raw<kWords>;
  __device__ static void load(const uint8_t* b, int p, R& r) {
    ld_u4(b, r.v);
    ld_u2(b + 16 + 32 * (p >> 2) + 8 * (p & 3), r.v + 4);
  }
  template <int M>
  __device__ static void dot(const R& r, int p, const float* xb, int64_t K, int rows,
                             float (&acc)[M]) {
    dot_k45<false>(r, p, xb, K, rows, acc);
  }
};

// Q5_K: d, dmin, scales[12], qh[32], qs[128]; the lane pieces of Q4_K plus the fifth bits.
template <>
struct Fmt<int(DType::Q5_K)> {
  static constexpr int kQK = 256, kBytes = 176, kLanes = 16, kAlign = 16;
  static constexpr int kWords = 8;
  static constexpr int kPrefetch = 4, kMinBlocks = 3;  // loads in flight, blocks/SM
  using X = float;
  using R = Raw<kWords>;
  __device__ static void load(const uint8_t* b, int p, R& r) {
    ld_u4(b, r.v);
    ld_u2(b + 48 + 32 * (p >> 2) + 8 * (p & 3), r.v + 4);
    ld_u2(b + 16 + 8 * (p & 3), r.v + 6);
  }
  template <int M>
  __device__ static void dot(const R& r, int p, const float* xb, int64_t K, int rows,
                             float (&acc)[M]) {
    dot_k45<true>(r, p, xb, K, rows, acc);
  }
};

// Q6_K: ql[128], qh[64], scales[16] (int8), d. Lane p: half h = p / 8, l0 = 4 (p % 8):
// elements 128h + 32k + l0 + i for k = 0..3, i = 0..3.
template <>
struct Fmt<int(DType::Q6_K)> {
  static constexpr int kQK = 256, kBytes = 210, kLanes = 16, kAlign = 2;
  static constexpr int kWords = 5;
  static constexpr int kPrefetch = 4, kMinBlocks = 4;  // loads in flight, blocks/SM
  using X = float;
  using R = Raw<kWords>;
  __device__ static void load(const uint8_t* b, int p, R& r) {
    const int h = p >> 3, l0 = 4 * (p & 7);
    r.v[0] = ld_u32_a2(b + 64 * h + l0);
    r.v[1] = ld_u32_a2(b + 64 * h + 32 + l0);
    r.v[2] = ld_u32_a2(b + 128 + 32 * h + l0);
    const uint8_t* sc = b + 192 + 8 * h + l0 / 16;
    r.v[3] = uint32_t(sc[0]) | (uint32_t(sc[2]) << 8) | (uint32_t(sc[4]) << 16) |
             (uint32_t(sc[6]) << 24);
    r.v[4] = ld_u16(b + 208);
  }
  template <int M>
  __device__ static void dot(const R& r, int p, const float* xb, int64_t K, int rows,
                             float (&acc)[M]) {
    const int h = p >> 3, l0 = 4 * (p & 7);
    const float d = half_lo(r.v[4]);
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      const float dk = d * float(int8_t(r.v[3] >> (8 * k)));
      const uint32_t ql = (k & 1) ? r.v[1] : r.v[0];
      // The four 6-bit values at once (byte i = element i): low nibbles | 2 high bits << 4.
      const uint32_t q =
          ((k >= 2 ? ql >> 4 : ql) & 0x0F0F0F0Fu) | (((r.v[2] >> (2 * k)) & 0x03030303u) << 4);
      float w[4];
#pragma unroll
      for (int i = 0; i < 4; ++i)  // 2^23 + byte, minus 2^23 + 32: byte - 32, exactly
        w[i] = __uint_as_float(0x4B000000u | ((q >> (8 * i)) & 0xFF)) - 8388640.f;
      dot_run(w, xb + 128 * h + 32 * k + l0, K, rows, acc, dk);
    }
  }
};

struct Part {
  const uint8_t* w;
  const float* bias;
  float* y;
  int64_t N;
};

struct Params {
  Part part[kGemvMaxParts];     // of one weight type; N = 0 past the last
  int rows, wpr, input, round;  // rows = M; round: 0 none, 1 F16, 2 BF16
  int64_t K, row_bytes, columns;
  const float *x, *norm_w, *residual;
  float* glu_out;  // parts 0 and 1 are gate and up: silu(gate) · up goes here
  float eps, offset;
};

// v into the staged input, rounded to the weights' 16-bit type (round 1: F16, 2: BF16).
__device__ inline void put(float* xs, int64_t i, float v, int round) {
  if (round == 1) v = __half2float(__float2half_rn(v));
  if (round == 2) v = __bfloat162float(__float2bfloat16_rn(v));
  xs[i] = v;
}

// The block's input rows into shared memory: x or rms_norm(x) · (w + offset) (the reduction of
// rows.cu's RMSNorm: 256 threads, the same order), in F32, rounded to the weights' 16-bit type
// when they have one. Every thread of the block calls it.
template <typename X>
__device__ void stage_input(const Params& p, X* xs, float* red) {
  const int64_t K = p.K, n = p.rows * K;
  if (p.input == int(LinearInput::RmsNorm)) {
    for (int m = 0; m < p.rows; ++m) {
      const float* xr = p.x + m * K;
      float ss = 0.f;
      for (int64_t i = threadIdx.x; i < K; i += blockDim.x) ss += xr[i] * xr[i];
      ss = block_reduce<false>(ss, red);
      const float scale = float(1.0 / sqrt(double(ss) / double(K) + double(p.eps)));
      for (int64_t i = threadIdx.x; i < K; i += blockDim.x)
        put(xs, m * K + i, p.norm_w ? xr[i] * scale * (p.norm_w[i] + p.offset) : xr[i] * scale,
            p.round);
    }
  } else {
    const float4* x4 = reinterpret_cast<const float4*>(p.x);
    for (int64_t e = threadIdx.x; e < n / 4; e += blockDim.x) {
      const float4 v = x4[e];
      put(xs, 4 * e, v.x, p.round), put(xs, 4 * e + 1, v.y, p.round);
      put(xs, 4 * e + 2, v.z, p.round), put(xs, 4 * e + 3, v.w, p.round);
    }
  }
  __syncthreads();
}

// The part and row of column c of all the parts' columns (constant indices only: a dynamic one
// copies the parameters to local memory). With glu_out, column c is row c of gate (half 0)
// and of up (half 1).
__device__ inline Part locate(const Params& p, int64_t c, int half, int64_t& n) {
  if (p.glu_out) {
    n = c;
    return half ? p.part[1] : p.part[0];
  }
  if (c < p.part[0].N) {
    n = c;
    return p.part[0];
  }
  c -= p.part[0].N;
  if (c < p.part[1].N) {
    n = c;
    return p.part[1];
  }
  n = c - p.part[1].N;
  return p.part[2];
}

// A barrier for the `group` warps of column group g only (named barrier 1 + g; 0 is
// __syncthreads'), so the block's other columns do not wait for this one.
__device__ inline void group_barrier(int g, int group) {
  asm volatile("bar.sync %0, %1;" ::"r"(1 + g), "r"(group * 32) : "memory");
}

// Blocks stay resident and stage the input once. A column takes wpr warps (2 wpr with
// glu_out: gate's row and up's), each warp every wpr-th round of 32 lanes' units of the row, a
// lane kPrefetch loads in flight at a time; the first column's first loads are issued before
// waiting for the previous kernel and staging the input.
template <int T, int M>
__global__ void __launch_bounds__(kWarps * 32, M == 1 ? Fmt<T>::kMinBlocks : (M == 2 ? 3 : 2))
    k_decode_linear(Params p) {
  using F = Fmt<T>;
  constexpr int kPer = 32 / F::kLanes, kPf = F::kPrefetch;  // blocks per warp per round
  allow_next_kernel();
  extern __shared__ float4 staged[];  // rows × K floats
  using X = typename F::X;
  X* xs = reinterpret_cast<X*>(staged);
  __shared__ float red[32];
  __shared__ float sums[kWarps][M];
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, piece = lane % F::kLanes;
  const int group = p.glu_out ? 2 * p.wpr : p.wpr, cols = kWarps / group;
  const int local = warp % group, sub = local % p.wpr, half = local / p.wpr;
  const int nb = int(p.K / F::kQK), stride = kPer * p.wpr, batch = kPf * stride;
  const int blk0 = sub * kPer + lane / F::kLanes;
  const int64_t step = int64_t(gridDim.x) * cols;
  typename F::R raw[kPf];
  auto load = [&](const uint8_t* row, int base) {
#pragma unroll
    for (int r = 0; r < kPf; ++r)
      if (base + r * stride < nb) F::load(row + (base + r * stride) * F::kBytes, piece, raw[r]);
  };
  int64_t c0 = int64_t(blockIdx.x) * cols;
  if (c0 + warp / group < p.columns) {
    int64_t n = 0;
    const Part pt = locate(p, c0 + warp / group, half, n);
    load(pt.w + n * p.row_bytes, blk0);
  }
  wait_for_previous_kernel();
  stage_input(p, xs, red);
  bool have = true;                     // raw[] holds the first batch of this warp's column
  for (; c0 < p.columns; c0 += step) {  // the same trip count for every warp of the block
    const int64_t c = c0 + warp / group;
    const bool valid = c < p.columns;
    int64_t n = 0;
    const Part pt = locate(p, valid ? c : 0, half, n);
    const uint8_t* row = pt.w + n * p.row_bytes;
    float acc[M];
#pragma unroll
    for (int m = 0; m < M; ++m) acc[m] = 0.f;
    for (int base = blk0; valid; base += batch) {
      if (!have) load(row, base);
      have = false;
#pragma unroll
      for (int r = 0; r < kPf; ++r)
        if (base + r * stride < nb)
          F::dot(raw[r], piece, xs + (base + r * stride) * F::kQK, p.K, p.rows, acc);
      if (base + batch >= nb) break;
    }
    // raw[] is free: the next column's first batch is loaded now, in flight while this one's
    // sums are reduced and written.
    have = false;
    if (valid && c + step < p.columns) {
      int64_t nn = 0;
      const Part next = locate(p, c + step, half, nn);
      load(next.w + nn * p.row_bytes, blk0);
      have = true;
    }
#pragma unroll
    for (int m = 0; m < M; ++m) acc[m] = warp_sum(acc[m]);
    float up[M];  // with glu_out: up's sums, in the gate warp that writes
#pragma unroll
    for (int m = 0; m < M; ++m) up[m] = 0.f;
    if (group > 1) {
      if (lane == 0)
#pragma unroll
        for (int m = 0; m < M; ++m) sums[warp][m] = acc[m];
      group_barrier(warp / group, group);
      if (local == 0) {
#pragma unroll
        for (int m = 0; m < M; ++m) {
          for (int k = 1; k < p.wpr; ++k) acc[m] += sums[warp + k][m];
          if (p.glu_out)
            for (int k = 0; k < p.wpr; ++k) up[m] += sums[warp + p.wpr + k][m];
        }
      }
      group_barrier(warp / group, group);  // sums[] is rewritten for the next columns
    }
    if (lane != 0 || local != 0 || !valid) continue;
#pragma unroll
    for (int m = 0; m < M; ++m) {
      if (m >= p.rows) break;
      const int64_t o = m * pt.N + n;
      float v = acc[m] + (pt.bias ? pt.bias[n] : 0.f);
      if (p.glu_out) {  // the SiLU and Mul kernels' float operations
        const float u = up[m] + (p.part[1].bias ? p.part[1].bias[n] : 0.f);
        p.glu_out[o] = v / (1.f + expf(-v)) * u;
        continue;
      }
      if (p.residual) v += p.residual[o];  // read before the write: may be the same memory
      pt.y[o] = v;
    }
  }
}

// Calls f(std::integral_constant<int, T>) for the decode linear's weight type t; false for
// any other type.
template <typename Fn>
bool with_type(DType t, Fn&& f) {
  switch (t) {
    case DType::F16:
      return f(std::integral_constant<int, int(DType::F16)>()), true;
    case DType::BF16:
      return f(std::integral_constant<int, int(DType::BF16)>()), true;
    case DType::Q4_0:
      return f(std::integral_constant<int, int(DType::Q4_0)>()), true;
    case DType::Q8_0:
      return f(std::integral_constant<int, int(DType::Q8_0)>()), true;
    case DType::Q4_K:
      return f(std::integral_constant<int, int(DType::Q4_K)>()), true;
    case DType::Q5_K:
      return f(std::integral_constant<int, int(DType::Q5_K)>()), true;
    case DType::Q6_K:
      return f(std::integral_constant<int, int(DType::Q6_K)>()), true;
    default:
      return false;
  }
}

bool aligned(const void* p, int a) {
  return reinterpret_cast<uintptr_t>(p) % uintptr_t(a) == 0;
}

// Grid and warps per column, then the launch (PDL: it may start before the previous kernel
// ends, see wait_for_previous_kernel).
template <int T, int M>
void launch_typed(Params p, int sms, int64_t smem, cudaStream_t s) {
  auto* kernel = k_decode_linear<T, M>;
  if (smem > (40 << 10))  // 48 KiB with the static shared memory needs the opt-in
    RLX_CUDA_CHECK(
        cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
  int per_sm = 0;
  RLX_CUDA_CHECK(
      cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, kWarps * 32, size_t(smem)));
  const int64_t resident = int64_t(per_sm > 0 ? per_sm : 1) * sms;
  // Warps per column: the fewest that take a row in one batch of loads per lane; more while
  // every column still gets its warps in one pass of the resident blocks.
  using F = Fmt<T>;
  const int64_t rounds =
      (p.K + int64_t(32 / F::kLanes) * F::kQK - 1) / (int64_t(32 / F::kLanes) * F::kQK);
  const int max_wpr = p.glu_out ? kWarps / 2 : kWarps, halves = p.glu_out ? 2 : 1;
  int wpr = 1;
  while (wpr < max_wpr && rounds > int64_t(wpr) * F::kPrefetch) wpr *= 2;
  while (wpr < max_wpr && rounds >= 2 * wpr && p.columns * halves * wpr * 2 <= resident * kWarps)
    wpr *= 2;
  p.wpr = wpr;
  const int64_t cols = kWarps / (halves * wpr), wanted = (p.columns + cols - 1) / cols;
  cudaLaunchConfig_t cfg{};
  cfg.gridDim = dim3(unsigned(wanted < resident ? wanted : resident));
  cfg.blockDim = dim3(kWarps * 32);
  cfg.dynamicSmemBytes = size_t(smem);
  cfg.stream = s;
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr[0].val.programmaticStreamSerializationAllowed = 1;
  cfg.attrs = attr;
  cfg.numAttrs = 1;
  RLX_CUDA_CHECK(cudaLaunchKernelEx(&cfg, kernel, p));
}

template <int T>
void launch_m(const Params& p, int sms, int64_t smem, cudaStream_t s) {
  if (p.rows == 1)
    launch_typed<T, 1>(p, sms, smem, s);
  else if (p.rows == 2)
    launch_typed<T, 2>(p, sms, smem, s);
  else if (p.rows <= 4)
    launch_typed<T, 4>(p, sms, smem, s);
  else
    launch_typed<T, 8>(p, sms, smem, s);
}

// One launch for parts [first, last) of d (one weight type).
void launch_group(const DecodeLinear& d, int first, int last, int sms, cudaStream_t s) {
  const DType t = d.parts[first].type;
  Params p{};
  p.rows = int(d.M), p.K = d.K, p.input = int(d.input);
  p.x = d.x, p.norm_w = d.norm_w, p.residual = d.residual, p.glu_out = d.glu_out;
  p.eps = d.eps, p.offset = d.offset;
  p.round = t == DType::F16 ? 1 : (t == DType::BF16 ? 2 : 0);
  for (int i = first; i < last; ++i) {
    const DecodeLinear::Part& pt = d.parts[i];
    p.part[i - first] = Part{static_cast<const uint8_t*>(pt.w), pt.bias, pt.y, pt.N};
    p.columns += pt.N;
  }
  if (d.glu_out) p.columns = d.parts[0].N;
  const int64_t smem = d.M * d.K * int64_t(sizeof(float));
  with_type(t, [&](auto type) {
    using F = Fmt<type.value>;
    p.row_bytes = d.K / F::kQK * F::kBytes;
    launch_m<type.value>(p, sms, smem, s);
  });
}

}  // namespace

bool decode_linear_fits(const DecodeLinear& d, int64_t smem_limit) {
  if (d.count < 1 || d.count > kGemvMaxParts || d.M < 1 || d.M > kDecodeLinearMaxM || d.K <= 0 ||
      d.K % 8 != 0 || d.M * d.K * 4 > kMaxStageBytes || !d.x || !aligned(d.x, 16) ||
      d.M * d.K * 4 + kStaticSmem > smem_limit)
    return false;
  if (d.residual && d.count != 1) return false;
  // GLU: gate and up of one type and size (one launch).
  if (d.glu_out && (d.count != 2 || d.parts[0].type != d.parts[1].type ||
                    d.parts[0].N != d.parts[1].N || d.residual))
    return false;
  for (int i = 0; i < d.count; ++i) {
    const DecodeLinear::Part& pt = d.parts[i];
    bool ok = pt.N > 0 && pt.y;
    const bool known = with_type(pt.type, [&](auto type) {
      using F = Fmt<type.value>;
      ok = ok && d.K % F::kQK == 0 && aligned(pt.w, F::kAlign);
    });
    if (!known || !ok) return false;
  }
  return true;
}

void launch_decode_linear(const DecodeLinear& d, int multiprocessors, cudaStream_t s) {
  // One launch per run of parts of one weight type (a Q4_K_M file's q/k are Q4_K, v Q6_K).
  for (int first = 0; first < d.count;) {
    int last = first + 1;
    while (last < d.count && d.parts[last].type == d.parts[first].type) ++last;
    launch_group(d, first, last, multiprocessors, s);
    first = last;
  }
  RLX_CUDA_LAUNCHED();
}

}  // namespace rlx::cuda
