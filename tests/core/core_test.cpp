#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <cstring>
#include <random>

#include "rlx/core/dtype.h"
#include "rlx/core/error.h"
#include "rlx/core/half.h"
#include "rlx/core/tensor.h"
#include "rlx/core/thread_pool.h"

#if defined(__F16C__)
#include <immintrin.h>
#endif

namespace rlx {
namespace {

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

#if defined(__F16C__)
// The CPU's own conversion instructions are the independent reference (IEEE round to nearest
// even), applied one value at a time.
float hw_f16_to_f32(uint16_t h) {
  return _mm_cvtss_f32(_mm_cvtph_ps(_mm_cvtsi32_si128(h)));
}
uint16_t hw_f32_to_f16(float f) {
  return uint16_t(_mm_cvtsi128_si32(_mm_cvtps_ph(_mm_set_ss(f), _MM_FROUND_TO_NEAREST_INT)));
}

TEST(Half, EveryF16ValueConvertsExactly) {
  for (uint32_t h = 0; h < 65536; ++h) {
    float a = f16_to_f32(uint16_t(h)), b = hw_f16_to_f32(uint16_t(h));
    if (std::isnan(b)) {
      EXPECT_TRUE(std::isnan(a)) << h;
      continue;
    }
    ASSERT_EQ(bits(a), bits(b)) << "f16 0x" << std::hex << h;
    ASSERT_EQ(f32_to_f16(a), uint16_t(h)) << "round trip 0x" << std::hex << h;
  }
}

TEST(Half, F32ToF16RoundsToNearestEven) {
  std::mt19937 rng(1);
  std::uniform_int_distribution<uint32_t> any;
  for (int i = 0; i < 2000000; ++i) {
    uint32_t u = any(rng);
    float f;
    std::memcpy(&f, &u, 4);
    if (std::isnan(f)) continue;
    ASSERT_EQ(f32_to_f16(f), hw_f32_to_f16(f)) << "f32 bits 0x" << std::hex << u;
  }
  // Ties, subnormals, overflow boundaries.
  for (float f : {65504.f, 65519.f, 65520.f, 1e-8f, 2.98e-8f, 5.96e-8f, 6.1e-5f, 1.f + 1.f / 2048,
                  1.f + 3.f / 2048})
    for (float s : {1.f, -1.f}) EXPECT_EQ(f32_to_f16(f * s), hw_f32_to_f16(f * s)) << f * s;
}
#endif

TEST(Half, Bf16RoundTripAndRounding) {
  for (uint32_t h = 0; h < 65536; ++h) {
    float f = bf16_to_f32(uint16_t(h));
    if (std::isnan(f)) continue;
    ASSERT_EQ(f32_to_bf16(f), uint16_t(h));
  }
  // 1 + 2^-8 is a tie between 1 and 1 + 2^-7: even mantissa (1.0) wins; 1 + 3·2^-8 rounds up.
  EXPECT_EQ(f32_to_bf16(1.f + 1.f / 256), f32_to_bf16(1.f));
  EXPECT_EQ(bf16_to_f32(f32_to_bf16(1.f + 3.f / 256)), 1.f + 4.f / 256);
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(NAN))));
}

