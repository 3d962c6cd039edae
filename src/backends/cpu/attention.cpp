// Scaled dot-product attention with GQA, causal / sliding-window / key-padding masks, logit
// soft-cap, and an optional KV cache ([B, Hkv, S, D], F32 or F16) appended at kv_pos.
//
// Blocked ("flash") formulation: a work item is (batch, KV head, block of queries) and owns
// the rows (query, head of the GQA group). Keys are visited in tiles of kKeyTile; each K tile
// is converted to F32 once per item, transposed to [D][tile] in a thread-local buffer, and
// reused by every row of the item through a register-blocked Q·Kᵀ micro-kernel. Softmax is
// online (running max and sum per row, AVX2 exp), and P·V accumulates with FMA into a per-row
// output normalized once at the end, reading V rows in place (F16 converted in registers).
// Tiles outside the causal / sliding window are never visited, and the diagonal tile is cut
// short per block of rows. Decode-sized items (a few rows) read K rows in place instead.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <vector>

#include "backends/cpu/kernel.h"
#include "backends/cpu/simd.h"
#include "rlx/core/error.h"
#include "rlx/core/half.h"

namespace rlx::cpu {

namespace {

using ir::MaskKind;

constexpr int64_t kKeyTile = 64;       // keys per K/V tile
constexpr int64_t kRowsPerItem = 128;  // target (query, head) rows per work item
constexpr int kMR = 6;                 // rows per micro-tile
constexpr int64_t kNR = 16;            // columns per micro-tile (keys, or value dims)
constexpr int64_t kDirectRows = 4;     // up to this many rows, scores read K in place (decode)

int64_t round_up(int64_t x, int64_t m) {
  return (x + m - 1) / m * m;
}

// Everything a work item needs, resolved once per call.
struct Problem {
  int64_t B, Tq, Hq, D, Hkv, Dv, group;
  int64_t n_keys, base;  // keys visible to the queries; absolute position of query 0
  int64_t qblock;        // queries per work item
  const float* q;
  float* out;
  // Key j of (b, h) starts at element b*bs + h*hs + j*js of k (likewise v).
  const void* k;
  const void* v;
  int64_t k_bs, k_hs, k_js, v_bs, v_hs, v_js;
  bool f16;
  MaskKind mask;
  int64_t window;
  float scale, softcap;
  const uint8_t* key_mask;  // [B, n_keys] or null
};

struct Scratch {
  std::vector<float> q, kt, v, s, o, m, l;
  std::vector<int64_t> lim;  // per row block
};

Scratch& scratch() {
  thread_local Scratch s;
  return s;
}

void write_cache_row(const TensorView& cache, int64_t b, int64_t h, int64_t pos, const float* src) {
  const int64_t H = cache.shape[1], S = cache.shape[2], D = cache.shape[3];
  int64_t off = ((b * H + h) * S + pos) * D;
  if (cache.dtype == DType::F32)
    std::memcpy(cache.ptr<float>() + off, src, size_t(D) * 4);
  else
    f32_to_f16_row(src, cache.ptr<uint16_t>() + off, D);
}

#if RLX_AVX2
inline __m256 load8(const void* base, int64_t off, bool f16) {
  if (f16)
    return _mm256_cvtph_ps(_mm_loadu_si128(
        reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(base) + off)));
  return _mm256_loadu_ps(static_cast<const float*>(base) + off);
}
#endif

inline float load1(const void* base, int64_t off, bool f16) {
  return f16 ? f16_to_f32(static_cast<const uint16_t*>(base)[off])
             : static_cast<const float*>(base)[off];
}

// K tile [kn keys][D] -> kt [D][kKeyTile] in F32; columns kn.. up to the next kNR are zeroed.
void load_k_tile(const Problem& P, int64_t off0, int64_t kn, float* kt) {
  const int64_t D = P.D, js = P.k_js;
  int64_t j = 0;
#if RLX_AVX2
  if (D % 8 == 0)
    for (; j + 8 <= kn; j += 8)
      for (int64_t d = 0; d < D; d += 8) {
        __m256 r[8];
        for (int i = 0; i < 8; ++i) r[i] = load8(P.k, off0 + (j + i) * js + d, P.f16);
        transpose8(r);
        for (int i = 0; i < 8; ++i) _mm256_storeu_ps(kt + (d + i) * kKeyTile + j, r[i]);
      }
#endif
  for (; j < kn; ++j)
    for (int64_t d = 0; d < D; ++d) kt[d * kKeyTile + j] = load1(P.k, off0 + j * js + d, P.f16);
  const int64_t pad = round_up(kn, kNR);
  if (pad > kn)
    for (int64_t d = 0; d < D; ++d) std::fill(kt + d * kKeyTile + kn, kt + d * kKeyTile + pad, 0.f);
}

// V tile [kn keys][Dv] -> v [kn][ldv] in F32; columns Dv..ldv are zeroed.
void load_v_tile(const Problem& P, int64_t off0, int64_t kn, float* v, int64_t ldv) {
  for (int64_t j = 0; j < kn; ++j) {
    float* dst = v + j * ldv;
    const int64_t off = off0 + j * P.v_js;
    if (P.f16)
      f16_to_f32_row(static_cast<const uint16_t*>(P.v) + off, dst, P.Dv);
    else
      std::memcpy(dst, static_cast<const float*>(P.v) + off, size_t(P.Dv) * 4);
    std::fill(dst + P.Dv, dst + ldv, 0.f);
  }
}

#if RLX_AVX2
// One row of a micro-tile: (a, b) += x · (v0, v1). Accumulators are separate named variables
// in the callers (not an array) so that the compiler keeps all of them in registers.
inline void fma_row(__m256 x, __m256 v0, __m256 v1, __m256& a, __m256& b) {
  a = _mm256_fmadd_ps(x, v0, a);
  b = _mm256_fmadd_ps(x, v1, b);
}

inline void store_row(float* dst, __m256 a, __m256 b) {
  _mm256_storeu_ps(dst, a);
  _mm256_storeu_ps(dst + 8, b);
}
#endif

// s[r][0..kNR) = q[r]·kt[:, 0..kNR) for MR rows (q row stride ldq, s row stride kKeyTile).
template <int MR>
void score_micro(const float* q, int64_t ldq, const float* kt, int64_t D, float* s) {
#if RLX_AVX2
  __m256 a0, b0, a1, b1, a2, b2, a3, b3, a4, b4, a5, b5;
  a0 = b0 = a1 = b1 = a2 = b2 = a3 = b3 = a4 = b4 = a5 = b5 = _mm256_setzero_ps();
  for (int64_t d = 0; d < D; ++d) {
    const __m256 k0 = _mm256_loadu_ps(kt + d * kKeyTile),
                 k1 = _mm256_loadu_ps(kt + d * kKeyTile + 8);
    const float* qd = q + d;
    fma_row(_mm256_broadcast_ss(qd), k0, k1, a0, b0);
    if constexpr (MR > 1) fma_row(_mm256_broadcast_ss(qd + ldq), k0, k1, a1, b1);
    if constexpr (MR > 2) fma_row(_mm256_broadcast_ss(qd + 2 * ldq), k0, k1, a2, b2);
    if constexpr (MR > 3) fma_row(_mm256_broadcast_ss(qd + 3 * ldq), k0, k1, a3, b3);
    if constexpr (MR > 4) fma_row(_mm256_broadcast_ss(qd + 4 * ldq), k0, k1, a4, b4);
    if constexpr (MR > 5) fma_row(_mm256_broadcast_ss(qd + 5 * ldq), k0, k1, a5, b5);
  }
  store_row(s, a0, b0);
  if constexpr (MR > 1) store_row(s + kKeyTile, a1, b1);
  if constexpr (MR > 2) store_row(s + 2 * kKeyTile, a2, b2);
  if constexpr (MR > 3) store_row(s + 3 * kKeyTile, a3, b3);
  if constexpr (MR > 4) store_row(s + 4 * kKeyTile, a4, b4);
  if constexpr (MR > 5) store_row(s + 5 * kKeyTile, a5, b5);
#else
  for (int r = 0; r < MR; ++r)
    for (int64_t c = 0; c < kNR; ++c) {
      float a = 0.f;
      for (int64_t d = 0; d < D; ++d) a += q[r * ldq + d] * kt[d * kKeyTile + c];
      s[r * kKeyTile + c] = a;
    }
#endif
}

// o[r][0..kNR) += Σ_j p[r][j] · v[j][0..kNR) for MR rows (p row stride kKeyTile). V is F32
// or F16 (read straight from the cache, converted in registers).
template <int MR, bool F16>
void pv_micro(const float* p, const void* v, int64_t ldv, int64_t kn, float* o, int64_t ldo) {
#if RLX_AVX2
  __m256 a0, b0, a1, b1, a2, b2, a3, b3, a4, b4, a5, b5;
  a0 = b0 = a1 = b1 = a2 = b2 = a3 = b3 = a4 = b4 = a5 = b5 = _mm256_setzero_ps();
  for (int64_t j = 0; j < kn; ++j) {
    const __m256 v0 = load8(v, j * ldv, F16), v1 = load8(v, j * ldv + 8, F16);
    const float* pj = p + j;
    fma_row(_mm256_broadcast_ss(pj), v0, v1, a0, b0);
    if constexpr (MR > 1) fma_row(_mm256_broadcast_ss(pj + kKeyTile), v0, v1, a1, b1);
    if constexpr (MR > 2) fma_row(_mm256_broadcast_ss(pj + 2 * kKeyTile), v0, v1, a2, b2);
    if constexpr (MR > 3) fma_row(_mm256_broadcast_ss(pj + 3 * kKeyTile), v0, v1, a3, b3);
    if constexpr (MR > 4) fma_row(_mm256_broadcast_ss(pj + 4 * kKeyTile), v0, v1, a4, b4);
    if constexpr (MR > 5) fma_row(_mm256_broadcast_ss(pj + 5 * kKeyTile), v0, v1, a5, b5);
  }
  auto add_row = [](float* dst, __m256 a, __m256 b) {
    store_row(dst, _mm256_add_ps(_mm256_loadu_ps(dst), a),
              _mm256_add_ps(_mm256_loadu_ps(dst + 8), b));
  };
  add_row(o, a0, b0);
  if constexpr (MR > 1) add_row(o + ldo, a1, b1);
  if constexpr (MR > 2) add_row(o + 2 * ldo, a2, b2);
  if constexpr (MR > 3) add_row(o + 3 * ldo, a3, b3);
  if constexpr (MR > 4) add_row(o + 4 * ldo, a4, b4);
  if constexpr (MR > 5) add_row(o + 5 * ldo, a5, b5);
#else
  for (int r = 0; r < MR; ++r)
    for (int64_t j = 0; j < kn; ++j)
      for (int64_t c = 0; c < kNR; ++c)
        o[r * ldo + c] += p[r * kKeyTile + j] * load1(v, j * ldv + c, F16);
#endif
}

using ScoreFn = void (*)(const float*, int64_t, const float*, int64_t, float*);
using PvFn = void (*)(const float*, const void*, int64_t, int64_t, float*, int64_t);
constexpr ScoreFn kScore[kMR + 1] = {nullptr,        score_micro<1>, score_micro<2>, score_micro<3>,
                                     score_micro<4>, score_micro<5>, score_micro<6>};
constexpr PvFn kPv[2][kMR + 1] = {
    {nullptr, pv_micro<1, false>, pv_micro<2, false>, pv_micro<3, false>, pv_micro<4, false>,
     pv_micro<5, false>, pv_micro<6, false>},
    {nullptr, pv_micro<1, true>, pv_micro<2, true>, pv_micro<3, true>, pv_micro<4, true>,
     pv_micro<5, true>, pv_micro<6, true>}};

// Scores of R rows against a tile; row block i (kMR rows) needs the first lim[i] keys
// (computed in whole kNR columns). The column loop is outermost so one kt panel stays in L1
// while every row block passes over it.
void tile_scores(const float* q, int64_t R, int64_t D, const float* kt, int64_t kn,
                 const int64_t* lim, float* s) {
  for (int64_t c = 0; c < kn; c += kNR)
    for (int64_t r = 0, i = 0; r < R; r += kMR, ++i)
      if (c < lim[i]) {
        const int mr = int(std::min<int64_t>(kMR, R - r));
        kScore[mr](q + r * D, D, kt + c, D, s + r * kKeyTile + c);
      }
}

// o[R][ldo] += p · v, where v holds the tile's kn rows at stride ldv (F32, or F16 when f16).
void tile_pv(const float* p, int64_t R, const void* v, bool f16, int64_t ldv, const int64_t* lim,
             float* o, int64_t ldo) {
  for (int64_t c = 0; c < ldo; c += kNR) {
    const void* vc = f16 ? static_cast<const void*>(static_cast<const uint16_t*>(v) + c)
                         : static_cast<const void*>(static_cast<const float*>(v) + c);
    for (int64_t r = 0, i = 0; r < R; r += kMR, ++i) {
      const int mr = int(std::min<int64_t>(kMR, R - r));
      kPv[f16][mr](p + r * kKeyTile, vc, ldv, lim[i], o + r * ldo + c, ldo);
    }
  }
}

#if RLX_AVX2
// The four horizontal sums of a, b, c, d as one vector.
inline __m128 hsum4(__m256 a, __m256 b, __m256 c, __m256 d) {
  const __m256 t = _mm256_hadd_ps(_mm256_hadd_ps(a, b), _mm256_hadd_ps(c, d));
  return _mm_add_ps(_mm256_castps256_ps128(t), _mm256_extractf128_ps(t, 1));
}

// s[r][j..j+4) for MR (1 or 2) rows against four keys read in place (D a multiple of 8).
template <int MR, bool F16>
void score_direct4(const float* q, int64_t D, const void* k, int64_t ldk, float* s) {
  __m256 a[MR][4];
  for (int r = 0; r < MR; ++r) a[r][0] = a[r][1] = a[r][2] = a[r][3] = _mm256_setzero_ps();
  for (int64_t d = 0; d < D; d += 8) {
    const __m256 k0 = load8(k, d, F16), k1 = load8(k, ldk + d, F16),
                 k2 = load8(k, 2 * ldk + d, F16), k3 = load8(k, 3 * ldk + d, F16);
    for (int r = 0; r < MR; ++r) {
      const __m256 qv = _mm256_loadu_ps(q + r * D + d);
      a[r][0] = _mm256_fmadd_ps(qv, k0, a[r][0]);
      a[r][1] = _mm256_fmadd_ps(qv, k1, a[r][1]);
      a[r][2] = _mm256_fmadd_ps(qv, k2, a[r][2]);
      a[r][3] = _mm256_fmadd_ps(qv, k3, a[r][3]);
    }
  }
  for (int r = 0; r < MR; ++r)
    _mm_storeu_ps(s + r * kKeyTile, hsum4(a[r][0], a[r][1], a[r][2], a[r][3]));
}
#endif

// Scores of a few rows (decode) against the kn keys of a tile read straight from the cache:
// with so few rows, building the transposed tile would cost more than the dot products.
template <bool F16>
void scores_direct(const float* q, int64_t R, int64_t D, const void* k, int64_t ldk, int64_t kn,
                   float* s) {
  int64_t j = 0;
#if RLX_AVX2
  if (D % 8 == 0)
    for (; j + 4 <= kn; j += 4) {
      const void* kj = F16 ? static_cast<const void*>(static_cast<const uint16_t*>(k) + j * ldk)
                           : static_cast<const void*>(static_cast<const float*>(k) + j * ldk);
      int64_t r = 0;
      for (; r + 2 <= R; r += 2) score_direct4<2, F16>(q + r * D, D, kj, ldk, s + r * kKeyTile + j);
      if (r < R) score_direct4<1, F16>(q + r * D, D, kj, ldk, s + r * kKeyTile + j);
    }
#endif
  for (; j < kn; ++j)
    for (int64_t r = 0; r < R; ++r) {
      float a = 0.f;
      for (int64_t d = 0; d < D; ++d) a += q[r * D + d] * load1(k, j * ldk + d, F16);
      s[r * kKeyTile + j] = a;
    }
}

// Keys of the tile [j0, j0+kn) that each block of kMR rows can see. Under a causal mask the
// diagonal tile is cut short per row block, so little work above the diagonal is done; the
// scores left unwritten are all masked (mask_tile sets them to -inf).
void row_block_limits(const Problem& P, int64_t q0, int64_t R, int64_t j0, int64_t kn,
                      int64_t* lim) {
  for (int64_t r = 0, i = 0; r < R; r += kMR, ++i) {
    const int64_t last_q = (std::min(r + kMR, R) - 1) / P.group;
    lim[i] =
        P.mask == MaskKind::None ? kn : std::clamp<int64_t>(P.base + q0 + last_q + 1 - j0, 0, kn);
  }
}

// Sets to -inf the scores the masks forbid in the tile of keys [j0, j0+kn) for queries
// q0.. of batch b (rows ordered query-major, then head of the group).
void mask_tile(const Problem& P, int64_t b, int64_t q0, int64_t nq, int64_t j0, int64_t kn,
               float* s) {
  if (P.mask != MaskKind::None)
    for (int64_t qi = 0; qi < nq; ++qi) {
      const int64_t qpos = P.base + q0 + qi;
      const int64_t lo = P.mask == MaskKind::SlidingWindow ? qpos - P.window + 1 : j0;
      const int64_t c_lo = std::clamp<int64_t>(lo - j0, 0, kn);
      const int64_t c_hi = std::clamp<int64_t>(qpos + 1 - j0, 0, kn);
      if (c_lo == 0 && c_hi == kn) continue;
      for (int64_t g = 0; g < P.group; ++g) {
        float* row = s + (qi * P.group + g) * kKeyTile;
        std::fill(row, row + c_lo, -INFINITY);
        std::fill(row + std::max(c_hi, c_lo), row + kn, -INFINITY);
      }
    }
  if (P.key_mask) {
    const uint8_t* km = P.key_mask + b * P.n_keys + j0;
    for (int64_t c = 0; c < kn; ++c)
      if (!km[c])
        for (int64_t r = 0; r < nq * P.group; ++r) s[r * kKeyTile + c] = -INFINITY;
  }
}

float row_max(const float* x, int64_t n) {
  float mx = -INFINITY;
  int64_t i = 0;
#if RLX_AVX2
  __m256 m8 = _mm256_set1_ps(-INFINITY);
  for (; i + 8 <= n; i += 8) m8 = _mm256_max_ps(m8, _mm256_loadu_ps(x + i));
  alignas(32) float t[8];
  _mm256_store_ps(t, m8);
  for (float v : t) mx = std::max(mx, v);
#endif
  for (; i < n; ++i) mx = std::max(mx, x[i]);
  return mx;
}

// x[i] = exp(x[i] - m) in place; returns the sum.
float exp_row(float* x, int64_t n, float m) {
  int64_t i = 0;
  float sum = 0.f;
#if RLX_AVX2
  const __m256 mv = _mm256_set1_ps(m);
  __m256 acc = _mm256_setzero_ps();
  for (; i + 8 <= n; i += 8) {
    const __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(x + i), mv));
    _mm256_storeu_ps(x + i, e);
    acc = _mm256_add_ps(acc, e);
  }
  if (i < n) {  // tail through a padded copy: -inf lanes give 0
    alignas(32) float t[8];
    std::fill(t, t + 8, -INFINITY);
    std::copy(x + i, x + n, t);
    const __m256 e = exp256(_mm256_sub_ps(_mm256_load_ps(t), mv));
    _mm256_store_ps(t, e);
    std::copy(t, t + (n - i), x + i);
    acc = _mm256_add_ps(acc, e);
    i = n;
  }
  sum = hsum256(acc);
