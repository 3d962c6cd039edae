// A small fixed thread pool with a blocking parallel_for; the calling thread takes part.
#pragma once
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace rlx {

class ThreadPool {
 public:
  explicit ThreadPool(int n_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int size() const { return n_threads_; }
  // Runs fn(thread_index, n_threads) on every thread (index 0 is the caller) and waits.
  void run(const std::function<void(int, int)>& fn);
  // Splits [0, n) into contiguous chunks of at least `grain` and runs fn(begin, end).
  void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);
  // Like parallel_for, but threads take `chunk`-sized pieces from a shared counter until none
  // are left: a thread that was descheduled or started late does less, instead of everyone
  // waiting for its fixed share.
  void parallel_for_dynamic(int64_t n, int64_t chunk,
                            const std::function<void(int64_t, int64_t)>& fn);

 private:
  void worker(int index);
  int n_threads_;
  std::vector<std::thread> threads_;
  // Workers spin briefly on `generation_` before sleeping on the condition variable: a decode
  // step issues hundreds of small parallel ops, and a futex wake-up per op costs more than the
  // op. The mutex only guards the transitions into and out of sleep.
  std::mutex mu_;
  std::condition_variable cv_start_, cv_done_;
  std::atomic<const std::function<void(int, int)>*> job_{nullptr};
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stop_{false};
};

// Number of physical cores (falls back to hardware_concurrency).
int physical_core_count();

}  // namespace rlx
