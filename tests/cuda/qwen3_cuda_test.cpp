// Qwen3 golden fixtures (tests/fixtures/qwen3, transformers in float32) on CUDA device 0:
// prompt logits within 1e-4 and the 16-token greedy continuation identical.
#include <gtest/gtest.h>

#include "backends/cuda/runtime.h"
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

// --precision bf16 / f16: the F32 fixture weights of every linear and the embedding table are
// uploaded as 16-bit (activations rounded to it before each product, sums in F32). Logits
// within CONVENTIONS.md's F16/BF16 tolerance (cosine >= 0.9999, max |d| <= 2e-2) and the same
// greedy continuation.
TEST_P(Qwen3Cuda, SixteenBitPrecisionKeepsLogitsAndGreedy) {
  RLX_REQUIRE_CUDA_DEVICE();
  const std::string name = GetParam();
  const std::string dir = repo_dir() + "/tests/fixtures/qwen3/" + name;
  for (const char* precision : {"bf16", "f16"}) {
    auto runner = models::qwen3::Runner::builder()
                      .weights(dir)
                      .max_seq(64)
                      .device(Device::cuda(0))
                      .precision(precision)
                      .verbose(false)
                      .build();
    const std::string label = name + " on CUDA, " + precision;
    const LogitStats s = check_fixture_logits(runner, dir, label);
    EXPECT_GE(s.cosine, 0.9999) << label;
    EXPECT_LE(s.max_abs, 2e-2) << label;
    check_fixture_greedy(runner, dir, label, GreedyRule::kStrict);
  }
}

// Weights + KV cache + workspace are checked against the device's free memory before any
// upload: with nearly all of it taken, building a runner fails with a message saying so.
TEST(Qwen3CudaMemory, TooLittleFreeMemoryIsAClearError) {
  RLX_REQUIRE_CUDA_DEVICE();
  const std::string dir = repo_dir() + "/tests/fixtures/qwen3/tied";
  cuda::context(0);  // the context's own memory is taken before measuring what is free
  // Take all but 32-56 MiB (less than the ~64 MiB workspace estimate alone).
  cuda::DeviceBuffer hog;
  for (int64_t leave_mib = 32; leave_mib <= 56 && !hog.data(); leave_mib += 8) {
    try {
      hog = cuda::DeviceBuffer(0, cuda::device_info(0).free_bytes - (leave_mib << 20));
    } catch (const Error&) {
    }
  }
  ASSERT_NE(hog.data(), nullptr) << "could not allocate the free device memory";
  try {
    models::qwen3::Runner::builder()
        .weights(dir)
        .max_seq(64)
        .device(Device::cuda(0))
        .verbose(false)
        .build();
    FAIL() << "building with 32 MiB free should throw";
  } catch (const Error& e) {
    const std::string what = e.what();
    EXPECT_NE(what.find("GiB is free"), std::string::npos) << what;
    EXPECT_NE(what.find("cuda:0"), std::string::npos) << what;
  }
}

INSTANTIATE_TEST_SUITE_P(Configs, Qwen3Cuda, ::testing::Values("tied", "untied_headdim", "yarn"));

}  // namespace
}  // namespace rlx::test
