// Quantizer quality and exactness: rlx's quantization of every 2-D tensor of tiny-qwen3-F32
// vs the llama-quantize output for the same type (RMSE ratio <= 1.05; in fact every type
// matches llama.cpp byte for byte), plus round-trip bounds for the activation formats.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "rlx/core/half.h"
#include "rlx/core/quant.h"
#include "rlx/io/gguf.h"
#include "support/test_data.h"

namespace rlx {
namespace {

std::string gguf_path(const std::string& type) {
  return test::require_file(test::shared_fixtures_dir() + "/gguf/tiny-qwen3-" + type + ".gguf");
}

struct TypeResult {
  double rlx_se = 0, ref_se = 0;
  int64_t count = 0;
  int tensors = 0, identical = 0;
};

TypeResult compare_with_llama(const std::string& file_type, DType t) {
  auto f32 = io::GgufFile::open(gguf_path("F32"));
  auto ref = io::GgufFile::open(gguf_path(file_type));
  TypeResult res;
  for (const auto& info : f32.tensors()) {
    if (info.shape.rank() != 2) continue;
    const auto* rinfo = ref.find_tensor(info.name);
    EXPECT_NE(rinfo, nullptr) << info.name;
    if (!rinfo) continue;
    EXPECT_EQ(rinfo->dtype, t) << info.name;
    const int64_t k = info.shape.back(), n = info.shape.numel(), rows = n / k;
    const float* x = f32.tensor_view(info).ptr<float>();
    const int64_t rb = dtype_bytes(t, k);
    std::vector<uint8_t> q(size_t(rb * rows));
    std::vector<float> mine(static_cast<size_t>(n)), theirs(static_cast<size_t>(n));
    for (int64_t r = 0; r < rows; ++r) {
      quantize_row(t, x + r * k, q.data() + r * rb, k);
      dequantize_row(t, q.data() + r * rb, mine.data() + r * k, k);
    }
    const auto* refq = static_cast<const uint8_t*>(ref.tensor_view(*rinfo).data);
    for (int64_t r = 0; r < rows; ++r) dequantize_row(t, refq + r * rb, theirs.data() + r * k, k);
    res.tensors++;
    if (std::memcmp(q.data(), refq, q.size()) == 0) res.identical++;
    for (int64_t i = 0; i < n; ++i) {
      res.rlx_se += (double(mine[i]) - x[i]) * (double(mine[i]) - x[i]);
      res.ref_se += (double(theirs[i]) - x[i]) * (double(theirs[i]) - x[i]);
    }
    res.count += n;
  }
  return res;
}

TEST(Quantize, RmseWithinFivePercentOfLlamaCpp) {
  const std::pair<const char*, DType> types[] = {
      {"Q4_0", DType::Q4_0}, {"Q4_1", DType::Q4_1},     {"Q5_0", DType::Q5_0},
      {"Q5_1", DType::Q5_1}, {"Q8_0", DType::Q8_0},     {"Q2_K", DType::Q2_K},
      {"Q3_K", DType::Q3_K}, {"Q4_K", DType::Q4_K},     {"Q5_K", DType::Q5_K},
      {"Q6_K", DType::Q6_K}, {"IQ4_NL", DType::IQ4_NL}, {"IQ4_XS", DType::IQ4_XS}};
  std::printf("%-7s %12s %14s %8s %s\n", "type", "rlx RMSE", "llama.cpp RMSE", "ratio",
              "bit-identical tensors");
  for (const auto& [name, t] : types) {
    SCOPED_TRACE(name);
    TypeResult r = compare_with_llama(name, t);
    const double rlx = std::sqrt(r.rlx_se / double(r.count));
    const double ref = std::sqrt(r.ref_se / double(r.count));
    std::printf("%-7s %12.6e %14.6e %8.5f %d/%d\n", name, rlx, ref, rlx / ref, r.identical,
                r.tensors);
    EXPECT_EQ(r.tensors, 16);
    EXPECT_LE(rlx, 1.05 * ref);
    // Stronger than the brief asks: rlx reproduces llama-quantize (no imatrix) byte for byte.
    EXPECT_EQ(r.identical, r.tensors);
  }
}

// MXFP4 has no llama-quantize fixture (its byte equality with gguf-py is in dequant_test);
// report its RMSE on the same tensors for the table.
TEST(Quantize, Mxfp4Rmse) {
  auto f32 = io::GgufFile::open(gguf_path("F32"));
  double se = 0;
  int64_t count = 0;
  for (const auto& info : f32.tensors()) {
    if (info.shape.rank() != 2) continue;
    const int64_t n = info.shape.numel();
    const float* x = f32.tensor_view(info).ptr<float>();
    std::vector<uint8_t> q(size_t(dtype_bytes(DType::MXFP4, n)));
    std::vector<float> y(static_cast<size_t>(n));
    quantize_row(DType::MXFP4, x, q.data(), n);
    dequantize_row(DType::MXFP4, q.data(), y.data(), n);
    for (int64_t i = 0; i < n; ++i) se += (double(y[i]) - x[i]) * (double(y[i]) - x[i]);
    count += n;
  }
  const double rmse = std::sqrt(se / double(count));
  std::printf("MXFP4   %12.6e\n", rmse);
  EXPECT_LT(rmse, 0.2 * 0.02);  // weights are N(0, 0.02); 4-bit error is a small fraction
}

std::vector<float> random_row(int64_t n, uint32_t seed, float scale = 1.f) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.f, scale);
  std::vector<float> x(static_cast<size_t>(n));
  for (auto& v : x) v = dist(rng);
  return x;
}

