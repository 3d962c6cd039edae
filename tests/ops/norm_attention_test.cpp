#include "ops/op_test_util.h"
#include "rlx/core/half.h"

namespace rlx::test {
namespace {

using ir::GraphBuilder;
using ir::Value;

TEST(OpNorm, RmsNormWithAndWithoutOffset) {
  for (bool offset : {false, true})
    for (auto shape : {Shape{1, 8}, Shape{3, 5, 67}}) {
      const int64_t D = shape.back();
      Tensor x = random_tensor(shape, 11), w = random_tensor({D}, 12);
      Tensor y = run_graph({{"x", x}, {"w", w}}, [&](GraphBuilder& b, std::vector<Value>& v) {
        return b.rms_norm(v[0], v[1], 1e-6f, offset);
      });
      auto xd = to_double(x), wd = to_double(w);
      std::vector<double> want(xd.size());
      for (size_t r = 0; r < xd.size() / size_t(D); ++r) {
        double ss = 0;
        for (int64_t i = 0; i < D; ++i) ss += xd[r * D + i] * xd[r * D + i];
        double inv = 1 / std::sqrt(ss / double(D) + 1e-6);
        for (int64_t i = 0; i < D; ++i)
          want[r * D + i] = xd[r * D + i] * inv * (wd[size_t(i)] + (offset ? 1 : 0));
      }
      expect_close(y, want, 1e-5, "rms_norm " + shape.str());
    }
}

TEST(OpNorm, LayerNorm) {
  Tensor x = random_tensor({4, 37}, 13, -3.f, 5.f), w = random_tensor({37}, 14),
         bias = random_tensor({37}, 15);
  Tensor y = run_graph(
      {{"x", x}, {"w", w}, {"b", bias}},
      [](GraphBuilder& b, std::vector<Value>& v) { return b.layer_norm(v[0], v[1], v[2], 1e-5f); });
  auto xd = to_double(x), wd = to_double(w), bd = to_double(bias);
  std::vector<double> want(xd.size());
  for (int r = 0; r < 4; ++r) {
    double m = 0, var = 0;
    for (int i = 0; i < 37; ++i) m += xd[r * 37 + i] / 37;
    for (int i = 0; i < 37; ++i) var += (xd[r * 37 + i] - m) * (xd[r * 37 + i] - m) / 37;
    for (int i = 0; i < 37; ++i)
      want[r * 37 + i] = (xd[r * 37 + i] - m) / std::sqrt(var + 1e-5) * wd[i] + bd[i];
  }
  expect_close(y, want, 1e-5, "layer_norm");
}

TEST(OpSoftmax, ScaleAndSoftcap) {
  for (float cap : {0.f, 5.f}) {
    Tensor x = random_tensor({3, 50}, 16, -20.f, 20.f);
    Tensor y = run_graph({{"x", x}}, [&](GraphBuilder& b, std::vector<Value>& v) {
      return b.softmax(v[0], 0.7f, cap);
    });
    auto xd = to_double(x);
    std::vector<double> want(xd.size());
    for (int r = 0; r < 3; ++r) {
      double mx = -1e300, s = 0;
      std::vector<double> z(50);
      for (int i = 0; i < 50; ++i) {
        z[i] = xd[r * 50 + i] * 0.7;
        if (cap > 0) z[i] = cap * std::tanh(z[i] / cap);
        mx = std::max(mx, z[i]);
      }
      for (int i = 0; i < 50; ++i) s += std::exp(z[i] - mx);
      for (int i = 0; i < 50; ++i) want[r * 50 + i] = std::exp(z[i] - mx) / s;
    }
    expect_close(y, want, 1e-6, "softmax cap=" + std::to_string(cap));
  }
}

// Reference RoPE on [B, T, H, D].
std::vector<double> ref_rope(const std::vector<double>& x, const Shape& s,
                             const std::vector<int32_t>& pos, const std::vector<double>& inv,
                             bool neox, int64_t rot, double factor) {
  std::vector<double> y = x;
  const int64_t T = s[1], H = s[2], D = s[3], half = rot / 2;
  for (int64_t b = 0; b < s[0]; ++b)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t i = 0; i < half; ++i) {
          double ang = double(float(pos[size_t(t)]) * float(inv[size_t(i)]));
          int64_t base = ((b * T + t) * H + h) * D;
          int64_t i0 = neox ? i : 2 * i, i1 = neox ? i + half : 2 * i + 1;
          double x0 = x[size_t(base + i0)], x1 = x[size_t(base + i1)];
          y[size_t(base + i0)] = (x0 * std::cos(ang) - x1 * std::sin(ang)) * factor;
          y[size_t(base + i1)] = (x1 * std::cos(ang) + x0 * std::sin(ang)) * factor;
        }
  return y;
}

TEST(OpRope, NeoxInterleavedAndPartial) {
  for (bool neox : {true, false})
    for (int64_t rot : {16, 8}) {
      Shape s{1, 5, 3, 16};
      Tensor x = random_tensor(s, 17);
      Tensor pos = Tensor::empty(DType::I32, {5});
      std::vector<int32_t> pv = {0, 1, 2, 7, 100};
      for (int i = 0; i < 5; ++i) pos.ptr<int32_t>()[i] = pv[size_t(i)];
      Tensor inv = Tensor::empty(DType::F32, {rot / 2});
      std::vector<double> invd;
      for (int64_t i = 0; i < rot / 2; ++i) {
        inv.ptr<float>()[i] = float(std::pow(10000.0, -2.0 * double(i) / double(rot)));
        invd.push_back(inv.ptr<float>()[i]);
      }
      Tensor y = run_graph(
          {{"x", x}, {"pos", pos}, {"inv", inv}}, [&](GraphBuilder& b, std::vector<Value>& v) {
            return b.rope(v[0], v[1], v[2], neox ? ir::RopeStyle::NeoX : ir::RopeStyle::Interleaved,
                          rot, 1.0f);
          });
      expect_close(y, ref_rope(to_double(x), s, pv, invd, neox, rot, 1.0), 2e-5,
                   std::string(neox ? "neox" : "interleaved") + " rot=" + std::to_string(rot));
    }
}

// Reference attention: q [B,Tq,Hq,D], k/v [B,Tk,Hkv,D]; queries at base + i.
std::vector<double> ref_attention(const std::vector<double>& q, const std::vector<double>& k,
                                  const std::vector<double>& v, int64_t B, int64_t Tq, int64_t Tk,
                                  int64_t Hq, int64_t Hkv, int64_t D, double scale, double cap,
                                  ir::MaskKind mask, int64_t window, int64_t base,
                                  const std::vector<int>* key_mask = nullptr, int64_t Dv = 0) {
  if (Dv == 0) Dv = D;
  std::vector<double> out(size_t(B * Tq * Hq * Dv), 0.0);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hq; ++h)
      for (int64_t i = 0; i < Tq; ++i) {
        int64_t kh = h / (Hq / Hkv), qp = base + i;
        std::vector<double> s(static_cast<size_t>(Tk));
        double mx = -1e300;
        for (int64_t j = 0; j < Tk; ++j) {
          bool ok = !(mask != ir::MaskKind::None && j > qp) &&
                    !(mask == ir::MaskKind::SlidingWindow && qp - j >= window) &&
                    !(key_mask && !(*key_mask)[size_t(b * Tk + j)]);
          double d = 0;
          for (int64_t e = 0; e < D; ++e)
            d += q[size_t(((b * Tq + i) * Hq + h) * D + e)] *
                 k[size_t(((b * Tk + j) * Hkv + kh) * D + e)];
          d *= scale;
          if (cap > 0) d = cap * std::tanh(d / cap);
          s[size_t(j)] = ok ? d : -INFINITY;
          if (ok) mx = std::max(mx, d);
        }
        double z = 0;
        for (auto& x : s) z += x == -INFINITY ? 0 : std::exp(x - mx);
        for (int64_t j = 0; j < Tk; ++j) {
          double p = s[size_t(j)] == -INFINITY ? 0 : std::exp(s[size_t(j)] - mx) / z;
          for (int64_t e = 0; e < Dv; ++e)
            out[size_t(((b * Tq + i) * Hq + h) * Dv + e)] +=
                p * v[size_t(((b * Tk + j) * Hkv + kh) * Dv + e)];
        }
      }
  return out;
}

