// StandardDecoder GGUF twins: tests/fixtures/decoders/<name>/model-{f16,q8_0}.gguf, made from the
// golden safetensors by llama.cpp's convert_hf_to_gguf.py (scripts/golden/decoder_gguf_twins.py),
// loaded by rlx and compared with the transformers float32 reference (logits.npy, greedy_ids.npy).
// Tolerances from CONVENTIONS.md: F16 cosine >= 0.9999 and max|d| <= 2e-2; Q8_0 cosine >= 0.999;
// greedy tokens equal except where the reference's top-2 margin is < 1e-5 (F16), or < 2e-2 and a
// near-tie for rlx too (Q8_0), as in qwen3_gguf_twin_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <optional>

#include "models/parity_util.h"
#include "rlx/io/gguf.h"
#include "rlx/io/npy.h"
#include "rlx/models/families.h"
#include "support/test_data.h"

namespace rlx::test {
namespace {

namespace fs = std::filesystem;

struct Case {
  std::string fixture, family;
};

class DecoderGgufTwin : public ::testing::TestWithParam<std::tuple<Case, std::string>> {};

TEST_P(DecoderGgufTwin, LogitsAndGreedyMatchTransformers) {
  auto [c, type] = GetParam();
  const std::string dir = repo_dir() + "/tests/fixtures/decoders/" + c.fixture;
  const std::string gguf = require_file(dir + "/model-" + type + ".gguf");
  auto runner = models::DecoderRunner::Builder(models::decoder_family(c.family))
                    .weights(gguf)
                    .max_seq(64)
                    .threads(2)
                    .verbose(false)
                    .build();
  const std::string label = c.fixture + " " + type;
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

INSTANTIATE_TEST_SUITE_P(
    Families, DecoderGgufTwin,
    ::testing::Combine(::testing::Values(Case{"llama_rope_llama3", "llama"},
                                         Case{"smollm2_tied", "llama"}, Case{"qwen2_bias", "qwen2"},
                                         Case{"gemma", "gemma"},
                                         Case{"gemma2_softcap_window", "gemma2"},
                                         Case{"gemma3_local_global", "gemma3_text"}),
                       ::testing::Values("f16", "q8_0")),
    [](const auto& info) {
      return std::get<0>(info.param).fixture + "_" + std::get<1>(info.param);
    });

// What the twins rely on, read from the files themselves: llama3 scaling arrives as the
// rope_freqs tensor, gemma3's layer pattern and local RoPE base as llama.cpp's keys.
TEST(DecoderGgufTwinSpec, ReadsLlamaCppKeys) {
  const std::string root = repo_dir() + "/tests/fixtures/decoders/";
  {
    io::GgufFile g = io::GgufFile::open(require_file(root + "llama_rope_llama3/model-f16.gguf"));
    nn::DecoderSpec s = models::decoder_family("llama").from_gguf(g);
    EXPECT_EQ(s.rope_scaling.type, "default");
    EXPECT_EQ(s.rope_scaling.freq_factors, (std::vector<float>{1, 8, 8, 8, 8, 8, 8, 8}));
    EXPECT_EQ(s.rope_style, ir::RopeStyle::Interleaved);
  }
  {
    io::GgufFile g = io::GgufFile::open(require_file(root + "gemma3_local_global/model-q8_0.gguf"));
    nn::DecoderSpec s = models::decoder_family("gemma3_text").from_gguf(g);
    EXPECT_EQ(s.layer_sliding, (std::vector<bool>{true, false, true, false}));
    EXPECT_EQ(s.sliding_window, 4);
    EXPECT_DOUBLE_EQ(s.rope_theta, 1e6);
    EXPECT_DOUBLE_EQ(s.rope_theta_local, 1e4);
    EXPECT_EQ(s.rope_scaling.type, "linear");
    EXPECT_DOUBLE_EQ(s.rope_scaling.factor, 2.0);
    EXPECT_FALSE(s.norm_offset_one);
  }
  {
    io::GgufFile g =
        io::GgufFile::open(require_file(root + "gemma2_softcap_window/model-f16.gguf"));
    nn::DecoderSpec s = models::decoder_family("gemma2").from_gguf(g);
    EXPECT_EQ(s.layer_sliding, (std::vector<bool>{true, false, true}));
    EXPECT_EQ(s.sliding_window, 5);
    EXPECT_FLOAT_EQ(s.attn_softcap, 5.f);
    EXPECT_FLOAT_EQ(s.final_softcap, 3.f);
    EXPECT_EQ(s.query_scale, 0.f);  // 1/sqrt(head_dim), as llama.cpp (not a 27B)
  }
}

// The sliding-window pattern as an integer period (llama.cpp's set_swa_pattern) and its
// per-architecture default, on a metadata-only GGUF.
TEST(DecoderGgufTwinSpec, SlidingPatternPeriod) {
  auto make = [](int64_t layers, std::optional<uint32_t> period, int64_t window) {
    io::GgufWriter w;
    w.set_string("general.architecture", "gemma3");
    w.set_u32("gemma3.embedding_length", 64);
    w.set_u32("gemma3.block_count", uint32_t(layers));
    w.set_u32("gemma3.attention.head_count", 4);
    w.set_u32("gemma3.attention.head_count_kv", 2);
    w.set_u32("gemma3.attention.key_length", 16);
    w.set_u32("gemma3.feed_forward_length", 128);
    w.set_u32("gemma3.context_length", 256);
    w.set_f32("gemma3.attention.layer_norm_rms_epsilon", 1e-6f);
    if (window) w.set_u32("gemma3.attention.sliding_window", uint32_t(window));
    if (period) w.set_u32("gemma3.attention.sliding_window_pattern", *period);
    static std::vector<float> emb(512 * 64, 0.f);
    w.add_tensor("token_embd.weight", DType::F32, Shape{512, 64}, emb.data());
    fs::path p = fs::temp_directory_path() / "rlx_gemma3_pattern.gguf";
    w.write(p.string());
    return models::decoder_family("gemma3_text").from_gguf(io::GgufFile::open(p.string()));
  };
  EXPECT_EQ(make(4, 2, 8).layer_sliding, (std::vector<bool>{true, false, true, false}));
  EXPECT_EQ(make(7, std::nullopt, 8).layer_sliding,
            (std::vector<bool>{true, true, true, true, true, false, true}));  // default 6
  EXPECT_EQ(make(3, 0, 8).layer_sliding, (std::vector<bool>{true, true, true}));
  EXPECT_EQ(make(3, 2, 0).layer_sliding, (std::vector<bool>{false, false, false}));  // no window
  nn::DecoderSpec big = make(62, std::nullopt, 8);  // llama.cpp's Gemma 3 27B rule
  EXPECT_FLOAT_EQ(big.query_scale, float(1.0 / std::sqrt(16.0)));
}

}  // namespace
}  // namespace rlx::test