TEST(DType, GgufIdsAndBlockSizes) {
  // Sizes from gguf-py's GGML_QUANT_SIZES.
  struct Row {
    uint32_t id;
    const char* name;
    int64_t block, bytes;
  };
  for (auto r :
       {Row{0, "F32", 1, 4},         Row{1, "F16", 1, 2},         Row{2, "Q4_0", 32, 18},
        Row{3, "Q4_1", 32, 20},      Row{6, "Q5_0", 32, 22},      Row{7, "Q5_1", 32, 24},
        Row{8, "Q8_0", 32, 34},      Row{9, "Q8_1", 32, 36},      Row{10, "Q2_K", 256, 84},
        Row{11, "Q3_K", 256, 110},   Row{12, "Q4_K", 256, 144},   Row{13, "Q5_K", 256, 176},
        Row{14, "Q6_K", 256, 210},   Row{15, "Q8_K", 256, 292},   Row{16, "IQ2_XXS", 256, 66},
        Row{17, "IQ2_XS", 256, 74},  Row{18, "IQ3_XXS", 256, 98}, Row{19, "IQ1_S", 256, 50},
        Row{20, "IQ4_NL", 32, 18},   Row{21, "IQ3_S", 256, 110},  Row{22, "IQ2_S", 256, 82},
        Row{23, "IQ4_XS", 256, 136}, Row{24, "I8", 1, 1},         Row{25, "I16", 1, 2},
        Row{26, "I32", 1, 4},        Row{27, "I64", 1, 8},        Row{28, "F64", 1, 8},
        Row{29, "IQ1_M", 256, 56},   Row{30, "BF16", 1, 2},       Row{34, "TQ1_0", 256, 54},
        Row{35, "TQ2_0", 256, 66},   Row{39, "MXFP4", 32, 17},    Row{40, "NVFP4", 64, 36},
        Row{41, "Q1_0", 128, 18},    Row{42, "Q2_0", 64, 18}}) {
    auto t = dtype_from_ggml_id(r.id);
    ASSERT_TRUE(t.has_value()) << r.id;
    EXPECT_STREQ(dtype_name(*t), r.name);
    EXPECT_EQ(dtype_info(*t).block_size, r.block) << r.name;
    EXPECT_EQ(dtype_info(*t).block_bytes, r.bytes) << r.name;
    EXPECT_EQ(dtype_from_name(r.name), t);
  }
  for (uint32_t removed : {4u, 5u, 31u, 32u, 33u, 36u, 37u, 38u, 43u, 1000u})
    EXPECT_FALSE(dtype_from_ggml_id(removed).has_value()) << removed;
}

TEST(TensorView, ViewsAndErrors) {
  Tensor t = Tensor::empty(DType::F32, {2, 3, 4});
  for (int i = 0; i < 24; ++i) t.ptr<float>()[i] = float(i);
  TensorView v = t.view().permute({2, 0, 1});
  EXPECT_EQ(v.shape, (Shape{4, 2, 3}));
  EXPECT_FALSE(v.is_contiguous());
  Tensor c = contiguous_copy(v);
  EXPECT_EQ(c.ptr<float>()[1], 4.f);  // v[0,0,1] = t[0,1,0]
  TensorView s = t.view().slice(2, 1, 4, 2);
  EXPECT_EQ(s.shape, (Shape{2, 3, 2}));
  EXPECT_EQ(to_f32(s).ptr<float>()[1], 3.f);
  EXPECT_EQ(t.view().select(0, 1).shape, (Shape{3, 4}));
  EXPECT_THROW(t.view().reshape({5, 5}), Error);
  EXPECT_THROW(v.reshape({24}), Error);
  EXPECT_THROW(t.view().slice(0, 1, 3), Error);
  EXPECT_THROW(t.view().permute({0, 0, 1}), Error);
  EXPECT_THROW(Shape({1, 2, 3, 4, 5, 6, 7, 8, 9}), Error);
  Tensor q = Tensor::zeros(DType::Q4_K, {2, 256});
  EXPECT_EQ(q.nbytes(), 2 * 144);
  EXPECT_THROW(q.view().slice(1, 0, 128), Error);
}

TEST(ThreadPool, ParallelForCoversRangeOnce) {
  ThreadPool pool(4);
  for (int64_t n : {0, 1, 3, 1000, 100003}) {
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    pool.parallel_for(n, 7, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) hits[size_t(i)]++;
    });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
  }
  EXPECT_GE(physical_core_count(), 1);
}

TEST(ThreadPool, DynamicParallelForCoversRangeOnceInChunks) {
  ThreadPool pool(3);
  for (int64_t n : {0, 1, 5, 64, 1001}) {
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    std::atomic<int64_t> calls{0};
    pool.parallel_for_dynamic(n, 5, [&](int64_t b, int64_t e) {
      EXPECT_TRUE(e - b == 5 || e == n) << b << ".." << e;
      calls++;
      for (int64_t i = b; i < e; ++i) hits[size_t(i)]++;
    });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
    EXPECT_EQ(calls.load(), n <= 5 ? (n > 0 ? 1 : 0) : (n + 4) / 5);
  }
}

}  // namespace
}  // namespace rlx