TEST(OpAttention, MasksGqaSoftcap) {
  const int64_t B = 2, T = 9, Hq = 4, Hkv = 2, D = 8;
  Tensor q = random_tensor({B, T, Hq, D}, 20), k = random_tensor({B, T, Hkv, D}, 21),
         v = random_tensor({B, T, Hkv, D}, 22);
  struct Case {
    ir::MaskKind mask;
    int64_t window;
    float cap;
  };
  for (auto c : {Case{ir::MaskKind::Causal, 0, 0.f}, Case{ir::MaskKind::None, 0, 0.f},
                 Case{ir::MaskKind::SlidingWindow, 3, 0.f}, Case{ir::MaskKind::Causal, 0, 1.5f}}) {
    Tensor y =
        run_graph({{"q", q}, {"k", k}, {"v", v}}, [&](GraphBuilder& b, std::vector<Value>& x) {
          return b.attention(x[0], x[1], x[2], {0.35f, c.cap, c.mask, c.window});
        });
    auto want = ref_attention(to_double(q), to_double(k), to_double(v), B, T, T, Hq, Hkv, D, 0.35,
                              c.cap, c.mask, c.window, 0);
    expect_close(y, want, 2e-6, "attention mask=" + std::to_string(int(c.mask)));
  }
  // Key padding mask.
  Tensor m = Tensor::empty(DType::F32, {B, T});
  std::vector<int> km;
  for (int64_t i = 0; i < B * T; ++i)
    km.push_back(i % T < T - 1 - i / T ? 1 : 0), m.ptr<float>()[i] = float(km.back());
  Tensor y = run_graph(
      {{"q", q}, {"k", k}, {"v", v}, {"m", m}}, [&](GraphBuilder& b, std::vector<Value>& x) {
        return b.attention_masked(x[0], x[1], x[2], x[3], {0.35f, 0.f, ir::MaskKind::None, 0});
      });
  expect_close(y,
               ref_attention(to_double(q), to_double(k), to_double(v), B, T, T, Hq, Hkv, D, 0.35, 0,
                             ir::MaskKind::None, 0, 0, &km),
               2e-6, "attention key mask");
}

