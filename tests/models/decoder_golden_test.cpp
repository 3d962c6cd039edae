// StandardDecoder families against transformers (tests/fixtures/decoders, made by
// scripts/golden/decoders.py): every prompt position's logits and a 16-token greedy
// continuation through the KV cache, for the transformers-5 config and the classic hub form.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "models/parity_util.h"
#include "rlx/core/error.h"
#include "rlx/io/npy.h"
#include "rlx/models/families.h"
#include "support/test_data.h"

namespace rlx::test {
namespace {

namespace fs = std::filesystem;

struct Case {
  std::string fixture, family;
};

class DecoderGolden : public ::testing::TestWithParam<std::tuple<Case, bool>> {};

TEST_P(DecoderGolden, LogitsAndGreedyMatchTransformers) {
  auto [c, classic] = GetParam();
  const std::string dir = repo_dir() + "/tests/fixtures/decoders/" + c.fixture;
  std::string weights = dir;
  if (classic) {  // same weights, classic config.json
    fs::path out = fs::temp_directory_path() / ("rlx_classic_" + c.fixture);
    fs::create_directories(out);
    fs::copy_file(fs::path(dir) / "config.classic.json", out / "config.json",
                  fs::copy_options::overwrite_existing);
    fs::copy_file(fs::path(dir) / "model.safetensors", out / "model.safetensors",
                  fs::copy_options::overwrite_existing);
    weights = out.string();
  }
  auto runner = models::DecoderRunner::Builder(models::decoder_family(c.family))
                    .weights(weights)
                    .max_seq(64)
                    .threads(2)
                    .verbose(false)
                    .build();
  const std::string label = c.fixture + (classic ? " classic" : " tf5");
  EXPECT_LE(check_fixture_logits(runner, dir, label).max_abs, 1e-4);
  check_fixture_greedy(runner, dir, label, GreedyRule::kStrict);
}

INSTANTIATE_TEST_SUITE_P(
    Families, DecoderGolden,
    ::testing::Combine(::testing::Values(Case{"llama_rope_llama3", "llama"},
                                         Case{"smollm2_tied", "llama"}, Case{"qwen2_bias", "qwen2"},
                                         Case{"gemma", "gemma"},
                                         Case{"gemma2_softcap_window", "gemma2"},
                                         Case{"gemma3_local_global", "gemma3_text"}),
                       ::testing::Bool()),
    [](const auto& info) {
      return std::get<0>(info.param).fixture + (std::get<1>(info.param) ? "_classic" : "_tf5");
    });

TEST(DecoderFamilies, WrongFamilyNamesTheRightOne) {
  const std::string dir = repo_dir() + "/tests/fixtures/decoders/gemma2_softcap_window";
  try {
    models::DecoderRunner::Builder(models::decoder_family("llama"))
        .weights(dir)
        .verbose(false)
        .build();
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("rlx run gemma2"), std::string::npos) << e.what();
  }
  EXPECT_THROW(models::decoder_family("mamba"), Error);
  EXPECT_EQ(models::decoder_family("gemma3").name, "gemma3_text");
}

}  // namespace
}  // namespace rlx::test
