// StandardDecoder families against transformers (tests/fixtures/decoders, made by
// scripts/golden/decoders.py): every prompt position's logits and a 16-token greedy
// continuation through the KV cache, for the transformers-5 config and the classic hub form.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>

#include "rlx/core/error.h"
#include "rlx/io/npy.h"
#include "rlx/models/families.h"
#include "support/test_data.h"

namespace rlx::test {
namespace {

namespace fs = std::filesystem;

std::vector<int32_t> read_ids(const std::string& path) {
  Tensor t = io::read_npy(require_file(path));
  return std::vector<int32_t>(t.ptr<int32_t>(), t.ptr<int32_t>() + t.numel());
}

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
  auto prompt = read_ids(dir + "/input_ids.npy");
  Tensor want = io::read_npy(require_file(dir + "/logits.npy"));
  Tensor got = runner.predict_logits(prompt);
  ASSERT_EQ(got.shape(), want.shape());
  double worst = 0;
  for (int64_t i = 0; i < got.numel(); ++i)
    worst = std::max(worst, double(std::fabs(got.ptr<float>()[i] - want.ptr<float>()[i])));
  std::printf("%-24s %-8s logits max|d| %.3g\n", c.fixture.c_str(), classic ? "classic" : "tf5",
              worst);
  EXPECT_LE(worst, 1e-4);

  auto want_ids = read_ids(dir + "/greedy_ids.npy");
  Tensor margins = io::read_npy(require_file(dir + "/greedy_margins.npy"));
  models::GenerateOptions opt;
  opt.max_tokens = int(want_ids.size());
  SamplingOptions greedy;
  greedy.temperature = 0.f;
  opt.sampling = greedy;
  KvCache cache = runner.new_cache();
  auto r = runner.generate_ids(prompt, opt, {}, cache);
  ASSERT_EQ(r.tokens.size(), want_ids.size());
  for (size_t i = 0; i < want_ids.size(); ++i) {
    if (r.tokens[i] == want_ids[i]) continue;
    EXPECT_LT(margins.ptr<float>()[i], 1e-5f) << "greedy token " << i << " differs";
    break;
  }
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
