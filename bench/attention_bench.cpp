// rlx_attention_bench: one cached causal Attention op through the runtime, Qwen3-0.6B shapes
// (16 query heads, 8 KV heads, head dim 128). Each call appends T tokens at POS and attends
// over POS + T keys. Prints milliseconds per call, best of REPS.
//   rlx_attention_bench [T=512] [POS=0] [CACHE=F16] [THREADS=2] [REPS=5]
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>

#include "rlx/ir/builder.h"
#include "rlx/runtime/program.h"

int main(int argc, char** argv) {
  using namespace rlx;
  const int64_t T = argc > 1 ? std::atoll(argv[1]) : 512, pos = argc > 2 ? std::atoll(argv[2]) : 0;
  const DType ct = argc > 3 && std::string(argv[3]) == "F32" ? DType::F32 : DType::F16;
  const int threads = argc > 4 ? std::atoi(argv[4]) : 2, reps = argc > 5 ? std::atoi(argv[5]) : 5;
  const int64_t Hq = 16, Hkv = 8, D = 128, S = pos + T;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  auto rand = [&](const Shape& s, DType dt) {
    Tensor t = Tensor::zeros(dt, s);
    if (dt == DType::F32)
      for (int64_t i = 0; i < t.numel(); ++i) t.ptr<float>()[i] = u(rng);
    return t;
  };
  Tensor q = rand({1, T, Hq, D}, DType::F32), k = rand({1, T, Hkv, D}, DType::F32),
         v = rand({1, T, Hkv, D}, DType::F32);
  Tensor kc = rand({1, Hkv, S, D}, ct), vc = rand({1, Hkv, S, D}, ct);
  Tensor p0 = Tensor::empty(DType::I32, {1});
  p0.ptr<int32_t>()[0] = int32_t(pos);
  ir::Graph g;
  ir::GraphBuilder b(g);
  b.output("y",
           b.attention_cached(
               b.input("q", DType::F32, {1, T, Hq, D}), b.input("k", DType::F32, {1, T, Hkv, D}),
               b.input("v", DType::F32, {1, T, Hkv, D}), b.state("kc", ct, {1, Hkv, S, D}),
               b.state("vc", ct, {1, Hkv, S, D}), b.input("pos", DType::I32, {1}),
               {1.f / std::sqrt(float(D)), 0.f, ir::MaskKind::Causal, 0}));
  CompileOptions opt;
  opt.threads = threads;
  Program p = Program::compile(g, opt);
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    p.run({{"q", q.view()}, {"k", k.view()}, {"v", v.view()}, {"pos", p0.view()}},
          {{"kc", kc.view()}, {"vc", vc.view()}});
    best = std::min(
        best,
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  std::printf("attention T=%lld pos=%lld %s threads=%d: %.3f ms/call\n", (long long)T,
              (long long)pos, ct == DType::F16 ? "F16" : "F32", threads, best);
}
