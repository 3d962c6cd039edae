#include "ops/op_test_util.h"

namespace rlx::test {
namespace {

using ir::GraphBuilder;
using ir::OpKind;
using ir::Value;

double ref_unary(OpKind op, double x, const ir::Attrs& at) {
  switch (op) {
    case OpKind::Silu:
      return x / (1 + std::exp(-x));
    case OpKind::GeluErf:
      return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
    case OpKind::GeluTanh:
      return 0.5 * x * (1 + std::tanh(std::sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
    case OpKind::Relu:
      return x > 0 ? x : 0;
    case OpKind::Sigmoid:
      return 1 / (1 + std::exp(-x));
    case OpKind::Tanh:
      return std::tanh(x);
    case OpKind::Exp:
      return std::exp(x);
    case OpKind::Log:
      return std::log(x);
    case OpKind::Softplus:
      return std::log1p(std::exp(x));
    case OpKind::Sqrt:
      return std::sqrt(x);
    case OpKind::Abs:
      return std::fabs(x);
    case OpKind::Neg:
      return -x;
    case OpKind::Pow:
      return std::pow(x, double(at.exponent));
    default:
      return NAN;
  }
}

TEST(OpUnary, EveryUnaryOpMatchesReference) {
  const std::vector<OpKind> ops = {
      OpKind::Silu, OpKind::GeluErf, OpKind::GeluTanh, OpKind::Relu,     OpKind::Sigmoid,
      OpKind::Tanh, OpKind::Exp,     OpKind::Log,      OpKind::Softplus, OpKind::Sqrt,
      OpKind::Abs,  OpKind::Neg,     OpKind::Pow};
  for (auto shape : {Shape{7}, Shape{3, 33}, Shape{2, 5, 129}}) {
    for (OpKind op : ops) {
      bool positive = op == OpKind::Log || op == OpKind::Sqrt || op == OpKind::Pow;
      Tensor x = random_tensor(shape, 1, positive ? 0.1f : -4.f, 4.f);
      Tensor y = run_graph({{"x", x}}, [&](GraphBuilder& b, std::vector<Value>& v) {
        return op == OpKind::Pow ? b.pow(v[0], 1.7f) : b.unary(op, v[0]);
      });
      ir::Attrs at;
      at.exponent = 1.7f;
      std::vector<double> want;
      for (double e : to_double(x)) want.push_back(ref_unary(op, e, at));
      expect_close(y, want, 1e-4, std::string(ir::op_name(op)) + " " + shape.str());
    }
  }
}

// The vectorized SiLU over the whole float range that matters, including where e^-x
// underflows or saturates (|x| around 87-89).
TEST(OpUnary, SiluWideRange) {
  const int64_t n = 803;
  Tensor x = Tensor::empty(DType::F32, {n});
  for (int64_t i = 0; i < n; ++i) x.ptr<float>()[i] = -100.f + 0.25f * float(i);
  x.ptr<float>()[5] = -88.7f, x.ptr<float>()[6] = 88.7f, x.ptr<float>()[7] = -87.1f;
  Tensor y = run_graph({{"x", x}}, [&](GraphBuilder& b, std::vector<Value>& v) {
    return b.unary(OpKind::Silu, v[0]);
  });
  for (int64_t i = 0; i < n; ++i) {
    const double v = x.ptr<float>()[i], want = v / (1.0 + std::exp(-v));
    EXPECT_NEAR(y.ptr<float>()[i], want, 4e-7 * std::fabs(want) + 1e-30) << "x = " << v;
  }
}

TEST(OpUnary, ScaleAndStridedInput) {
  Tensor x = random_tensor({4, 6}, 2);
  // y = scale(transpose(x)): the kernel reads a non-contiguous view.
  Tensor y = run_graph({{"x", x}}, [](GraphBuilder& b, std::vector<Value>& v) {
    return b.scale(b.transpose(v[0], 0, 1), 2.5f, -1.f);
  });
  auto xd = to_double(x);
  std::vector<double> want;
  for (int j = 0; j < 6; ++j)
    for (int i = 0; i < 4; ++i) want.push_back(xd[size_t(i * 6 + j)] * 2.5 - 1.0);
  expect_close(y, want, 1e-6, "scale of transpose");
}

TEST(OpBinary, BroadcastingAndNonContiguous) {
  struct Case {
    Shape a, b;
  };
  for (auto c : {Case{{3, 5}, {3, 5}}, Case{{3, 5}, {5}}, Case{{2, 3, 5}, {3, 1}},
                 Case{{1, 5}, {4, 1}}, Case{{2, 1, 7}, {1, 3, 7}}}) {
    Tensor a = random_tensor(c.a, 3), b = random_tensor(c.b, 4, 0.5f, 2.f);
    for (OpKind op : {OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Div}) {
      Tensor y = run_graph({{"a", a}, {"b", b}}, [&](GraphBuilder& g, std::vector<Value>& v) {
        switch (op) {
          case OpKind::Add:
            return g.add(v[0], v[1]);
          case OpKind::Sub:
            return g.sub(v[0], v[1]);
          case OpKind::Mul:
            return g.mul(v[0], v[1]);
          default:
            return g.div(v[0], v[1]);
        }
      });
      // Reference with explicit broadcasting.
      const Shape& s = y.shape();
      auto ad = to_double(a), bd = to_double(b);
      std::vector<double> want(size_t(s.numel()));
      std::vector<int64_t> idx(size_t(s.rank()));
      for (int64_t f = 0; f < s.numel(); ++f) {
        int64_t r = f;
        for (int d = s.rank() - 1; d >= 0; --d) idx[size_t(d)] = r % s[d], r /= s[d];
        auto pick = [&](const Shape& in) {
          std::vector<int64_t> j;
          for (int d = 0; d < in.rank(); ++d) {
            int64_t sd = idx[size_t(d + s.rank() - in.rank())];
            j.push_back(in[d] == 1 ? 0 : sd);
          }
          return flat(in, j);
        };
        double x = ad[size_t(pick(c.a))], z = bd[size_t(pick(c.b))];
        want[size_t(f)] = op == OpKind::Add   ? x + z
                          : op == OpKind::Sub ? x - z
                          : op == OpKind::Mul ? x * z
                                              : x / z;
      }
      expect_close(y, want, 1e-6, std::string(ir::op_name(op)) + " " + c.a.str() + " " + c.b.str());
    }
  }
  // Non-contiguous operand: a permuted view.
  Tensor a = random_tensor({4, 3}, 5), b = random_tensor({3, 4}, 6);
  Tensor y = run_graph({{"a", a}, {"b", b}}, [](GraphBuilder& g, std::vector<Value>& v) {
    return g.add(g.permute(v[0], {1, 0}), v[1]);
  });
  auto ad = to_double(a), bd = to_double(b);
  std::vector<double> want;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 4; ++j) want.push_back(ad[size_t(j * 3 + i)] + bd[size_t(i * 4 + j)]);
  expect_close(y, want, 1e-6, "add(permute)");
}

TEST(OpCast, RoundTripsThroughHalfTypesAndInts) {
  Tensor x = random_tensor({3, 9}, 7, -100.f, 100.f);
  for (DType t : {DType::F16, DType::BF16, DType::I32}) {
    Tensor y = run_graph({{"x", x}}, [&](GraphBuilder& b, std::vector<Value>& v) {
      return b.cast(b.cast(v[0], t), DType::F32);
    });
    auto xd = to_double(x);
    double tol = t == DType::F16 ? 0.05 : t == DType::BF16 ? 0.5 : 1.0;
    expect_close(y, xd, tol, std::string("cast via ") + dtype_name(t));
  }
}

}  // namespace
}  // namespace rlx::test