#endif
  for (; i < n; ++i) sum += x[i] = std::exp(x[i] - m);
  return sum;
}

void scale_row(float* x, int64_t n, float c) {
  for (int64_t i = 0; i < n; ++i) x[i] *= c;
}

// Soft-cap of a tile's scores: cap · tanh(x / cap).
void softcap_tile(float* s, int64_t R, int64_t kn, float cap) {
  const float inv = 1.f / cap;
  for (int64_t r = 0; r < R; ++r) {
    float* row = s + r * kKeyTile;
    int64_t c = 0;
#if RLX_AVX2
    const __m256 vc = _mm256_set1_ps(cap), vi = _mm256_set1_ps(inv);
    for (; c + 8 <= kn; c += 8)
      _mm256_storeu_ps(row + c,
                       _mm256_mul_ps(vc, tanh256(_mm256_mul_ps(_mm256_loadu_ps(row + c), vi))));
#endif
    for (; c < kn; ++c) row[c] = cap * std::tanh(row[c] * inv);
  }
}

// Online softmax over one tile: scores become weights relative to the row's reference max,
// the running sum absorbs them, and the accumulated output is rescaled when the reference
// moves. The reference only moves when a score exceeds it by more than kSlack (weights up to
// e^kSlack are harmless in F32), which saves most rescaling passes over the output.
void softmax_tile(float* s, int64_t R, int64_t kn, float* m, float* l, float* o, int64_t ldo) {
  constexpr float kSlack = 8.f;
  for (int64_t r = 0; r < R; ++r) {
    float* row = s + r * kKeyTile;
    const float tmax = row_max(row, kn);
    if (tmax > m[r] + kSlack) {
      if (m[r] != -INFINITY) {  // earlier tiles contributed: bring them to the new reference
        const float c = std::exp(m[r] - tmax);
        l[r] *= c;
        scale_row(o + r * ldo, ldo, c);
      }
      m[r] = tmax;
    }
    if (m[r] == -INFINITY) {  // nothing visible to this row yet
      std::fill(row, row + kn, 0.f);
      continue;
    }
    l[r] += exp_row(row, kn, m[r]);
  }
}

