// Scaled dot-product attention with GQA, causal / sliding-window / key-padding masks, logit
// soft-cap, and an optional KV cache ([B, Hkv, S, D], F32 or F16) appended at kv_pos.
#include <cmath>
#include <cstring>
#include <vector>

#include "backends/cpu/kernel.h"
#include "backends/cpu/simd.h"
#include "rlx/core/error.h"
#include "rlx/core/half.h"

namespace rlx::cpu {

void softmax_row(float* x, int64_t n, float scale, float softcap);

namespace {

using ir::MaskKind;

void write_cache_row(const TensorView& cache, int64_t b, int64_t h, int64_t pos, const float* src) {
  const int64_t H = cache.shape[1], S = cache.shape[2], D = cache.shape[3];
  int64_t off = ((b * H + h) * S + pos) * D;
  if (cache.dtype == DType::F32)
    std::memcpy(cache.ptr<float>() + off, src, size_t(D) * 4);
  else
    f32_to_f16_row(src, cache.ptr<uint16_t>() + off, D);
}

void k_attention(const KernelArgs& a) {
  const auto& at = a.node.attrs;
  const TensorView &q = a.in[0], &k = a.in[1], &v = a.in[2];
  const int64_t B = q.shape[0], Tq = q.shape[1], Hq = q.shape[2], D = q.shape[3];
  const int64_t Tk = k.shape[1], Hkv = k.shape[2], Dv = v.shape[3];
  const int64_t group = Hq / Hkv;
  const float* pq = q.ptr<float>();
  const float* pk = k.ptr<float>();
  const float* pv = v.ptr<float>();
  float* po = a.out.ptr<float>();

  int64_t base = Tk - Tq, n_keys = Tk, S = 0;
  const TensorView* kc = nullptr;
  const TensorView* vc = nullptr;
  const uint8_t* key_mask = nullptr;
  size_t next = 3;
  if (at.has_cache) {
    kc = &a.in[3];
    vc = &a.in[4];
    S = kc->shape[2];
    int32_t p0 = a.in[5].ptr<int32_t>()[0];
    RLX_CHECK(p0 >= 0 && p0 + Tk <= S,
              "KV cache is full: {} cached + {} new tokens exceed its {} positions", p0, Tk, S);
    for (int64_t b = 0; b < B; ++b)
      for (int64_t t = 0; t < Tk; ++t)
        for (int64_t h = 0; h < Hkv; ++h) {
          write_cache_row(*kc, b, h, p0 + t, pk + ((b * Tk + t) * Hkv + h) * D);
          write_cache_row(*vc, b, h, p0 + t, pv + ((b * Tk + t) * Hkv + h) * Dv);
        }
    base = p0;
    n_keys = p0 + Tk;
    next = 6;
  }
  std::vector<uint8_t> mask_bytes;
  if (at.has_key_mask) {
    const TensorView& m = a.in[next];
    Tensor mf = to_f32(m);
    mask_bytes.resize(size_t(m.numel()));
    for (int64_t i = 0; i < m.numel(); ++i) mask_bytes[size_t(i)] = mf.ptr<float>()[i] != 0.f;
    key_mask = mask_bytes.data();
  }
  const bool f16_cache = kc && kc->dtype == DType::F16;

  a.pool.parallel_for(B * Hq * Tq, 1, [&](int64_t r0, int64_t r1) {
    std::vector<float> scores(static_cast<size_t>(n_keys)), krow(static_cast<size_t>(D)),
        vrow(static_cast<size_t>(Dv));
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t tq = r % Tq, hq = (r / Tq) % Hq, b = r / (Tq * Hq), hk = hq / group;
      const int64_t qpos = base + tq;
      const float* qr = pq + ((b * Tq + tq) * Hq + hq) * D;
      auto key = [&](int64_t j) -> const float* {
        if (!kc) return pk + ((b * Tk + j) * Hkv + hk) * D;
        int64_t off = ((b * Hkv + hk) * S + j) * D;
        if (!f16_cache) return kc->ptr<float>() + off;
        f16_to_f32_row(kc->ptr<uint16_t>() + off, krow.data(), D);
        return krow.data();
      };
      auto value = [&](int64_t j) -> const float* {
        if (!vc) return pv + ((b * Tk + j) * Hkv + hk) * Dv;
        int64_t off = ((b * Hkv + hk) * S + j) * Dv;
        if (!f16_cache) return vc->ptr<float>() + off;
        f16_to_f32_row(vc->ptr<uint16_t>() + off, vrow.data(), Dv);
        return vrow.data();
      };
      for (int64_t j = 0; j < n_keys; ++j) {
        bool ok = true;
        if (at.mask != MaskKind::None && j > qpos) ok = false;
        if (at.mask == MaskKind::SlidingWindow && qpos - j >= at.window) ok = false;
        if (key_mask && !key_mask[b * n_keys + j]) ok = false;
        scores[size_t(j)] = ok ? dot_f32(qr, key(j), D) : -INFINITY;
      }
      softmax_row(scores.data(), n_keys, at.scale, at.softcap);
      float* orow = po + ((b * Tq + tq) * Hq + hq) * Dv;
      std::memset(orow, 0, size_t(Dv) * 4);
      for (int64_t j = 0; j < n_keys; ++j)
        if (scores[size_t(j)] != 0.f) axpy_f32(scores[size_t(j)], value(j), orow, Dv);
    }
  });
}

}  // namespace

void register_attention_kernels(KernelRegistry& r) {
  r.add(ir::OpKind::Attention, k_attention);
}

}  // namespace rlx::cpu
