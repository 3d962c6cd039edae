// Qwen3 golden fixtures (tests/fixtures/qwen3, transformers in float32) on CUDA device 0:
// prompt logits within 1e-4 and the 16-token greedy continuation identical.
#include <gtest/gtest.h>

#include "cuda/cuda_test_util.h"
#include "models/parity_util.h"
#include "rlx/models/qwen3/qwen3.h"
#include "support/test_data.h"

namespace rlx::test {
namespace {

class Qwen3Cuda : public ::testing::TestWithParam<std::string> {};

TEST_P(Qwen3Cuda, LogitsAndGreedyMatchTransformers) {
  RLX_REQUIRE_CUDA_DEVICE();
  const std::string name = GetParam();
  const std::string dir = repo_dir() + "/tests/fixtures/qwen3/" + name;
  auto runner = models::qwen3::Runner::builder()
                    .weights(dir)
                    .max_seq(64)
                    .device(Device::cuda(0))
                    .verbose(false)
                    .build();
  const std::string label = name + " on CUDA";
  EXPECT_LE(check_fixture_logits(runner, dir, label).max_abs, 1e-4);
  check_fixture_greedy(runner, dir, label, GreedyRule::kStrict);
}

INSTANTIATE_TEST_SUITE_P(Configs, Qwen3Cuda, ::testing::Values("tied", "untied_headdim", "yarn"));

}  // namespace
}  // namespace rlx::test
