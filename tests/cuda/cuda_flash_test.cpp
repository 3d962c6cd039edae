// The flash (prefill) attention kernel against the plain one on the same device and inputs:
// causal / none / sliding window, GQA, soft-cap, key masks, prefix queries, head sizes that
// take each register layout, and a chunked prefill into an F16 / F32 KV cache.
#include "backends/cuda/launch.h"
#include "cuda/cuda_test_util.h"

namespace rlx::test {
namespace {

using ir::GraphBuilder;
using ir::Value;

// Runs `g` on CUDA with the flash kernel and with the plain kernel; max |Δ| <= tol.
void expect_flash_matches_plain(const ir::Graph& g, const std::map<std::string, TensorView>& feed,
                                const std::string& what) {
  CompileOptions gpu;
  gpu.device = Device::cuda(0);
  Program p = Program::compile(g, gpu);
  cuda::set_flash_attention(true);
  Tensor fast = p.run(feed).at("y");
  cuda::set_flash_attention(false);
  Tensor plain = p.run(feed).at("y");
  cuda::set_flash_attention(true);
  Diff d = compare_tensors(plain, fast, what);
  EXPECT_LE(d.max_abs, 1e-5 + 1e-6 * d.max_ref) << what;
}

TEST(CudaFlash, MatchesPlainKernel) {
  RLX_REQUIRE_CUDA_DEVICE();
  struct C {
    int64_t Tq, Tk, D, Dv;
    ir::MaskKind mask;
    int64_t window;
    float softcap;
    bool key_mask;
  };
  const C cases[] = {
      {70, 70, 64, 48, ir::MaskKind::Causal, 0, 0.f, false},
      {70, 70, 128, 128, ir::MaskKind::Causal, 0, 0.f, false},
      {70, 70, 64, 64, ir::MaskKind::None, 0, 0.f, false},
      {70, 70, 64, 64, ir::MaskKind::SlidingWindow, 5, 0.f, false},
      {70, 70, 64, 64, ir::MaskKind::SlidingWindow, 40, 3.f, false},
      {70, 70, 96, 160, ir::MaskKind::Causal, 0, 2.f, false},
      {37, 70, 64, 64, ir::MaskKind::Causal, 0, 0.f, false},  // prefix queries (Tq < Tk)
      {37, 70, 64, 64, ir::MaskKind::None, 0, 0.f, true},
      {5, 9, 16, 24, ir::MaskKind::Causal, 0, 0.f, true},
  };
  uint32_t seed = 200;
  for (const C& c : cases) {
    const int64_t B = 2, Hq = 6, Hkv = 2;
    Tensor q = random_tensor({B, c.Tq, Hq, c.D}, seed++),
           k = random_tensor({B, c.Tk, Hkv, c.D}, seed++),
           v = random_tensor({B, c.Tk, Hkv, c.Dv}, seed++);
    Tensor mask = Tensor::zeros(DType::F32, {B, c.Tk});
    for (int64_t j = 0; j < c.Tk; ++j) mask.ptr<float>()[j] = j % 3 != 1;  // batch 1: all masked
    ir::Graph g;
    GraphBuilder b(g);
    Value vq = b.input("q", DType::F32, q.shape()), vk = b.input("k", DType::F32, k.shape()),
          vv = b.input("v", DType::F32, v.shape());
    GraphBuilder::AttentionOptions o;
    o.scale = 1.f / std::sqrt(float(c.D)), o.mask = c.mask, o.window = c.window,
    o.softcap = c.softcap;
    std::map<std::string, TensorView> feed{{"q", q.view()}, {"k", k.view()}, {"v", v.view()}};
    if (c.key_mask) {
      Value vm = b.input("m", DType::F32, mask.shape());
      b.output("y", b.attention_masked(vq, vk, vv, vm, o));
      feed["m"] = mask.view();
    } else {
      b.output("y", b.attention(vq, vk, vv, o));
    }
    expect_flash_matches_plain(
        g, feed,
        "flash Tq=" + std::to_string(c.Tq) + " Tk=" + std::to_string(c.Tk) +
            " D=" + std::to_string(c.D) + " Dv=" + std::to_string(c.Dv) +
            " mask=" + std::to_string(int(c.mask)) + " window=" + std::to_string(c.window) +
            " softcap=" + std::to_string(c.softcap) + (c.key_mask ? " key mask" : ""));
  }
}

// Chunked prefill into a cache (40 then 9 tokens); the cache is written once per run, so the
// flash and plain programs each own a cache and see the same sequence.
TEST(CudaFlash, CachedPrefillMatchesPlainKernel) {
  RLX_REQUIRE_CUDA_DEVICE();
  for (DType kv : {DType::F32, DType::F16}) {
    const int64_t S = 64, Hq = 8, Hkv = 2, D = 128;
    CompileOptions gpu;
    gpu.device = Device::cuda(0);
    Tensor kc[2] = {Tensor::zeros(kv, {1, Hkv, S, D}), Tensor::zeros(kv, {1, Hkv, S, D})};
    Tensor vc[2] = {Tensor::zeros(kv, {1, Hkv, S, D}), Tensor::zeros(kv, {1, Hkv, S, D})};
    int32_t at = 0;
    uint32_t seed = 300;
    for (int64_t T : {40, 9}) {
      ir::Graph g;
      GraphBuilder b(g);
      Value q = b.input("q", DType::F32, {1, T, Hq, D});
      Value k = b.input("k", DType::F32, {1, T, Hkv, D});
      Value v = b.input("v", DType::F32, {1, T, Hkv, D});
      Value kp = b.input("kv_pos", DType::I32, {1});
      GraphBuilder::AttentionOptions o;
      o.scale = 0.09f;
      b.output("y", b.attention_cached(q, k, v, b.state("k.0", kv, {1, Hkv, S, D}),
                                       b.state("v.0", kv, {1, Hkv, S, D}), kp, o));
      Program p = Program::compile(g, gpu);
      Tensor pos = Tensor::empty(DType::I32, {1});
      pos.ptr<int32_t>()[0] = at;
      Tensor tq = random_tensor({1, T, Hq, D}, seed++), tk = random_tensor({1, T, Hkv, D}, seed++),
             tv = random_tensor({1, T, Hkv, D}, seed++);
      std::map<std::string, TensorView> feed = {
          {"q", tq.view()}, {"k", tk.view()}, {"v", tv.view()}, {"kv_pos", pos.view()}};
      Tensor out[2];
      for (int i = 0; i < 2; ++i) {
        cuda::set_flash_attention(i == 0);
        out[i] = p.run(feed, {{"k.0", kc[i].view()}, {"v.0", vc[i].view()}}).at("y");
      }
      cuda::set_flash_attention(true);
      Diff d = compare_tensors(out[1], out[0], "cached flash");
      EXPECT_LE(d.max_abs, 1e-5 + 1e-6 * d.max_ref) << dtype_name(kv) << " cache, T=" << T;
      at += int32_t(T);
    }
    for (int i = 0; i < 2; ++i) {
      cuda::forget_state_everywhere(kc[i].data());
      cuda::forget_state_everywhere(vc[i].data());
    }
  }
}

}  // namespace
}  // namespace rlx::test
