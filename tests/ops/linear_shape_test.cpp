#include "ops/op_test_util.h"
#include "rlx/core/half.h"
#include "rlx/core/quant.h"

namespace rlx::test {
namespace {

using ir::GraphBuilder;
using ir::Value;

// Converts an F32 tensor into dtype t (rows quantized), keeping the shape.
Tensor convert(const Tensor& x, DType t) {
  Tensor y = Tensor::empty(t, x.shape());
  int64_t row = x.shape().back();
  for (int64_t r = 0; r < x.numel() / row; ++r)
    quantize_row(t, x.ptr<float>() + r * row,
                 static_cast<char*>(y.data()) + dtype_bytes(t, r * row), row);
  return y;
}

TEST(OpLinear, WeightDtypesMatchDequantizedReference) {
  // M = 40 takes the packed-GEMM path (partial 6-row panels, partial 16-row strips); K = 300
  // spans two K blocks with a tail that is not a multiple of 8.
  const std::pair<DType, int64_t> cases[] = {
      {DType::F32, 64},  {DType::F32, 300},  {DType::F16, 64},  {DType::BF16, 64},
      {DType::Q8_0, 64}, {DType::Q4_K, 512}, {DType::Q6_K, 512}};
  for (auto [wt, K] : cases)
    for (int64_t M : {1, 5, 40}) {
      const int64_t N = 37;
      Tensor x = random_tensor({M, K}, 40), w32 = random_tensor({N, K}, 41),
             bias = random_tensor({N}, 42);
      Tensor w = convert(w32, wt);
      Tensor wd = to_f32(w.view());  // the reference uses exactly the stored weights
      ir::Graph g;
      GraphBuilder b(g);
      Value xi = b.input("x", DType::F32, {M, K});
      b.output("y", b.linear(xi, b.param("w", w.view()), b.param("b", bias.view())));
      Program p = Program::compile(g, {});
      Tensor y = p.run({{"x", x.view()}}).at("y");
      // Half-precision and block weights also convert the activations to the dot kernel's
      // format (F16, BF16 or 8-bit blocks, as llama.cpp does); the reference does the same.
      Tensor xr = x;
      const QuantTraits& qt = quant_traits(wt);
      if (wt != DType::F32 && qt.vec_dot) xr = to_f32(convert(x, qt.vec_dot_type).view());
      auto xd = to_double(xr), wdd = to_double(wd), bd = to_double(bias);
      std::vector<double> want;
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) {
          double s = bd[size_t(n)];
          for (int64_t kk = 0; kk < K; ++kk) s += xd[size_t(m * K + kk)] * wdd[size_t(n * K + kk)];
          want.push_back(s);
        }
      double tol = 1e-4;
      expect_close(y, want, tol,
                   std::string("linear ") + dtype_name(wt) + " M=" + std::to_string(M) +
                       " K=" + std::to_string(K));
    }
}

TEST(OpEmbedding, GathersRowsOfAnyDtype) {
  for (DType t : {DType::F32, DType::F16, DType::Q8_0}) {
    Tensor table32 = random_tensor({10, 32}, 50);
    Tensor table = convert(table32, t);
    Tensor ids = Tensor::empty(DType::I32, {2, 3});
    std::vector<int32_t> iv = {0, 9, 3, 3, 5, 1};
    for (int i = 0; i < 6; ++i) ids.ptr<int32_t>()[i] = iv[size_t(i)];
    ir::Graph g;
    GraphBuilder b(g);
    b.output("y", b.embedding(b.param("t", table.view()), b.input("ids", DType::I32, {2, 3})));
    Program p = Program::compile(g, {});
    Tensor y = p.run({{"ids", ids.view()}}).at("y");
    EXPECT_EQ(y.shape(), (Shape{2, 3, 32}));
    auto td = to_double(to_f32(table.view()));
    std::vector<double> want;
    for (int32_t id : iv)
      for (int j = 0; j < 32; ++j) want.push_back(td[size_t(id * 32 + j)]);
    expect_close(y, want, 0, std::string("embedding ") + dtype_name(t));
    ids.ptr<int32_t>()[0] = 10;
    EXPECT_THROW(p.run({{"ids", ids.view()}}), Error);
  }
}

TEST(OpMatMul, BatchedAndTransposed) {
  for (bool tb : {false, true}) {
    Tensor a = random_tensor({2, 3, 5}, 60),
           bm = tb ? random_tensor({2, 4, 5}, 61) : random_tensor({2, 5, 4}, 61);
    Tensor y = run_graph({{"a", a}, {"b", bm}}, [&](GraphBuilder& g, std::vector<Value>& v) {
      return g.matmul(v[0], v[1], tb);
    });
    auto ad = to_double(a), bd = to_double(bm);
    std::vector<double> want;
    for (int bi = 0; bi < 2; ++bi)
      for (int m = 0; m < 3; ++m)
        for (int n = 0; n < 4; ++n) {
          double s = 0;
          for (int k = 0; k < 5; ++k)
            s += ad[size_t((bi * 3 + m) * 5 + k)] *
                 bd[size_t(tb ? (bi * 4 + n) * 5 + k : (bi * 5 + k) * 4 + n)];
          want.push_back(s);
        }
    expect_close(y, want, 1e-5, tb ? "matmul transposed" : "matmul");
  }
}

TEST(OpShape, ViewsCopiesConcatPad) {
  Tensor x = random_tensor({2, 3, 4}, 70);
  auto xd = to_double(x);
  // slice with step of a permuted view, then reshape (needs a materializing copy)
  Tensor y = run_graph({{"x", x}}, [](GraphBuilder& b, std::vector<Value>& v) {
    Value p = b.permute(v[0], {2, 0, 1});  // [4, 2, 3]
    Value s = b.slice(p, 0, 1, 4, 2);      // rows 1 and 3: [2, 2, 3]
    return b.reshape(s, {4, 3});
  });
  std::vector<double> want;
  for (int i : {1, 3})
    for (int a = 0; a < 2; ++a)
      for (int c = 0; c < 3; ++c) want.push_back(xd[size_t((a * 3 + c) * 4 + i)]);
  expect_close(y, want, 0, "permute/slice/reshape");

  Tensor z = run_graph({{"x", x}}, [](GraphBuilder& b, std::vector<Value>& v) {
    return b.concat({v[0], b.slice(v[0], 1, 0, 2)}, 1);  // [2, 5, 4]
  });
  want.clear();
  for (int a = 0; a < 2; ++a) {
    for (int c = 0; c < 3; ++c)
      for (int d = 0; d < 4; ++d) want.push_back(xd[size_t((a * 3 + c) * 4 + d)]);
    for (int c = 0; c < 2; ++c)
      for (int d = 0; d < 4; ++d) want.push_back(xd[size_t((a * 3 + c) * 4 + d)]);
  }
  expect_close(z, want, 0, "concat");

  for (auto mode : {ir::PadMode::Zero, ir::PadMode::Reflect}) {
    Tensor p = run_graph({{"x", x}}, [&](GraphBuilder& b, std::vector<Value>& v) {
      return b.pad(v[0], 2, 2, 3, mode);
    });
    want.clear();
    for (int r = 0; r < 6; ++r)
      for (int j = -2; j < 7; ++j) {
        int i = j;
        if (mode == ir::PadMode::Reflect) i = j < 0 ? -j : j > 3 ? 6 - j : j;
        want.push_back(i < 0 || i > 3 ? 0.0 : xd[size_t(r * 4 + i)]);
      }
    expect_close(p, want, 0, mode == ir::PadMode::Zero ? "pad zero" : "pad reflect");
  }
}

TEST(OpConv1d, StridePaddingDilationGroups) {
  struct Case {
    int64_t cin, cout, k, stride, pad, dil, groups, len;
  };
  for (auto c : {Case{3, 4, 3, 1, 1, 1, 1, 17}, Case{4, 6, 5, 2, 2, 1, 2, 33},
                 Case{2, 2, 3, 3, 0, 2, 2, 20}, Case{1, 8, 256, 128, 0, 1, 1, 640}}) {
    Tensor x = random_tensor({2, c.cin, c.len}, 80),
           w = random_tensor({c.cout, c.cin / c.groups, c.k}, 81),
           bias = random_tensor({c.cout}, 82);
    ir::Graph g;
    GraphBuilder b(g);
    b.output("y", b.conv1d(b.input("x", DType::F32, x.shape()), b.param("w", w.view()),
                           b.param("b", bias.view()), c.stride, c.pad, c.dil, c.groups));
    Program p = Program::compile(g, {});
    Tensor y = p.run({{"x", x.view()}}).at("y");
    int64_t lout = y.shape()[2], cg = c.cin / c.groups, opg = c.cout / c.groups;
    auto xd = to_double(x), wd = to_double(w), bd = to_double(bias);
    std::vector<double> want;
    for (int64_t bi = 0; bi < 2; ++bi)
      for (int64_t o = 0; o < c.cout; ++o)
        for (int64_t t = 0; t < lout; ++t) {
          double s = bd[size_t(o)];
          for (int64_t ci = 0; ci < cg; ++ci)
            for (int64_t kk = 0; kk < c.k; ++kk) {
              int64_t i = t * c.stride + kk * c.dil - c.pad;
              if (i >= 0 && i < c.len)
                s += wd[size_t((o * cg + ci) * c.k + kk)] *
                     xd[size_t((bi * c.cin + (o / opg) * cg + ci) * c.len + i)];
            }
          want.push_back(s);
        }
    expect_close(y, want, 1e-4, "conv1d k=" + std::to_string(c.k));
  }
}

TEST(OpReduce, SumMeanMaxArgmax) {
  Tensor x = random_tensor({3, 4, 5}, 90);
  auto xd = to_double(x);
  for (int axis : {0, 1, 2}) {
    for (auto op : {ir::OpKind::ReduceSum, ir::OpKind::ReduceMean, ir::OpKind::ReduceMax}) {
      Tensor y = run_graph({{"x", x}}, [&](GraphBuilder& b, std::vector<Value>& v) {
        return b.reduce(op, v[0], axis, true);
      });
      Shape s = x.shape();
      s[axis] = 1;
      EXPECT_EQ(y.shape(), s);
      std::vector<double> want;
      for (int64_t f = 0; f < s.numel(); ++f) {
        std::vector<int64_t> idx = {f / (s[1] * s[2]), (f / s[2]) % s[1], f % s[2]};
        double acc = op == ir::OpKind::ReduceMax ? -1e300 : 0;
        for (int64_t j = 0; j < x.shape()[axis]; ++j) {
          idx[size_t(axis)] = j;
          double e = xd[size_t(flat(x.shape(), idx))];
          acc = op == ir::OpKind::ReduceMax ? std::max(acc, e) : acc + e;
        }
        if (op == ir::OpKind::ReduceMean) acc /= double(x.shape()[axis]);
        want.push_back(acc);
      }
      expect_close(y, want, 1e-6, std::string(ir::op_name(op)) + " axis " + std::to_string(axis));
    }
  }
  Tensor am = run_graph({{"x", x}},
                        [](GraphBuilder& b, std::vector<Value>& v) { return b.argmax(v[0], -1); });
  for (int64_t r = 0; r < 12; ++r) {
    int64_t best = 0;
    for (int64_t j = 1; j < 5; ++j)
      if (xd[size_t(r * 5 + j)] > xd[size_t(r * 5 + best)]) best = j;
    EXPECT_EQ(am.ptr<int32_t>()[r], best);
  }
}

TEST(OpBuilder, ShapeErrorsNameOpAndShapes) {
  ir::Graph g;
  GraphBuilder b(g);
  Value x = b.input("x", DType::F32, {2, 3});
  Value w = b.input("w", DType::F32, {4, 5});
  try {
    b.linear(x, w);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("linear"), std::string::npos) << m;
    EXPECT_NE(m.find("[2, 3]"), std::string::npos) << m;
    EXPECT_NE(m.find("[4, 5]"), std::string::npos) << m;
  }
  EXPECT_THROW(b.add(x, b.input("y", DType::F32, {4})), Error);
  EXPECT_THROW(b.reshape(x, {7}), Error);
}

TEST(Runtime, DeadNodesDroppedAndArenaReused) {
  ir::Graph g;
  GraphBuilder b(g);
  Value x = b.input("x", DType::F32, {1024});
  Value h = x;
  for (int i = 0; i < 10; ++i) h = b.silu(h);
  b.exp(x);  // dead
  b.output("y", h);
  Program p = Program::compile(g, {});
  EXPECT_EQ(p.step_count(), 10u);
  // A chain needs at most two live buffers at a time.
  EXPECT_LE(p.arena_bytes(), 2 * 1024 * 4);
}

}  // namespace
}  // namespace rlx::test