TEST(Quantize, Q8_1RoundTripAndSum) {
  const int64_t n = 512;
  auto x = random_row(n, 1);
  x[5] = 0;  // and a zero block
  for (int j = 64; j < 96; ++j) x[size_t(j)] = 0;
  for (bool activation : {false, true}) {
    std::vector<uint8_t> q(size_t(dtype_bytes(DType::Q8_1, n)));
    if (activation)
      quantize_activation_row(DType::Q8_1, x.data(), q.data(), n);
    else
      quantize_row(DType::Q8_1, x.data(), q.data(), n);
    std::vector<float> y(static_cast<size_t>(n));
    dequantize_row(DType::Q8_1, q.data(), y.data(), n);
    for (int64_t b = 0; b < n / 32; ++b) {
      const uint8_t* blk = q.data() + b * 36;
      uint16_t dh, sh;
      std::memcpy(&dh, blk, 2);
      std::memcpy(&sh, blk + 2, 2);
      float amax = 0;
      int sum = 0;
      for (int j = 0; j < 32; ++j) {
        amax = std::max(amax, std::fabs(x[size_t(b * 32 + j)]));
        sum += int8_t(blk[4 + j]);
      }
      const float d = amax / 127.f;
      EXPECT_EQ(dh, f32_to_f16(d));
      EXPECT_EQ(sh, f32_to_f16(d * float(sum)));
      // Rounding error half a step, plus the fp16 rounding of d (relative 2^-11 of 127 d).
      for (int j = 0; j < 32; ++j)
        EXPECT_LE(std::fabs(y[size_t(b * 32 + j)] - x[size_t(b * 32 + j)]),
                  0.5f * d + 127.f * d * 0.0005f + 1e-12f);
    }
  }
}

TEST(Quantize, Q8_KRoundTripAndBsums) {
  const int64_t n = 1024;
  auto x = random_row(n, 2, 3.f);
  for (int j = 256; j < 512; ++j) x[size_t(j)] = 0;
  std::vector<uint8_t> q(size_t(dtype_bytes(DType::Q8_K, n)));
  quantize_activation_row(DType::Q8_K, x.data(), q.data(), n);
  std::vector<float> y(static_cast<size_t>(n));
  dequantize_row(DType::Q8_K, q.data(), y.data(), n);
  for (int64_t b = 0; b < n / 256; ++b) {
    const uint8_t* blk = q.data() + b * 292;
    float d;
    std::memcpy(&d, blk, 4);
    float amax = 0;
    for (int j = 0; j < 256; ++j) amax = std::max(amax, std::fabs(x[size_t(b * 256 + j)]));
    EXPECT_NEAR(std::fabs(d), amax / 127.f, 1e-6f * amax);
    for (int g = 0; g < 16; ++g) {
      int sum = 0;
      for (int j = 0; j < 16; ++j) sum += int8_t(blk[4 + 16 * g + j]);
      int16_t bs;
      std::memcpy(&bs, blk + 260 + 2 * g, 2);
      EXPECT_EQ(bs, sum);
    }
    for (int j = 0; j < 256; ++j)
      EXPECT_LE(std::fabs(y[size_t(b * 256 + j)] - x[size_t(b * 256 + j)]),
                0.5f * std::fabs(d) * 1.0001f + 1e-12f);
  }
}

