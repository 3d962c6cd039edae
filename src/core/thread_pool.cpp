#include "rlx/core/thread_pool.h"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <set>
#include <string>

namespace rlx {

ThreadPool::ThreadPool(int n_threads) : n_threads_(std::max(1, n_threads)) {
  for (int i = 1; i < n_threads_; ++i) threads_.emplace_back([this, i] { worker(i); });
}

namespace {

// How long a thread busy-waits for work (or for completion) before blocking. A decode step is
// ~500 ops, many too small to split, so workers sit idle for stretches of 50-500 µs; with a
// 50 µs budget they often fell asleep and each wake-up cost a futex round trip (Qwen3-0.6B
// Q4_K_M tg128 on 2 threads: 26-44 t/s, run to run; with 1 ms: 41-54 t/s).
constexpr auto kSpin = std::chrono::microseconds(1000);

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

// Spins until pred() or the spin budget runs out; returns pred().
template <class Pred>
bool spin_until(Pred pred) {
  const auto deadline = std::chrono::steady_clock::now() + kSpin;
  for (int i = 0;; ++i) {
    if (pred()) return true;
    cpu_relax();
    if ((i & 63) == 63 && std::chrono::steady_clock::now() > deadline) return pred();
  }
}

}  // namespace

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    stop_.store(true);
  }
  cv_start_.notify_all();
  for (auto& t : threads_) t.join();
}

void ThreadPool::worker(int index) {
  uint64_t seen = 0;
  for (;;) {
    auto ready = [&] {
      return stop_.load(std::memory_order_acquire) ||
             generation_.load(std::memory_order_acquire) != seen;
    };
    if (!spin_until(ready)) {
      std::unique_lock<std::mutex> lk(mu_);
      cv_start_.wait(lk, ready);
    }
    if (stop_.load(std::memory_order_acquire)) return;
    seen = generation_.load(std::memory_order_acquire);
    (*job_.load(std::memory_order_acquire))(index, n_threads_);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lk(mu_);  // pairs with the waiter's predicate check
      cv_done_.notify_one();
    }
  }
}

void ThreadPool::run(const std::function<void(int, int)>& fn) {
  if (n_threads_ == 1) {
    fn(0, 1);
    return;
  }
  job_.store(&fn, std::memory_order_release);
  pending_.store(n_threads_ - 1, std::memory_order_release);
  {
    // Under the mutex so that a worker about to sleep either sees the new generation in its
    // predicate or is already waiting when notified.
    std::lock_guard<std::mutex> lk(mu_);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  cv_start_.notify_all();
  fn(0, n_threads_);
  auto done = [&] { return pending_.load(std::memory_order_acquire) == 0; };
  if (!spin_until(done)) {
    std::unique_lock<std::mutex> lk(mu_);
    cv_done_.wait(lk, done);
  }
}

void ThreadPool::parallel_for(int64_t n, int64_t grain,
                              const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  int64_t max_chunks = std::max<int64_t>(1, n / std::max<int64_t>(1, grain));
  int64_t workers = std::min<int64_t>(n_threads_, max_chunks);
  if (workers <= 1) {
    fn(0, n);
    return;
  }
  run([&](int t, int) {
    if (t >= workers) return;
    int64_t b = n * t / workers, e = n * (t + 1) / workers;
    if (b < e) fn(b, e);
  });
}

void ThreadPool::parallel_for_dynamic(int64_t n, int64_t chunk,
                                      const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  chunk = std::max<int64_t>(1, chunk);
  if (n_threads_ == 1 || n <= chunk) {
    fn(0, n);
    return;
  }
  std::atomic<int64_t> next{0};
  run([&](int, int) {
    for (int64_t b; (b = next.fetch_add(chunk, std::memory_order_relaxed)) < n;)
      fn(b, std::min(n, b + chunk));
  });
}

int physical_core_count() {
  std::ifstream in("/proc/cpuinfo");
  std::set<std::pair<std::string, std::string>> cores;
  std::string line, phys = "0";
  while (std::getline(in, line)) {
    if (line.rfind("physical id", 0) == 0) phys = line.substr(line.find(':') + 1);
    if (line.rfind("core id", 0) == 0) cores.insert({phys, line.substr(line.find(':') + 1)});
  }
  int n = int(cores.size());
  if (n == 0) n = int(std::thread::hardware_concurrency());
  return std::max(1, n);
}

}  // namespace rlx
