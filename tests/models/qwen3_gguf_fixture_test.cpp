// rlx's Qwen3 forward pass on the llama.cpp-made GGUF fixtures against the logits llama.cpp
// computed for the same prompt (../shared/fixtures/gguf/README.md).
#include <gtest/gtest.h>

#include <cmath>

#include "rlx/io/npy.h"
#include "rlx/models/qwen3/qwen3.h"
#include "support/test_data.h"

namespace rlx::test {
namespace {

const std::vector<int32_t> kPrompt = {1, 5, 9, 100, 200, 300, 7, 8, 42, 77, 3, 11};

struct Stats {
  double max_abs = 0, cosine = 0;
  int top1_same = 0;
};

Stats compare(const Tensor& got, const Tensor& want) {
  Stats s;
  const int64_t rows = want.shape()[0], V = want.shape()[1];
  double dot = 0, ng = 0, nw = 0;
  for (int64_t r = 0; r < rows; ++r) {
    int64_t ag = 0, aw = 0;
    for (int64_t v = 0; v < V; ++v) {
      double g = got.ptr<float>()[r * V + v], w = want.ptr<float>()[r * V + v];
      s.max_abs = std::max(s.max_abs, std::fabs(g - w));
      dot += g * w, ng += g * g, nw += w * w;
      if (g > got.ptr<float>()[r * V + ag]) ag = v;
      if (w > want.ptr<float>()[r * V + aw]) aw = v;
    }
    s.top1_same += ag == aw;
  }
  s.cosine = dot / std::sqrt(ng * nw);
  return s;
}

class Qwen3GgufFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(Qwen3GgufFixture, LogitsMatchLlamaCpp) {
  const std::string stem = GetParam();
  const std::string dir = shared_fixtures_dir() + "/gguf/";
  auto runner = models::qwen3::Runner::builder()
                    .weights(require_file(dir + stem + ".gguf"))
                    .max_seq(64)
                    .threads(2)
                    .verbose(false)
                    .build();
  Tensor got = runner.predict_logits(kPrompt);
  Tensor want = io::read_npy(require_file(dir + stem + ".logits.npy"));
  ASSERT_EQ(got.shape(), want.shape());
  Stats s = compare(got, want);
  std::printf("%-32s max|d| %.3g  cosine %.7f  top-1 %d/12\n", stem.c_str(), s.max_abs, s.cosine,
              s.top1_same);
  // CONVENTIONS.md: F32 1e-4; F16/BF16 cosine >= 0.9999 and max |d| <= 2e-2; quantized cosine >=
  // 0.999.
  if (stem == "tiny-qwen3-F32") {
    EXPECT_LE(s.max_abs, 1e-4);
  } else if (stem.find("F16") != std::string::npos || stem.find("BF16") != std::string::npos) {
    EXPECT_GE(s.cosine, 0.9999);
    EXPECT_LE(s.max_abs, 2e-2);
  } else {
    EXPECT_GE(s.cosine, 0.999);
  }
}

INSTANTIATE_TEST_SUITE_P(AllFixtures, Qwen3GgufFixture,
                         ::testing::Values("tiny-qwen3-F32", "tiny-qwen3-F16", "tiny-qwen3-BF16",
                                           "tiny-qwen3-Q8_0", "tiny-qwen3-Q4_0", "tiny-qwen3-Q4_1",
                                           "tiny-qwen3-Q5_0", "tiny-qwen3-Q5_1", "tiny-qwen3-Q2_K",
                                           "tiny-qwen3-Q3_K", "tiny-qwen3-Q4_K", "tiny-qwen3-Q5_K",
                                           "tiny-qwen3-Q6_K", "tiny-qwen3-IQ4_NL",
                                           "tiny-qwen3-IQ4_XS", "tiny-qwen3-Q4_K_M",
                                           "tiny-qwen3-F16-00001-of-00003"),
                         [](const auto& info) {
                           std::string n = info.param.substr(11);
                           for (auto& c : n)
                             if (c == '-') c = '_';
                           return n;
                         });

// Decoding token by token through the KV cache gives the same logits as one prefill.
TEST(Qwen3Gguf, IncrementalDecodeMatchesPrefill) {
  const std::string path = shared_fixtures_dir() + "/gguf/tiny-qwen3-F32.gguf";
  auto runner = models::qwen3::Runner::builder()
                    .weights(require_file(path))
                    .max_seq(64)
                    .threads(2)
                    .verbose(false)
                    .build();
  Tensor full = runner.predict_logits(kPrompt);
  KvCache cache = runner.new_cache();
  const int64_t V = full.shape()[1];
  double worst = 0;
  for (size_t i = 0; i < kPrompt.size(); ++i) {
    Tensor step = runner.forward(std::span(kPrompt).subspan(i, 1), cache, true);
    for (int64_t v = 0; v < V; ++v)
      worst = std::max(
          worst, double(std::fabs(step.ptr<float>()[v] - full.ptr<float>()[int64_t(i) * V + v])));
  }
  EXPECT_LE(worst, 1e-5);
}

}  // namespace
}  // namespace rlx::test
