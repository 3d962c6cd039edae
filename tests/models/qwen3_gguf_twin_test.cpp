// Qwen3 GGUF twins: tests/fixtures/qwen3/<config>/model-{f16,q8_0}.gguf, made from the golden
// safetensors by llama.cpp's convert_hf_to_gguf.py (scripts/golden/qwen3_gguf_twins.py), loaded by
// rlx and compared with the transformers float32 reference (logits.npy, greedy_ids.npy).
// Tolerances from CONVENTIONS.md: F16 cosine >= 0.9999 and max|d| <= 2e-2; Q8_0 cosine >= 0.999;
// greedy tokens equal except where the reference's top-2 margin is < 1e-5 (F16), or < 2e-2 and a
// near-tie for rlx too (Q8_0; see below).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "models/parity_util.h"
#include "rlx/io/npy.h"
#include "rlx/models/qwen3/qwen3.h"
#include "support/test_data.h"

namespace rlx::test {
namespace {

class Qwen3GgufTwin : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(Qwen3GgufTwin, LogitsAndGreedyMatchTransformers) {
  auto [name, type] = GetParam();
  const std::string dir = repo_dir() + "/tests/fixtures/qwen3/" + name;
  const std::string gguf = require_file(dir + "/model-" + type + ".gguf");
  auto runner =
      models::qwen3::Runner::builder().weights(gguf).max_seq(64).threads(2).verbose(false).build();
  const std::string label = name + " " + type;
  LogitStats st = check_fixture_logits(runner, dir, label);
  if (type == "f16") {
    EXPECT_GE(st.cosine, 0.9999);
    EXPECT_LE(st.max_abs, 2e-2);
  } else {
    EXPECT_GE(st.cosine, 0.999);
  }
  check_fixture_greedy(runner, dir, label,
                       type == "f16" ? GreedyRule::kStrict : GreedyRule::kQuantized);
}

INSTANTIATE_TEST_SUITE_P(Configs, Qwen3GgufTwin,
                         ::testing::Combine(::testing::Values("tied", "untied_headdim", "yarn"),
                                            ::testing::Values("f16", "q8_0")),
                         [](const auto& info) {
                           return std::get<0>(info.param) + "_" + std::get<1>(info.param);
                         });

}  // namespace
}  // namespace rlx::test
