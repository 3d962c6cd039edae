#include "runtime/op_profile.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

namespace rlx {
namespace {

struct Totals {
  explicit Totals(const char* w) : what(w) {}
  const char* what;
  std::mutex mu;
  std::map<std::string, std::pair<int64_t, double>> by_key;  // calls, seconds

  ~Totals() {
    if (by_key.empty()) return;
    std::vector<std::pair<std::string, std::pair<int64_t, double>>> rows(by_key.begin(),
                                                                         by_key.end());
    std::sort(rows.begin(), rows.end(),
              [](auto& a, auto& b) { return a.second.second > b.second.second; });
    double total = 0;
    for (auto& r : rows) total += r.second.second;
    std::fprintf(stderr, "\nRLX profile: %.3f s in %s\n%-32s %10s %12s %7s %10s\n", total, what,
                 "op", "calls", "ms", "%", "us/call");
    for (auto& [key, v] : rows)
      std::fprintf(stderr, "%-32s %10lld %12.2f %6.1f%% %10.2f\n", key.c_str(),
                   static_cast<long long>(v.first), v.second * 1e3,
                   total > 0 ? 100.0 * v.second / total : 0.0, 1e6 * v.second / double(v.first));
  }
};

Totals& totals(OpProfile::Table t) {
  static Totals cpu("CPU kernels"), cuda("CUDA launches"), runs("CUDA program runs");
  return t == OpProfile::Table::Cpu ? cpu : (t == OpProfile::Table::Cuda ? cuda : runs);
}

}  // namespace

bool OpProfile::enabled(Table t) {
  auto on = [](const char* var) {
    const char* e = std::getenv(var);
    return e && *e && std::string(e) != "0";
  };
  static const bool cpu = on("RLX_PROFILE"), cuda = on("RLX_CUDA_PROFILE"),
                    runs = on("RLX_CUDA_RUN_TIMING");
  return t == Table::Cpu ? cpu : (t == Table::Cuda ? cuda : runs);
}

void OpProfile::add(Table t, const std::string& key, double seconds) {
  Totals& s = totals(t);
  std::lock_guard<std::mutex> lk(s.mu);
  auto& v = s.by_key[key];
  v.first += 1;
  v.second += seconds;
}

}  // namespace rlx
