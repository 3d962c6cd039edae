// Helpers for CUDA conformance tests: one graph compiled for the CPU and for CUDA device 0,
// run on the same inputs, outputs compared. Without a GPU the tests skip with the reason
// (CI excludes the `cuda` label anyway).
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "backends/cuda/runtime.h"
#include "ops/op_test_util.h"
#include "rlx/core/quant.h"

namespace rlx::test {

#define RLX_REQUIRE_CUDA_DEVICE()                                                \
  do {                                                                           \
    if (::rlx::cuda::device_count() == 0)                                        \
      GTEST_SKIP() << "no CUDA device on this machine (these tests need a GPU)"; \
  } while (0)

using Named = std::vector<std::pair<std::string, Tensor>>;
using BuildFn = std::function<ir::Value(ir::GraphBuilder&, std::vector<ir::Value>& in,
                                        std::vector<ir::Value>& params)>;

// Max |cpu - cuda| over every element, and max |cpu| (for relative tolerances).
struct Diff {
  double max_abs = 0, max_ref = 0;
};

inline Diff compare_tensors(const Tensor& cpu, const Tensor& gpu, const std::string& what) {
  Diff d;
  EXPECT_EQ(cpu.shape(), gpu.shape()) << what;
  EXPECT_EQ(cpu.dtype(), gpu.dtype()) << what;
  if (cpu.shape() != gpu.shape()) return d;
  Tensor a = to_f32(cpu.view()), b = to_f32(gpu.view());
  for (int64_t i = 0; i < a.numel(); ++i) {
    const double x = a.ptr<float>()[i], y = b.ptr<float>()[i];
    d.max_ref = std::max(d.max_ref, std::fabs(x));
    const double e = std::fabs(x - y);
    if (!(e <= d.max_abs)) d.max_abs = e;  // NaN sticks
  }
  return d;
}

// Runs `build` on the CPU and on CUDA; expects max |Δ| <= tol (+ rel * max |cpu|).
inline void expect_cuda_matches_cpu(const Named& inputs, const Named& params, const BuildFn& build,
                                    double tol, const std::string& what, double rel = 0) {
  ir::Graph g;
  ir::GraphBuilder b(g);
  std::vector<ir::Value> in, ps;
  std::map<std::string, TensorView> feed;
  for (auto& [name, t] : inputs) {
    in.push_back(b.input(name, t.dtype(), t.shape()));
    feed[name] = t.view();
  }
  for (auto& [name, t] : params) ps.push_back(b.param(name, t.view()));
  b.output("y", build(b, in, ps));
  CompileOptions cpu;
  cpu.threads = 2;
  CompileOptions gpu = cpu;
  gpu.device = Device::cuda(0);
  Tensor want = Program::compile(g, cpu).run(feed).at("y");
  Tensor got = Program::compile(g, gpu).run(feed).at("y");
  Diff d = compare_tensors(want, got, what);
  EXPECT_LE(d.max_abs, tol + rel * d.max_ref) << what << " (max |cpu| " << d.max_ref << ")";
}

inline Tensor random_ids(const Shape& s, int32_t vocab, uint32_t seed) {
  Tensor t = Tensor::empty(DType::I32, s);
  std::mt19937 rng(seed);
  for (int64_t i = 0; i < t.numel(); ++i) t.ptr<int32_t>()[i] = int32_t(rng() % uint32_t(vocab));
  return t;
}

// A copy of an F32 tensor in another dtype (F16, BF16 or a block-quantized type).
inline Tensor converted(const Tensor& f, DType t) {
  Tensor out = Tensor::empty(t, f.shape());
  const int64_t row = f.shape().back();
  for (int64_t r = 0; r < f.numel() / row; ++r)
    quantize_row(t, f.ptr<float>() + r * row,
                 static_cast<char*>(out.data()) + dtype_bytes(t, row) * r, row);
  return out;
}

}  // namespace rlx::test
