// The planner lets an elementwise step write over an input that dies at that step; the results
// must not change, and an input still needed later must keep its own memory.
#include <cmath>

#include "ops/op_test_util.h"

namespace rlx::test {
namespace {

using ir::GraphBuilder;
using ir::Value;

constexpr int64_t kRows = 64, kCols = 256;  // 64 KiB per F32 buffer
constexpr int64_t kBuffer = kRows * kCols * 4;

double silu(double v) {
  return v / (1.0 + std::exp(-v));
}

TEST(ArenaSharing, ElementwiseChainReusesDyingInputs) {
  // g = 2x, u = x + 1, s = silu(g), m = s * u: s can take g's memory and m s's, so the arena
  // holds two buffers (g/s/m and u) instead of three (s, u and m are live together at the mul).
  Tensor x = random_tensor({kRows, kCols}, 7);
  ir::Graph g;
  GraphBuilder b(g);
  Value xi = b.input("x", DType::F32, {kRows, kCols});
  Value gate = b.scale(xi, 2.f), up = b.scale(xi, 1.f, 1.f);
  b.output("y", b.mul(b.silu(gate), up));
  Program p = Program::compile(g, {});
  EXPECT_LE(p.arena_bytes(), 2 * kBuffer);
  Tensor y = p.run({{"x", x.view()}}).at("y");
  auto xd = to_double(x);
  std::vector<double> want;
  for (double v : xd) want.push_back(silu(2 * v) * (v + 1));
  expect_close(y, want, 1e-6, "silu(2x) * (x + 1)");
}

TEST(ArenaSharing, InputUsedLaterKeepsItsMemory) {
  // e = exp(g) must not overwrite g: g is read again by the final add.
  Tensor x = random_tensor({kRows, kCols}, 8);
  ir::Graph g;
  GraphBuilder b(g);
  Value gate = b.scale(b.input("x", DType::F32, {kRows, kCols}), 0.5f);
  Value e = b.exp(gate);
  b.output("y", b.add(b.mul(e, e), gate));
  Program p = Program::compile(g, {});
  Tensor y = p.run({{"x", x.view()}}).at("y");
  std::vector<double> want;
  for (double v : to_double(x)) want.push_back(std::exp(v) + 0.5 * v);
  expect_close(y, want, 1e-5, "exp(x/2)^2 + x/2");
}

TEST(ArenaSharing, BroadcastOperandIsNotOverwritten) {
  // bias [1, C] broadcasts over rows: too small to hold the output, so only the full-size
  // operand may be shared.
  Tensor x = random_tensor({kRows, kCols}, 9), c = random_tensor({1, kCols}, 10);
  ir::Graph g;
  GraphBuilder b(g);
  Value xs = b.scale(b.input("x", DType::F32, {kRows, kCols}), 3.f);
  Value cs = b.scale(b.input("c", DType::F32, {1, kCols}), 1.f);
  b.output("y", b.sub(cs, xs));
  Program p = Program::compile(g, {});
  Tensor y = p.run({{"x", x.view()}, {"c", c.view()}}).at("y");
  auto xd = to_double(x), cd = to_double(c);
  std::vector<double> want;
  for (int64_t i = 0; i < kRows * kCols; ++i)
    want.push_back(cd[size_t(i % kCols)] - 3 * xd[size_t(i)]);
  expect_close(y, want, 1e-6, "c - 3x");
}

}  // namespace
}  // namespace rlx::test
