// Dot kernels: vec_dot(weight row, quantized activation row) vs the double-precision dot of the
// two dequantized rows; AVX2 vs scalar reference; quant_matmul_rows; a rough speed report.
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "rlx/core/half.h"
#include "rlx/core/quant.h"

namespace rlx {
namespace {

const DType kWeightTypes[] = {DType::F32,  DType::F16,    DType::BF16,   DType::Q4_0,
                              DType::Q4_1, DType::Q5_0,   DType::Q5_1,   DType::Q8_0,
                              DType::Q2_K, DType::Q3_K,   DType::Q4_K,   DType::Q5_K,
                              DType::Q6_K, DType::IQ4_NL, DType::IQ4_XS, DType::MXFP4};

std::vector<float> random_row(int64_t n, uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.f, scale);
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = dist(rng);
  return x;
}

struct Case {
  std::vector<uint8_t> w, a;
  double exact = 0, abs_sum = 0;  // dot and sum |w_i a_i| of the dequantized rows, in double
};

Case make_case(DType t, int64_t n, uint32_t seed) {
  const QuantTraits& tr = quant_traits(t);
  Case c;
  auto wf = random_row(n, seed, 0.02f);
  auto af = random_row(n, seed + 1000, 1.5f);
  af[3] = 0.f;  // a zero, and an outlier like real activations have
  af[7] = 40.f;
  c.w.resize(size_t(dtype_bytes(t, n)));
  c.a.resize(size_t(dtype_bytes(tr.vec_dot_type, n)));
  quantize_row(t, wf.data(), c.w.data(), n);
  quantize_activation_row(tr.vec_dot_type, af.data(), c.a.data(), n);
  std::vector<float> wd(static_cast<size_t>(n)), ad(static_cast<size_t>(n));
  dequantize_row(t, c.w.data(), wd.data(), n);
  dequantize_row(tr.vec_dot_type, c.a.data(), ad.data(), n);
  for (int64_t i = 0; i < n; ++i) {
    c.exact += double(wd[size_t(i)]) * double(ad[size_t(i)]);
    c.abs_sum += std::fabs(double(wd[size_t(i)]) * double(ad[size_t(i)]));
  }
  if (tr.vec_dot_type == DType::Q8_1) {
    // Q4_1/Q5_1 . Q8_1 uses the block's stored s = fp16(d * sum q) for the weight minimum's
    // term (as ggml does); account for the fp16 rounding of s, which the dequantized rows miss.
    const int64_t wbytes = dtype_info(t).block_bytes;
    for (int64_t b = 0; b < n / 32; ++b) {
      const uint8_t* ab = c.a.data() + 36 * b;
      uint16_t dh, sh, mh;
      std::memcpy(&dh, ab, 2);
      std::memcpy(&sh, ab + 2, 2);
      std::memcpy(&mh, c.w.data() + wbytes * b + 2, 2);
      int sum = 0;
      for (int j = 0; j < 32; ++j) sum += int8_t(ab[4 + j]);
      c.exact +=
          double(f16_to_f32(mh)) * (double(f16_to_f32(sh)) - double(f16_to_f32(dh)) * double(sum));
    }
  }
  return c;
}

TEST(VecDot, MatchesDequantizedDotInDouble) {
  for (DType t : kWeightTypes) {
    SCOPED_TRACE(dtype_name(t));
    const QuantTraits& tr = quant_traits(t);
    ASSERT_NE(tr.vec_dot, nullptr);
    ASSERT_NE(reference_vec_dot(t), nullptr);
    for (int64_t n : {256, 512, 4096}) {
      for (uint32_t seed : {1u, 2u, 3u}) {
        Case c = make_case(t, n, seed);
        const double tol = 1e-5 * c.abs_sum;
        EXPECT_NEAR(tr.vec_dot(c.w.data(), c.a.data(), n), c.exact, tol) << "n=" << n;
        EXPECT_NEAR(reference_vec_dot(t)(c.w.data(), c.a.data(), n), c.exact, tol) << "n=" << n;
      }
    }
  }
}

// The SIMD kernels compute the same per-block integers and float steps as the scalar ones:
// block formats agree bit for bit; plain float types to rounding.
TEST(VecDot, SimdAgreesWithScalar) {
  for (DType t : kWeightTypes) {
    SCOPED_TRACE(dtype_name(t));
    for (uint32_t seed = 10; seed < 20; ++seed) {
      const int64_t n = 1024;
      Case c = make_case(t, n, seed);
      const float fast = quant_traits(t).vec_dot(c.w.data(), c.a.data(), n);
      const float ref = reference_vec_dot(t)(c.w.data(), c.a.data(), n);
      if (is_quantized(t))
        EXPECT_EQ(fast, ref);
      else
        EXPECT_NEAR(fast, ref, 1e-6 * c.abs_sum);
    }
  }
}

TEST(VecDot, MatmulRows) {
  const int64_t rows = 5, k = 512;
  for (DType t : {DType::Q4_K, DType::Q8_0, DType::F16}) {
    SCOPED_TRACE(dtype_name(t));
    const DType vt = quant_traits(t).vec_dot_type;
    auto wf = random_row(rows * k, 5, 0.02f);
    auto xf = random_row(k, 6, 1.f);
    std::vector<uint8_t> w(size_t(dtype_bytes(t, rows * k))), x(size_t(dtype_bytes(vt, k)));
    for (int64_t r = 0; r < rows; ++r)
      quantize_row(t, wf.data() + r * k, w.data() + r * dtype_bytes(t, k), k);
    quantize_activation_row(vt, xf.data(), x.data(), k);
    std::vector<float> y(static_cast<size_t>(rows));
    quant_matmul_rows(t, w.data(), rows, k, x.data(), y.data());
    for (int64_t r = 0; r < rows; ++r)
      EXPECT_EQ(y[size_t(r)],
                quant_traits(t).vec_dot(w.data() + r * dtype_bytes(t, k), x.data(), k));
  }
  EXPECT_THROW(quant_matmul_rows(DType::IQ2_XXS, nullptr, 1, 256, nullptr, nullptr),
               std::exception);
}

// vec_dot_rows gives vec_dot's results bit for bit, for any row count (the multi-row kernels
// take rows in groups, with a remainder) and for row strides that are not the row size.
TEST(VecDot, RowsMatchSingleRow) {
  for (DType t : kWeightTypes) {
    SCOPED_TRACE(dtype_name(t));
    const QuantTraits& tr = quant_traits(t);
    ASSERT_NE(tr.vec_dot_rows, nullptr);
    for (int64_t k : {256, 1024}) {
      const int64_t rb = dtype_bytes(t, k);
      for (int64_t stride : {rb, rb + 8}) {  // +8 keeps 16/32-bit rows aligned
        const int max_rows = 19;
        std::vector<uint8_t> w(size_t(stride * max_rows));
        for (int r = 0; r < max_rows; ++r) {
          auto wf = random_row(k, 100 + uint32_t(r), 0.02f);
          quantize_row(t, wf.data(), w.data() + r * stride, k);
        }
        auto xf = random_row(k, 99, 1.5f);
        xf[5] = 30.f;
        std::vector<uint8_t> x(size_t(dtype_bytes(tr.vec_dot_type, k)));
        quantize_activation_row(tr.vec_dot_type, xf.data(), x.data(), k);
        for (int nrows : {1, 2, 3, 4, 5, 7, 8, 9, 13, 16, 17, 19}) {
          std::vector<float> y(size_t(nrows), -1.f);
          tr.vec_dot_rows(w.data(), size_t(stride), nrows, x.data(), k, y.data());
          for (int r = 0; r < nrows; ++r)
            EXPECT_EQ(y[size_t(r)], tr.vec_dot(w.data() + r * stride, x.data(), k))
                << "k=" << k << " stride=" << stride << " nrows=" << nrows << " row " << r;
        }
      }
    }
  }
}

// Not a pass/fail test: one-thread throughput of vec_dot over a 4096 x 4096 weight matrix
// (larger than the caches), SIMD vs scalar.
TEST(VecDot, SpeedReport) {
  const int64_t k = 4096, rows = 1024;
  std::printf("%-7s %10s %10s %9s\n", "type", "simd GB/s", "ref GB/s", "speedup");
  for (DType t : kWeightTypes) {
    const DType vt = quant_traits(t).vec_dot_type;
    auto wf = random_row(k, 1, 0.02f);
    std::vector<uint8_t> row(size_t(dtype_bytes(t, k)));
    quantize_row(t, wf.data(), row.data(), k);
    std::vector<uint8_t> w;
    for (int64_t r = 0; r < rows; ++r) w.insert(w.end(), row.begin(), row.end());
    auto xf = random_row(k, 2, 1.f);
    std::vector<uint8_t> x(size_t(dtype_bytes(vt, k)));
    quantize_activation_row(vt, xf.data(), x.data(), k);
    std::vector<float> y(static_cast<size_t>(rows));
    auto time = [&](VecDotFn f) {
      double best = 1e30;
      for (int rep = 0; rep < 3; ++rep) {
        auto t0 = std::chrono::steady_clock::now();
        for (int64_t r = 0; r < rows; ++r) y[size_t(r)] = f(w.data() + r * row.size(), x.data(), k);
        best = std::min(
            best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
      }
      return double(w.size()) / best / 1e9;
    };
    const double fast = time(quant_traits(t).vec_dot), ref = time(reference_vec_dot(t));
    std::printf("%-7s %10.2f %10.2f %8.1fx\n", dtype_name(t), fast, ref, fast / ref);
  }
}

}  // namespace
}  // namespace rlx