// Keys [lo, hi) some query of the block may see; tiles outside are skipped.
void key_range(const Problem& P, int64_t q0, int64_t nq, int64_t& lo, int64_t& hi) {
  const int64_t first = P.base + q0, last = P.base + q0 + nq - 1;
  lo = P.mask == MaskKind::SlidingWindow ? std::max<int64_t>(0, first - P.window + 1) : 0;
  hi = P.mask != MaskKind::None ? std::min(P.n_keys, last + 1) : P.n_keys;
}

void attend_block(const Problem& P, int64_t b, int64_t hk, int64_t q0, Scratch& sc) {
  const int64_t nq = std::min(P.qblock, P.Tq - q0), R = nq * P.group, D = P.D;
  const int64_t ldv = round_up(P.Dv, kNR);
  // V rows are read in place when whole micro-tiles cover them; otherwise they are copied
  // into a zero-padded F32 tile.
  const bool direct_v = ldv == P.Dv;
  sc.q.resize(size_t(R * D));
  sc.kt.resize(size_t(D * kKeyTile));
  sc.v.resize(size_t(kKeyTile * ldv));
  sc.s.resize(size_t(R * kKeyTile));
  sc.o.assign(size_t(R * ldv), 0.f);
  sc.m.assign(size_t(R), -INFINITY);
  sc.l.assign(size_t(R), 0.f);
  sc.lim.resize(size_t((R + kMR - 1) / kMR));

  // Rows are query-major: the group's heads are adjacent in q, so each query is one copy.
  for (int64_t qi = 0; qi < nq; ++qi) {
    const float* src = P.q + ((b * P.Tq + q0 + qi) * P.Hq + hk * P.group) * D;
    float* dst = sc.q.data() + qi * P.group * D;
    for (int64_t i = 0; i < P.group * D; ++i) dst[i] = src[i] * P.scale;
  }

  int64_t lo, hi;
  key_range(P, q0, nq, lo, hi);
  const int64_t k_off = b * P.k_bs + hk * P.k_hs, v_off = b * P.v_bs + hk * P.v_hs;
  for (int64_t j0 = lo; j0 < hi; j0 += kKeyTile) {
    const int64_t kn = std::min(kKeyTile, hi - j0);
    row_block_limits(P, q0, R, j0, kn, sc.lim.data());
    if (R <= kDirectRows) {
      const int64_t off = k_off + j0 * P.k_js;
      if (P.f16)
        scores_direct<true>(sc.q.data(), R, D, static_cast<const uint16_t*>(P.k) + off, P.k_js, kn,
                            sc.s.data());
      else
        scores_direct<false>(sc.q.data(), R, D, static_cast<const float*>(P.k) + off, P.k_js, kn,
                             sc.s.data());
    } else {
      load_k_tile(P, k_off + j0 * P.k_js, kn, sc.kt.data());
      tile_scores(sc.q.data(), R, D, sc.kt.data(), kn, sc.lim.data(), sc.s.data());
    }
    if (P.softcap > 0.f) softcap_tile(sc.s.data(), R, kn, P.softcap);
    mask_tile(P, b, q0, nq, j0, kn, sc.s.data());
    softmax_tile(sc.s.data(), R, kn, sc.m.data(), sc.l.data(), sc.o.data(), ldv);
    if (direct_v) {
      const int64_t off = v_off + j0 * P.v_js;
      const void* vt = P.f16 ? static_cast<const void*>(static_cast<const uint16_t*>(P.v) + off)
                             : static_cast<const void*>(static_cast<const float*>(P.v) + off);
      tile_pv(sc.s.data(), R, vt, P.f16, P.v_js, sc.lim.data(), sc.o.data(), ldv);
    } else {
      load_v_tile(P, v_off + j0 * P.v_js, kn, sc.v.data(), ldv);
      tile_pv(sc.s.data(), R, sc.v.data(), false, ldv, sc.lim.data(), sc.o.data(), ldv);
    }
  }

  // Normalize; a row that saw no key (all masked) is defined as zeros.
  for (int64_t qi = 0; qi < nq; ++qi)
    for (int64_t g = 0; g < P.group; ++g) {
      const int64_t r = qi * P.group + g;
      float* dst = P.out + ((b * P.Tq + q0 + qi) * P.Hq + hk * P.group + g) * P.Dv;
      const float inv = sc.l[size_t(r)] > 0.f ? 1.f / sc.l[size_t(r)] : 0.f;
      for (int64_t d = 0; d < P.Dv; ++d) dst[d] = sc.o[size_t(r * ldv + d)] * inv;
    }
}