// Q8_K exactly as ggml's quantize_row_q8_K_ref defines it (written out here, independently of
// rlx's kernels): scale from the first element of largest magnitude, iscale = -127/max,
// q = min(127, round-half-even(iscale * x)), d = 1/iscale, bsums per 16.
std::vector<uint8_t> q8_k_by_definition(const std::vector<float>& x) {
  std::vector<uint8_t> out(x.size() / 256 * 292, 0);
  for (size_t b = 0; b < x.size() / 256; ++b) {
    const float* v = x.data() + 256 * b;
    uint8_t* blk = out.data() + 292 * b;
    float max = 0, amax = 0;
    for (int j = 0; j < 256; ++j)
      if (std::fabs(v[j]) > amax) amax = std::fabs(v[j]), max = v[j];
    if (amax == 0) continue;
    const float iscale = -127.f / max;
    int8_t q[256];
    for (int j = 0; j < 256; ++j)
      q[j] = int8_t(std::min(127.f, std::nearbyint(iscale * v[j])));  // FE_TONEAREST: ties even
    const float d = 1 / iscale;
    std::memcpy(blk, &d, 4);
    std::memcpy(blk + 4, q, 256);
    for (int g = 0; g < 16; ++g) {
      int16_t sum = 0;
      for (int j = 0; j < 16; ++j) sum = int16_t(sum + q[16 * g + j]);
      std::memcpy(blk + 260 + 2 * g, &sum, 2);
    }
  }
  return out;
}

TEST(Quantize, Q8_KActivationsBitExact) {
  std::vector<float> x = random_row(4096, 7, 5.f);
  // Edge cases per 256-block: a magnitude tie of opposite signs (the first wins), an all-zero
  // block, exact half steps, and a block whose largest element is positive.
  x[256 + 3] = -9.f, x[256 + 100] = 9.f;
  for (int j = 512; j < 768; ++j) x[size_t(j)] = 0;
  for (int j = 768; j < 1024; ++j) x[size_t(j)] = float(j % 21 - 10) * 0.5f;
  x[1024 + 7] = 12.f;
  std::vector<uint8_t> q(size_t(dtype_bytes(DType::Q8_K, 4096)));
  quantize_activation_row(DType::Q8_K, x.data(), q.data(), 4096);
  EXPECT_EQ(q, q8_k_by_definition(x));
}

// The activation Q8_0 (as ggml's AVX2 backend) rounds ties to even with scale 127/amax; the
// weight quantizer (llama-quantize) rounds ties away from zero with 1/d. Values exactly on a
// half step show the difference.
TEST(Quantize, ActivationQ8_0RoundsHalfToEven) {
  std::vector<float> x(32, 0.f);
  x[0] = 127.f;  // d = 1, id = 1
  x[1] = 2.5f;
  x[2] = -3.5f;
  std::vector<uint8_t> act(34), ref(34);
  quantize_activation_row(DType::Q8_0, x.data(), act.data(), 32);
  quantize_row(DType::Q8_0, x.data(), ref.data(), 32);
  EXPECT_EQ(int8_t(act[2 + 1]), 2);
  EXPECT_EQ(int8_t(act[2 + 2]), -4);
  EXPECT_EQ(int8_t(ref[2 + 1]), 3);
  EXPECT_EQ(int8_t(ref[2 + 2]), -4);
}

}  // namespace
}  // namespace rlx