// Shapes that exercise the blocked kernel: sequences longer than a key tile and not multiples
// of the tile sizes, GQA groups of 1 to 8, head dims that are not multiples of 8, Dv != D,
// Tq < Tk (queries at the end), B > 1.
TEST(OpAttention, LongSequencesAndOddShapes) {
  struct Case {
    int64_t B, Tq, Tk, Hq, Hkv, D, Dv;
    ir::MaskKind mask;
    int64_t window;
    float cap;
    bool key_mask;
  };
  using M = ir::MaskKind;
  const Case cases[] = {
      {1, 300, 300, 6, 2, 64, 64, M::Causal, 0, 0.f, false},
      {2, 130, 130, 8, 1, 16, 24, M::Causal, 0, 0.f, false},
      {1, 300, 300, 4, 4, 40, 40, M::SlidingWindow, 70, 0.f, false},
      {1, 200, 200, 2, 1, 37, 19, M::Causal, 0, 30.f, false},
      {1, 77, 260, 4, 2, 32, 32, M::None, 0, 0.f, true},
      {1, 100, 250, 4, 2, 32, 32, M::Causal, 0, 0.f, false},
      {2, 150, 150, 4, 2, 24, 24, M::SlidingWindow, 9, 5.f, true},
      // Few rows per item (decode-like): scores read K rows in place.
      {1, 1, 150, 4, 2, 37, 37, M::Causal, 0, 0.f, false},
      {2, 3, 131, 3, 3, 32, 32, M::SlidingWindow, 50, 5.f, true},
      {1, 2, 97, 8, 2, 64, 48, M::None, 0, 0.f, false},
  };
  uint32_t seed = 40;
  for (const Case& c : cases) {
    Tensor q = random_tensor({c.B, c.Tq, c.Hq, c.D}, seed++),
           k = random_tensor({c.B, c.Tk, c.Hkv, c.D}, seed++),
           v = random_tensor({c.B, c.Tk, c.Hkv, c.Dv}, seed++);
    Tensor m = Tensor::empty(DType::F32, {c.B, c.Tk});
    std::vector<int> km;
    for (int64_t i = 0; i < c.B * c.Tk; ++i)  // pad out a varying tail and a few holes
      km.push_back(i % c.Tk < c.Tk - 13 * (i / c.Tk) - 3 && i % 29 != 5 ? 1 : 0),
          m.ptr<float>()[i] = float(km.back());
    const float scale = 1.f / std::sqrt(float(c.D));
    GraphBuilder::AttentionOptions opt{scale, c.cap, c.mask, c.window};
    std::vector<std::pair<std::string, Tensor>> feed = {{"q", q}, {"k", k}, {"v", v}};
    if (c.key_mask) feed.push_back({"m", m});
    Tensor y = run_graph(feed, [&](GraphBuilder& b, std::vector<Value>& x) {
      return c.key_mask ? b.attention_masked(x[0], x[1], x[2], x[3], opt)
                        : b.attention(x[0], x[1], x[2], opt);
    });
    auto want = ref_attention(to_double(q), to_double(k), to_double(v), c.B, c.Tq, c.Tk, c.Hq,
                              c.Hkv, c.D, scale, c.cap, c.mask, c.window, c.Tk - c.Tq,
                              c.key_mask ? &km : nullptr, c.Dv);
    expect_close(y, want, 5e-6,
                 fmt::format("attention B={} Tq={} Tk={} Hq={} Hkv={} D={} Dv={} mask={} cap={}",
                             c.B, c.Tq, c.Tk, c.Hq, c.Hkv, c.D, c.Dv, int(c.mask), c.cap));
  }
}