// Queries per item: about kRowsPerItem rows, but small enough to give every thread work.
int64_t choose_qblock(int64_t B, int64_t Hkv, int64_t Tq, int64_t group, int threads) {
  int64_t qb = std::clamp<int64_t>(kRowsPerItem / group, 1, Tq);
  while (qb > 1 && B * Hkv * ((Tq + qb - 1) / qb) < 4 * threads) qb = (qb + 1) / 2;
  return qb;
}

// Runs every (batch, KV head, query block) item. Items are taken from a shared counter, the
// last query blocks first: under a causal mask they see the most keys, so handing them out
// early keeps the threads' loads even.
void run_items(const Problem& P, ThreadPool& pool) {
  const int64_t nqb = (P.Tq + P.qblock - 1) / P.qblock, per_block = P.B * P.Hkv;
  const int64_t n = nqb * per_block;
  std::atomic<int64_t> next{0};
  auto work = [&] {
    Scratch& sc = scratch();
    for (int64_t i; (i = next.fetch_add(1, std::memory_order_relaxed)) < n;) {
      const int64_t qb = nqb - 1 - i / per_block, bh = i % per_block;
      attend_block(P, bh / P.Hkv, bh % P.Hkv, qb * P.qblock, sc);
    }
  };
  if (n == 1) return work();
  pool.run([&work](int, int) { work(); });
}

