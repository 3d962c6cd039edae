// Row-wise kernels over the last axis: RMSNorm, LayerNorm, softmax; and RoPE.
#include <cmath>
#include <vector>

#include "backends/cpu/kernel.h"
#include "backends/cpu/simd.h"
#include "rlx/core/error.h"

namespace rlx::cpu {
namespace {

using ir::OpKind;

// Sum of squares in double (as ggml does, so results match llama.cpp's), eight lanes at a
// time: a single double accumulator is a 4-cycle dependency per element.
double sum_squares(const float* x, int64_t n) {
  int64_t i = 0;
  double ss = 0;
#if RLX_AVX2
  __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
  for (; i + 8 <= n; i += 8) {
    const __m256d lo = _mm256_cvtps_pd(_mm_loadu_ps(x + i));
    const __m256d hi = _mm256_cvtps_pd(_mm_loadu_ps(x + i + 4));
    a0 = _mm256_fmadd_pd(lo, lo, a0);
    a1 = _mm256_fmadd_pd(hi, hi, a1);
  }
  alignas(32) double t[4];
  _mm256_store_pd(t, _mm256_add_pd(a0, a1));
  ss = (t[0] + t[1]) + (t[2] + t[3]);
#endif
  for (; i < n; ++i) ss += double(x[i]) * x[i];
  return ss;
}

void k_rms_norm(const KernelArgs& a) {
  const int64_t D = a.out.shape.back(), rows = a.out.numel() / D;
  const float* x = a.in[0].ptr<float>();
  const float* w = a.in.size() > 1 ? a.in[1].ptr<float>() : nullptr;
  float* y = a.out.ptr<float>();
  const float eps = a.node.attrs.eps;
  const float off = a.node.attrs.offset_one ? 1.f : 0.f;
  a.pool.parallel_for(rows, 8, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * D;
      float* yr = y + r * D;
      const double ss = sum_squares(xr, D);
      float scale = float(1.0 / std::sqrt(ss / double(D) + eps));
      if (w)
        for (int64_t i = 0; i < D; ++i) yr[i] = xr[i] * scale * (w[i] + off);
      else
        for (int64_t i = 0; i < D; ++i) yr[i] = xr[i] * scale;
    }
  });
}

void k_layer_norm(const KernelArgs& a) {
  const int64_t D = a.out.shape.back(), rows = a.out.numel() / D;
  const float* x = a.in[0].ptr<float>();
  const float* w = a.in.size() > 1 ? a.in[1].ptr<float>() : nullptr;
  const float* b = a.in.size() > 2 ? a.in[2].ptr<float>() : nullptr;
  float* y = a.out.ptr<float>();
  const float eps = a.node.attrs.eps;
  a.pool.parallel_for(rows, 8, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      const float* xr = x + r * D;
      float* yr = y + r * D;
      double mean = 0, var = 0;
      for (int64_t i = 0; i < D; ++i) mean += xr[i];
      mean /= double(D);
      for (int64_t i = 0; i < D; ++i) var += (xr[i] - mean) * (xr[i] - mean);
      float inv = float(1.0 / std::sqrt(var / double(D) + eps));
      for (int64_t i = 0; i < D; ++i) {
        float v = float(xr[i] - mean) * inv;
        if (w) v *= w[i];
        if (b) v += b[i];
        yr[i] = v;
      }
    }
  });
}

}  // namespace

// Softmax of one row in place: softmax(c·tanh(x·scale/c)) when softcap c > 0.
void softmax_row(float* x, int64_t n, float scale, float softcap) {
  float mx = -INFINITY;
  for (int64_t i = 0; i < n; ++i) {
    float v = x[i] * scale;
    if (softcap > 0.f && v != -INFINITY) v = softcap * std::tanh(v / softcap);
    x[i] = v;
    mx = std::max(mx, v);
  }
  if (mx == -INFINITY) {  // fully masked row: define as zeros rather than NaN
    for (int64_t i = 0; i < n; ++i) x[i] = 0.f;
    return;
  }
  double sum = 0;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  float inv = float(1.0 / sum);
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

namespace {

void k_softmax(const KernelArgs& a) {
  const int64_t D = a.out.shape.back(), rows = a.out.numel() / D;
  const float* x = a.in[0].ptr<float>();
  float* y = a.out.ptr<float>();
  a.pool.parallel_for(rows, 8, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      std::copy(x + r * D, x + (r + 1) * D, y + r * D);
      softmax_row(y + r * D, D, a.node.attrs.scale, a.node.attrs.softcap);
    }
  });
}

// RoPE: x [B, T, H, D]; positions int32 [T]; inv_freq [rot/2]. NeoX rotates pairs
// (i, i + rot/2); interleaved (GPT-J) rotates (2i, 2i+1). Dims past `rot` pass through.
void k_rope(const KernelArgs& a) {
  const TensorView& x = a.in[0];
  const int32_t* pos = a.in[1].ptr<int32_t>();
  const float* inv_freq = a.in[2].ptr<float>();
  const int64_t B = x.shape[0], T = x.shape[1], H = x.shape[2], D = x.shape[3];
  const int64_t rot = a.node.attrs.rope_dims, half = rot / 2;
  const bool neox = a.node.attrs.rope_style == ir::RopeStyle::NeoX;
  const float mscale = a.node.attrs.attn_factor;
  const float* px = x.ptr<float>();
  float* py = a.out.ptr<float>();
  a.pool.parallel_for(B * T, 1, [&](int64_t r0, int64_t r1) {
    std::vector<float> cs(static_cast<size_t>(half)), sn(static_cast<size_t>(half));
    for (int64_t r = r0; r < r1; ++r) {
      int64_t t = r % T;
      for (int64_t i = 0; i < half; ++i) {
        // The angle is computed in float like the references (position * inv_freq in f32).
        float ang = float(pos[t]) * inv_freq[i];
        cs[size_t(i)] = std::cos(ang) * mscale;
        sn[size_t(i)] = std::sin(ang) * mscale;
      }
      for (int64_t h = 0; h < H; ++h) {
        const float* xi = px + (r * H + h) * D;
        float* yo = py + (r * H + h) * D;
        for (int64_t i = 0; i < half; ++i) {
          int64_t i0 = neox ? i : 2 * i, i1 = neox ? i + half : 2 * i + 1;
          float x0 = xi[i0], x1 = xi[i1];
          yo[i0] = x0 * cs[size_t(i)] - x1 * sn[size_t(i)];
          yo[i1] = x1 * cs[size_t(i)] + x0 * sn[size_t(i)];
        }
        for (int64_t i = rot; i < D; ++i) yo[i] = xi[i];
      }
    }
  });
}

}  // namespace

void register_norm_kernels(KernelRegistry& r) {
  r.add(OpKind::RmsNorm, k_rms_norm);
  r.add(OpKind::LayerNorm, k_layer_norm);
  r.add(OpKind::Softmax, k_softmax);
  r.add(OpKind::Rope, k_rope);
}

}  // namespace rlx::cpu
