// rlx_linear_bench: one Linear op (y = x·Wᵀ) through the runtime, as a model would run it.
// Prints milliseconds per call and GFLOP/s (2·M·N·K per call), best of REPS.
//   rlx_linear_bench [TYPE=Q4_K] [M=512] [K=1024] [N=3072] [THREADS=0] [REPS=5]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <random>
#include <string>

#include "rlx/core/quant.h"
#include "rlx/ir/builder.h"
#include "rlx/runtime/program.h"

int main(int argc, char** argv) {
  using namespace rlx;
  const std::string type = argc > 1 ? argv[1] : "Q4_K";
  const int64_t M = argc > 2 ? std::atoll(argv[2]) : 512, K = argc > 3 ? std::atoll(argv[3]) : 1024,
                N = argc > 4 ? std::atoll(argv[4]) : 3072;
  const int threads = argc > 5 ? std::atoi(argv[5]) : 0, reps = argc > 6 ? std::atoi(argv[6]) : 5;
  const auto parsed = dtype_from_name(type);
  if (!parsed) {
    std::fprintf(stderr, "rlx_linear_bench: unknown type %s\n", type.c_str());
    return 2;
  }
  const DType wt = *parsed;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  Tensor x = Tensor::empty(DType::F32, {M, K});
  for (int64_t i = 0; i < M * K; ++i) x.ptr<float>()[i] = u(rng);
  Tensor w = Tensor::empty(wt, {N, K});
  std::vector<float> row(static_cast<size_t>(K));
  for (int64_t n = 0; n < N; ++n) {
    for (auto& v : row) v = u(rng);
    quantize_row(wt, row.data(), static_cast<char*>(w.data()) + dtype_bytes(wt, n * K), K);
  }
  ir::Graph g;
  ir::GraphBuilder b(g);
  b.output("y", b.linear(b.input("x", DType::F32, {M, K}), b.param("w", w.view())));
  CompileOptions opt;
  opt.threads = threads;
  Program p = Program::compile(g, opt);
  // CPU time of all threads as well as wall time: on a shared machine the rate per CPU-second
  // is the steadier figure.
  auto cpu_now = [] {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
  };
  double best = 1e30, best_cpu = 1e30;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpu_now();
    p.run({{"x", x.view()}});
    best_cpu = std::min(best_cpu, cpu_now() - c0);
    best = std::min(best,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  const double flop = 2.0 * double(M * N * K);
  std::printf("%s M=%lld K=%lld N=%lld: %.3f ms, %.1f GFLOP/s wall, %.1f GFLOP/s per CPU-second\n",
              type.c_str(), (long long)M, (long long)K, (long long)N, best * 1e3,
              flop / best * 1e-9, flop / best_cpu * 1e-9);
}
