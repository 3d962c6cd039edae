// RLX_PROFILE=1: wall time per op kind (and weight type for Linear) across every CPU program
// run of the process, printed to stderr at exit, largest first. Off by default; when off, a
// step costs one branch.
#pragma once
#include <chrono>
#include <string>

namespace rlx {

class OpProfile {
 public:
  static bool enabled();
  static void add(const std::string& key, std::chrono::steady_clock::duration d);
};

}  // namespace rlx