// Long prefill through an F16 / F32 cache in two chunks, then single-token decode steps; each
// step must match full causal (or sliding-window) attention over the rounded tokens so far.
TEST(OpAttention, KvCacheLongPrefillThenDecode) {
  for (DType cache_t : {DType::F16, DType::F32})
    for (auto mask : {ir::MaskKind::Causal, ir::MaskKind::SlidingWindow}) {
      const int64_t Hq = 16, Hkv = 8, D = 128, S = 320, window = 100;
      const std::vector<int64_t> steps = {200, 97, 1, 1, 1};
      int64_t total = 0;
      for (int64_t n : steps) total += n;
      Tensor q = random_tensor({1, total, Hq, D}, 50), k = random_tensor({1, total, Hkv, D}, 51),
             v = random_tensor({1, total, Hkv, D}, 52);
      // The reference sees K/V as stored in the cache.
      auto as_stored = [&](const Tensor& t) {
        Tensor r = contiguous_copy(t.view());
        if (cache_t == DType::F16)
          for (int64_t i = 0; i < r.numel(); ++i)
            r.ptr<float>()[i] = f16_to_f32(f32_to_f16(r.ptr<float>()[i]));
        return r;
      };
      Tensor kr = as_stored(k), vr = as_stored(v);
      const float scale = 1.f / std::sqrt(float(D));
      auto full = ref_attention(to_double(q), to_double(kr), to_double(vr), 1, total, total, Hq,
                                Hkv, D, scale, 0, mask, window, 0);
      Tensor kc = Tensor::zeros(cache_t, {1, Hkv, S, D}),
             vc = Tensor::zeros(cache_t, {1, Hkv, S, D});
      int64_t done = 0;
      for (int64_t n : steps) {
        ir::Graph g;
        GraphBuilder b(g);
        Value qi = b.input("q", DType::F32, {1, n, Hq, D}),
              ki = b.input("k", DType::F32, {1, n, Hkv, D}),
              vi = b.input("v", DType::F32, {1, n, Hkv, D}), pos = b.input("pos", DType::I32, {1});
        Value ks = b.state("kc", cache_t, {1, Hkv, S, D}),
              vs = b.state("vc", cache_t, {1, Hkv, S, D});
        b.output("y", b.attention_cached(qi, ki, vi, ks, vs, pos, {scale, 0.f, mask, window}));
        CompileOptions opt;
        opt.threads = 2;
        Program p = Program::compile(g, opt);
        Tensor p0 = Tensor::empty(DType::I32, {1});
        p0.ptr<int32_t>()[0] = int32_t(done);
        auto part = [&](const Tensor& t) {
          return contiguous_copy(t.view().slice(1, done, done + n));
        };
        Tensor qs = part(q), kk = part(k), vv = part(v);
        Tensor y = p.run({{"q", qs.view()}, {"k", kk.view()}, {"v", vv.view()}, {"pos", p0.view()}},
                         {{"kc", kc.view()}, {"vc", vc.view()}})
                       .at("y");
        std::vector<double> want(full.begin() + done * Hq * D, full.begin() + (done + n) * Hq * D);
        expect_close(
            y, want, 5e-6,
            fmt::format("cached step at {} ({}, mask {})", done, dtype_name(cache_t), int(mask)));
        done += n;
      }
    }
}

