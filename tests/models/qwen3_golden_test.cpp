// Qwen3 parity with transformers (tests/fixtures/qwen3, made by scripts/golden/qwen3.py on the
// reference's CPU in float32): logits of every prompt position and a 16-token greedy
// continuation decoded through the KV cache.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "models/parity_util.h"
#include "rlx/core/error.h"
#include "rlx/io/npy.h"
#include "rlx/models/qwen3/qwen3.h"
#include "support/test_data.h"

namespace rlx::test {
namespace {

namespace fs = std::filesystem;

// A copy of the fixture whose config.json is the transformers-5 form (rope_parameters).
std::string tf5_copy(const std::string& dir) {
  fs::path out = fs::temp_directory_path() / ("rlx_qwen3_tf5_" + fs::path(dir).filename().string());
  fs::create_directories(out);
  fs::copy_file(fs::path(dir) / "config.tf5.json", out / "config.json",
                fs::copy_options::overwrite_existing);
  fs::copy_file(fs::path(dir) / "model.safetensors", out / "model.safetensors",
                fs::copy_options::overwrite_existing);
  return out.string();
}

class Qwen3Golden : public ::testing::TestWithParam<std::tuple<std::string, bool>> {};

TEST_P(Qwen3Golden, LogitsAndGreedyMatchTransformers) {
  auto [name, tf5] = GetParam();
  const std::string dir = repo_dir() + "/tests/fixtures/qwen3/" + name;
  const std::string weights = tf5 ? tf5_copy(dir) : dir;
  auto runner = models::qwen3::Runner::builder()
                    .weights(weights)
                    .max_seq(64)
                    .threads(2)
                    .verbose(false)
                    .build();
  const std::string label = name + (tf5 ? " tf5" : " classic");
  EXPECT_LE(check_fixture_logits(runner, dir, label).max_abs, 1e-4);
  check_fixture_greedy(runner, dir, label, GreedyRule::kStrict);
}

INSTANTIATE_TEST_SUITE_P(Configs, Qwen3Golden,
                         ::testing::Combine(::testing::Values("tied", "untied_headdim", "yarn"),
                                            ::testing::Bool()),
                         [](const auto& info) {
                           return std::get<0>(info.param) +
                                  (std::get<1>(info.param) ? "_tf5" : "_classic");
                         });

TEST(Qwen3Runner, RefusesBeyondContextAndMemory) {
  const std::string dir = repo_dir() + "/tests/fixtures/qwen3/tied";
  EXPECT_THROW(models::qwen3::Runner::builder().weights(dir).max_seq(100000).verbose(false).build(),
               Error);
  EXPECT_THROW(models::qwen3::Runner::builder()
                   .weights(dir)
                   .max_seq(64)
                   .max_memory_gb(1e-6)
                   .verbose(false)
                   .build(),
               Error);
  auto r =
      models::qwen3::Runner::builder().weights(dir).max_seq(16).threads(1).verbose(false).build();
  std::vector<int32_t> too_long(17, 5);
  EXPECT_THROW(r.predict_logits(too_long), Error);
}

// --precision: f32 only on the CPU, one of f32/f16/bf16 anywhere; the errors say so.
TEST(Qwen3Runner, PrecisionIsCheckedUpFront) {
  const std::string dir = repo_dir() + "/tests/fixtures/qwen3/tied";
  auto error_of = [&](const std::string& precision) -> std::string {
    try {
      models::qwen3::Runner::builder()
          .weights(dir)
          .max_seq(16)
          .precision(precision)
          .verbose(false)
          .build();
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
  EXPECT_NE(error_of("bf16").find("precision 'bf16' needs --device cuda"), std::string::npos)
      << error_of("bf16");
  EXPECT_NE(error_of("f64").find("precision 'f64' is not one of f32, f16, bf16"), std::string::npos)
      << error_of("f64");
  EXPECT_EQ(error_of("f32"), "");
}

// Several caches at once, and a callback that cancels.
TEST(Qwen3Runner, IndependentCachesAndCancellation) {
  const std::string dir = repo_dir() + "/tests/fixtures/qwen3/untied_headdim";
  auto r =
      models::qwen3::Runner::builder().weights(dir).max_seq(64).threads(2).verbose(false).build();
  auto prompt = read_ids(dir + "/input_ids.npy");
  models::GenerateOptions opt;
  opt.max_tokens = 8;
  SamplingOptions greedy;
  greedy.temperature = 0.f;
  opt.sampling = greedy;
  KvCache a = r.new_cache(), b = r.new_cache();
  auto ra = r.generate_ids(prompt, opt, {}, a);
  std::vector<int32_t> other = {9, 8, 7};
  r.generate_ids(other, opt, {}, b);
  KvCache c = r.new_cache();
  auto rc = r.generate_ids(prompt, opt, {}, c);
  EXPECT_EQ(ra.tokens, rc.tokens);
  int seen = 0;
  auto rd = r.generate_ids(
      prompt, opt, [&](int32_t, const std::string&) { return ++seen < 3; }, b);
  EXPECT_EQ(rd.stop_reason, "cancelled");
  EXPECT_EQ(rd.tokens.size(), 3u);
}

}  // namespace
}  // namespace rlx::test
