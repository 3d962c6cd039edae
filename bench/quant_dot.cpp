// rlx_quant_dot: one-thread matrix-vector speed of the dot kernels (QuantTraits::vec_dot, and
// vec_dot_rows where a type has it) over a weight matrix of ROWS x K, in GB/s of weight bytes.
// A small matrix (hot: stays in L2) shows the kernel's compute cost; a large one (cold) the
// memory-bound speed decode sees.
//   rlx_quant_dot [-k K] [-r REPS] [TYPE...]      (default types: Q4_K Q6_K Q8_0 F16)
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <random>
#include <string>
#include <vector>

#include "rlx/core/quant.h"

namespace {

using namespace rlx;

std::vector<uint8_t> random_rows(DType t, int64_t rows, int64_t k, uint32_t seed) {
  // Quantize 64 distinct rows and repeat them: quantizing a large matrix would dominate.
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.f, 0.02f);
  const int64_t rb = dtype_bytes(t, k), distinct = std::min<int64_t>(rows, 64);
  std::vector<float> f(static_cast<size_t>(k));
  std::vector<uint8_t> w(size_t(rb * rows));
  for (int64_t r = 0; r < distinct; ++r) {
    for (auto& v : f) v = dist(rng);
    quantize_row(t, f.data(), w.data() + r * rb, k);
  }
  for (int64_t r = distinct; r < rows; ++r)
    std::memcpy(w.data() + r * rb, w.data() + (r % distinct) * rb, size_t(rb));
  return w;
}

// This thread's CPU time: other processes sharing the cores do not count.
double cpu_seconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}

// Best seconds per sweep over all rows.
template <class F>
double best_time(int reps, F&& sweep) {
  double best = 1e30;
  for (int i = 0; i < reps; ++i) {
    const double t0 = cpu_seconds();
    sweep();
    best = std::min(best, cpu_seconds() - t0);
  }
  return best;
}

void run(DType t, int64_t k, int reps) {
  const QuantTraits& qt = quant_traits(t);
  std::vector<float> xf(static_cast<size_t>(k));
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.f, 1.f);
  for (auto& v : xf) v = dist(rng);
  std::vector<uint8_t> x(size_t(dtype_bytes(qt.vec_dot_type, k)));
  quantize_activation_row(qt.vec_dot_type, xf.data(), x.data(), k);
  const int64_t rb = dtype_bytes(t, k);
  for (int64_t rows : {int64_t(256), int64_t(512 << 20) / rb}) {
    auto w = random_rows(t, rows, k, 1);
    std::vector<float> y(static_cast<size_t>(rows));
    const int sweeps = rows < 1024 ? 200 : 1;
    auto one = [&] {
      for (int s = 0; s < sweeps; ++s)
        for (int64_t r = 0; r < rows; ++r)
          y[size_t(r)] = qt.vec_dot(w.data() + r * rb, x.data(), k);
    };
    const double gb = double(rb * rows) * sweeps / 1e9;
    std::printf("%-5s k=%-5lld %-4s vec_dot      %6.2f GB/s\n", dtype_name(t), (long long)k,
                rows < 1024 ? "hot" : "cold", gb / best_time(reps, one));
    if (!qt.vec_dot_rows) continue;
    for (int nr : {2, 4, 8}) {
      auto multi = [&] {
        for (int s = 0; s < sweeps; ++s)
          for (int64_t r = 0; r < rows; r += nr)
            qt.vec_dot_rows(w.data() + r * rb, size_t(rb), int(std::min<int64_t>(nr, rows - r)),
                            x.data(), k, y.data() + r);
      };
      std::printf("%-5s k=%-5lld %-4s vec_dot_rows %d %6.2f GB/s\n", dtype_name(t), (long long)k,
                  rows < 1024 ? "hot" : "cold", nr, gb / best_time(reps, multi));
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  int64_t k = 1024;
  int reps = 5;
  std::vector<std::string> names;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "-k" && i + 1 < argc)
      k = std::atoll(argv[++i]);
    else if (a == "-r" && i + 1 < argc)
      reps = std::atoi(argv[++i]);
    else
      names.push_back(a);
  }
  if (names.empty()) names = {"Q4_K", "Q6_K", "Q8_0", "F16"};
  for (const auto& n : names) {
    auto t = dtype_from_name(n);
    if (!t || !quant_traits(*t).vec_dot) {
      std::fprintf(stderr, "no dot kernel for type %s\n", n.c_str());
      return 1;
    }
    run(*t, k, reps);
  }
  return 0;
}