// Prefill 5 tokens then decode 2 single tokens through a KV cache; each step must equal full
// causal attention over the tokens so far.
TEST(OpAttention, KvCacheAppendsAndAttends) {
  for (DType cache_t : {DType::F32, DType::F16}) {
    const int64_t Hq = 4, Hkv = 2, D = 8, S = 16, total = 7;
    Tensor q = random_tensor({1, total, Hq, D}, 30), k = random_tensor({1, total, Hkv, D}, 31),
           v = random_tensor({1, total, Hkv, D}, 32);
    Tensor kc = Tensor::zeros(cache_t, {1, Hkv, S, D}), vc = Tensor::zeros(cache_t, {1, Hkv, S, D});
    auto full = ref_attention(to_double(q), to_double(k), to_double(v), 1, total, total, Hq, Hkv, D,
                              0.5, 0, ir::MaskKind::Causal, 0, 0);
    int64_t done = 0;
    for (int64_t n : {5, 1, 1}) {
      ir::Graph g;
      GraphBuilder b(g);
      Value qi = b.input("q", DType::F32, {1, n, Hq, D}),
            ki = b.input("k", DType::F32, {1, n, Hkv, D}),
            vi = b.input("v", DType::F32, {1, n, Hkv, D}), pos = b.input("pos", DType::I32, {1});
      Value ks = b.state("kc", cache_t, {1, Hkv, S, D}),
            vs = b.state("vc", cache_t, {1, Hkv, S, D});
      b.output("y",
               b.attention_cached(qi, ki, vi, ks, vs, pos, {0.5f, 0.f, ir::MaskKind::Causal, 0}));
      Program p = Program::compile(g, {});
      Tensor p0 = Tensor::empty(DType::I32, {1});
      p0.ptr<int32_t>()[0] = int32_t(done);
      auto part = [&](const Tensor& t, int64_t H) { return t.view().slice(1, done, done + n); };
      Tensor qs = contiguous_copy(part(q, Hq)), kk = contiguous_copy(part(k, Hkv)),
             vv = contiguous_copy(part(v, Hkv));
      Tensor y = p.run({{"q", qs.view()}, {"k", kk.view()}, {"v", vv.view()}, {"pos", p0.view()}},
                       {{"kc", kc.view()}, {"vc", vc.view()}})
                     .at("y");
      std::vector<double> want(full.begin() + done * Hq * D, full.begin() + (done + n) * Hq * D);
      expect_close(y, want, cache_t == DType::F32 ? 2e-6 : 2e-3,
                   fmt::format("cached step at {} ({})", done, dtype_name(cache_t)));
      done += n;
    }
    // Overflowing the cache is a clear error, not a crash.
  }
}

}  // namespace
}  // namespace rlx::test
