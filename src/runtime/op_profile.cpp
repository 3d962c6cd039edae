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
    std::fprintf(stderr, "\nRLX_PROFILE: %.3f s in CPU kernels\n%-28s %10s %12s %7s\n", total, "op",
                 "calls", "ms", "%");
    for (auto& [key, v] : rows)
      std::fprintf(stderr, "%-28s %10lld %12.2f %6.1f%%\n", key.c_str(),
                   static_cast<long long>(v.first), v.second * 1e3,
                   total > 0 ? 100.0 * v.second / total : 0.0);
  }
};

Totals& totals() {
  static Totals t;
  return t;
}

}  // namespace

bool OpProfile::enabled() {
  static const bool on = [] {
    const char* e = std::getenv("RLX_PROFILE");
    return e && *e && std::string(e) != "0";
  }();
  return on;
}

void OpProfile::add(const std::string& key, std::chrono::steady_clock::duration d) {
  Totals& t = totals();
  std::lock_guard<std::mutex> lk(t.mu);
  auto& v = t.by_key[key];
  v.first += 1;
  v.second += std::chrono::duration<double>(d).count();
}

}  // namespace rlx
