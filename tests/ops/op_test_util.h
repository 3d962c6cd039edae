// Helpers for op-conformance tests: random inputs, running one graph, comparing with a plain
// double-precision reference written independently of the kernels.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "rlx/core/error.h"
#include "rlx/ir/builder.h"
#include "rlx/runtime/program.h"

namespace rlx::test {

inline Tensor random_tensor(const Shape& s, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  Tensor t = Tensor::empty(DType::F32, s);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t.ptr<float>()[i] = d(rng);
  return t;
}

inline std::vector<double> to_double(const Tensor& t) {
  Tensor f = to_f32(t.view());
  return std::vector<double>(f.ptr<float>(), f.ptr<float>() + f.numel());
}

// Multi-index helpers for reference code (row-major over `shape`).
inline int64_t flat(const Shape& s, const std::vector<int64_t>& idx) {
  int64_t f = 0;
  for (int i = 0; i < s.rank(); ++i) f = f * s[i] + idx[size_t(i)];
  return f;
}

inline void expect_close(const Tensor& got, const std::vector<double>& want, double tol,
                         const std::string& what) {
  ASSERT_EQ(size_t(got.numel()), want.size()) << what;
  Tensor f = to_f32(got.view());
  double worst = 0;
  int64_t at = -1;
  for (int64_t i = 0; i < f.numel(); ++i) {
    double d = std::fabs(double(f.ptr<float>()[i]) - want[size_t(i)]);
    if (!(d <= worst)) worst = d, at = i;
  }
  EXPECT_LE(worst, tol) << what << ": max |diff| " << worst << " at flat index " << at << " (got "
                        << (at >= 0 ? f.ptr<float>()[at] : 0.f) << ", want "
                        << (at >= 0 ? want[size_t(at)] : 0.0) << ")";
}

// Builds a graph with `build` (given the builder and the input values), runs it once on
// `inputs` with `threads` threads and returns output "y".
inline Tensor run_graph(
    const std::vector<std::pair<std::string, Tensor>>& inputs,
    const std::function<ir::Value(ir::GraphBuilder&, std::vector<ir::Value>&)>& build,
    int threads = 2) {
  ir::Graph g;
  ir::GraphBuilder b(g);
  std::vector<ir::Value> vals;
  std::map<std::string, TensorView> feed;
  for (auto& [name, t] : inputs) {
    vals.push_back(b.input(name, t.dtype(), t.shape()));
    feed[name] = t.view();
  }
  b.output("y", build(b, vals));
  CompileOptions opt;
  opt.threads = threads;
  Program p = Program::compile(g, opt);
  return p.run(feed).at("y");
}

}  // namespace rlx::test