void k_attention(const KernelArgs& a) {
  const auto& at = a.node.attrs;
  const TensorView &q = a.in[0], &k = a.in[1], &v = a.in[2];
  Problem P{};
  P.B = q.shape[0], P.Tq = q.shape[1], P.Hq = q.shape[2], P.D = q.shape[3];
  const int64_t Tk = k.shape[1];
  P.Hkv = k.shape[2], P.Dv = v.shape[3], P.group = P.Hq / P.Hkv;
  P.q = q.ptr<float>();
  P.out = a.out.ptr<float>();
  P.mask = at.mask, P.window = at.window, P.scale = at.scale, P.softcap = at.softcap;
  P.base = Tk - P.Tq, P.n_keys = Tk;
  // Without a cache, K and V are [B, Tk, Hkv, D] as given.
  P.k = k.ptr<float>(), P.v = v.ptr<float>(), P.f16 = false;
  P.k_bs = Tk * P.Hkv * P.D, P.k_hs = P.D, P.k_js = P.Hkv * P.D;
  P.v_bs = Tk * P.Hkv * P.Dv, P.v_hs = P.Dv, P.v_js = P.Hkv * P.Dv;
  size_t next = 3;
  if (at.has_cache) {
    const TensorView &kc = a.in[3], &vc = a.in[4];
    const int64_t S = kc.shape[2];
    const int32_t p0 = a.in[5].ptr<int32_t>()[0];
    RLX_CHECK(p0 >= 0 && p0 + Tk <= S,
              "KV cache is full: {} cached + {} new tokens exceed its {} positions", p0, Tk, S);
    const float *pk = k.ptr<float>(), *pv = v.ptr<float>();
    const int64_t Hkv = P.Hkv, D = P.D, Dv = P.Dv;
    a.pool.parallel_for(P.B * Tk * Hkv, 64, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t h = r % Hkv, t = (r / Hkv) % Tk, b = r / (Hkv * Tk);
        write_cache_row(kc, b, h, p0 + t, pk + r * D);
        write_cache_row(vc, b, h, p0 + t, pv + r * Dv);
      }
    });
    P.base = p0, P.n_keys = p0 + Tk;
    P.f16 = kc.dtype == DType::F16;
    P.k = kc.data, P.v = vc.data;
    P.k_bs = Hkv * S * D, P.k_hs = S * D, P.k_js = D;
    P.v_bs = Hkv * S * Dv, P.v_hs = S * Dv, P.v_js = Dv;
    next = 6;
  }
  thread_local std::vector<uint8_t> mask_bytes;
  if (at.has_key_mask) {
    const TensorView& m = a.in[next];
    Tensor mf = to_f32(m);
    mask_bytes.resize(size_t(m.numel()));
    for (int64_t i = 0; i < m.numel(); ++i) mask_bytes[size_t(i)] = mf.ptr<float>()[i] != 0.f;
    P.key_mask = mask_bytes.data();
  }
  P.qblock = choose_qblock(P.B, P.Hkv, P.Tq, P.group, a.pool.size());
  run_items(P, a.pool);
}

}  // namespace

void register_attention_kernels(KernelRegistry& r) {
  r.add(ir::OpKind::Attention, k_attention);
}

}  // namespace rlx::cpu
