// Time per op kind across every program run of the process, printed to stderr at exit,
// largest first: RLX_PROFILE=1 for CPU kernels (wall time), RLX_CUDA_PROFILE=1 for CUDA
// launches (event time), RLX_CUDA_RUN_TIMING=1 for whole CUDA program runs split into host
// preparation, GPU time (events around the launches, graph replay kept on) and the host's wait.
// Off by default; when off, a step costs one branch.
#pragma once
#include <string>

namespace rlx {

class OpProfile {
 public:
  enum class Table { Cpu, Cuda, CudaRuns };
  static bool enabled(Table t);
  static void add(Table t, const std::string& key, double seconds);
};

}  // namespace rlx
