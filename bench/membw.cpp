// rlx_membw: memory read bandwidth. Each thread sums its share of a buffer (AVX2 when built with
// it); prints the best of N passes in GB/s (10^9 bytes/s).
//   rlx_membw [-t THREADS] [-s MiB] [-r REPS] [--json]
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace {

double sum_range(const float* p, size_t n) {
#if defined(__AVX2__)
  __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 32 <= n; i += 32) {
    a0 = _mm256_add_ps(a0, _mm256_load_ps(p + i));
    a1 = _mm256_add_ps(a1, _mm256_load_ps(p + i + 8));
    a2 = _mm256_add_ps(a2, _mm256_load_ps(p + i + 16));
    a3 = _mm256_add_ps(a3, _mm256_load_ps(p + i + 24));
  }
  alignas(32) float t[8];
  _mm256_store_ps(t, _mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
  double s = 0;
  for (float x : t) s += x;
  for (; i < n; ++i) s += p[i];
  return s;
#else
  float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) s0 += p[i], s1 += p[i + 1], s2 += p[i + 2], s3 += p[i + 3];
  for (; i < n; ++i) s0 += p[i];
  return double(s0) + s1 + s2 + s3;
#endif
}

int usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [-t THREADS] [-s MiB (default 1024)] [-r REPS (default 10)] [--json]\n",
               argv0);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  int threads = int(std::max(1u, std::thread::hardware_concurrency()));
  size_t mib = 1024;
  int reps = 10;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto num = [&](const char* flag) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s: missing value\n", flag);
        std::exit(2);
      }
      char* end = nullptr;
      long v = std::strtol(argv[++i], &end, 10);
      if (*end || v < 1) {
        std::fprintf(stderr, "%s %s: not a positive integer\n", flag, argv[i]);
        std::exit(2);
      }
      return v;
    };
    if (a == "-t" || a == "--threads")
      threads = int(num("-t"));
    else if (a == "-s" || a == "--size-mib")
      mib = size_t(num("-s"));
    else if (a == "-r" || a == "--repetitions")
      reps = int(num("-r"));
    else if (a == "--json")
      json = true;
    else
      return usage(argv[0]);
  }
  const size_t n = mib * 1024 * 1024 / sizeof(float);
  auto* buf = static_cast<float*>(std::aligned_alloc(64, n * sizeof(float)));
  if (!buf) {
    std::fprintf(stderr, "cannot allocate %zu MiB\n", mib);
    return 1;
  }
  // Touch every page from the thread that will read it (first-touch placement).
  auto parallel = [&](auto fn) {
    std::vector<std::thread> ts;
    const size_t chunk = (n / size_t(threads) + 31) / 32 * 32;
    for (int t = 0; t < threads; ++t) {
      const size_t b = std::min(n, size_t(t) * chunk), e = std::min(n, b + chunk);
      ts.emplace_back([=] { fn(t, b, e); });
    }
    for (auto& t : ts) t.join();
  };
  parallel([&](int, size_t b, size_t e) {
    for (size_t i = b; i < e; ++i) buf[i] = float(i & 7) * 0.125f;
  });
  std::vector<double> sums(static_cast<size_t>(threads));
  double best = 0, total = 0;
  for (int r = 0; r < reps + 1; ++r) {  // the first pass is a warm-up
    auto t0 = std::chrono::steady_clock::now();
    parallel([&](int t, size_t b, size_t e) { sums[size_t(t)] = sum_range(buf + b, e - b); });
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (double x : sums) total += x;
    if (r > 0) best = std::max(best, double(n * sizeof(float)) / s / 1e9);
  }
  std::free(buf);
  if (json)
    std::printf("{\"threads\": %d, \"size_mib\": %zu, \"reps\": %d, \"read_gbps\": %.3f}\n",
                threads, mib, reps, best);
  else
    std::printf("read bandwidth: %.2f GB/s (best of %d, %d threads, %zu MiB; checksum %.0f)\n",
                best, reps, threads, mib, total);
  return 0;
}
