// `rlx synth`: the file has the named model's shapes, types and real tokenizer, and rlx runs it.
// One layer keeps the file small; the vocabulary (151,936 tokens) is the real one.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_test_util.h"
#include "rlx/io/gguf.h"
#include "support/test_data.h"

namespace {

namespace fs = std::filesystem;
using rlx::clitest::quote;
using rlx::clitest::run_rlx;

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("rlx-synth-cli-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

std::string qwen2_vocab() {
  return rlx::test::require_file(rlx::test::data_dir() + "/llama.cpp/models/ggml-vocab-qwen2.gguf");
}

TEST(SynthCli, Qwen3ShapesTypesAndVocabulary) {
  const std::string out = temp_path("qwen3.gguf");
  auto r = run_rlx("synth --like Qwen3-0.6B --layers 1 --type Q4_K_M -q -t 2 --vocab " +
                   quote(qwen2_vocab()) + " " + quote(out));
  ASSERT_EQ(r.code, 0) << r.err;
  rlx::io::GgufFile g = rlx::io::GgufFile::open(out);
  EXPECT_EQ(g.architecture(), "qwen3");
  EXPECT_EQ(g.get_int("qwen3.block_count"), 1);
  EXPECT_EQ(g.get_int("qwen3.embedding_length"), 1024);
  EXPECT_EQ(g.get_int("qwen3.feed_forward_length"), 3072);
  EXPECT_EQ(g.get_int("qwen3.attention.head_count"), 16);
  EXPECT_EQ(g.get_int("qwen3.attention.head_count_kv"), 8);
  EXPECT_EQ(g.get_string_array("tokenizer.ggml.tokens").size(), 151936u);
  struct Want {
    const char* name;
    rlx::Shape shape;
  };
  for (const Want& w :
       {Want{"token_embd.weight", {151936, 1024}}, Want{"blk.0.attn_q.weight", {2048, 1024}},
        Want{"blk.0.attn_k.weight", {1024, 1024}}, Want{"blk.0.attn_output.weight", {1024, 2048}},
        Want{"blk.0.attn_q_norm.weight", {128}}, Want{"blk.0.ffn_down.weight", {1024, 3072}}}) {
    const auto* t = g.find_tensor(w.name);
    ASSERT_NE(t, nullptr) << w.name;
    EXPECT_EQ(t->shape, w.shape) << w.name;
  }
  EXPECT_EQ(g.find_tensor("output.weight"), nullptr) << "Qwen3-0.6B ties its LM head";
  EXPECT_EQ(g.find_tensor("blk.1.attn_q.weight"), nullptr) << "--layers 1";
  // Q4_K_M's mix, as llama-quantize picks it: Q4_K projections, Q6_K for attn_v and ffn_down
  // of the first layers; norms stay F32.
  EXPECT_EQ(g.find_tensor("blk.0.attn_q.weight")->dtype, rlx::DType::Q4_K);
  EXPECT_EQ(g.find_tensor("blk.0.ffn_down.weight")->dtype, rlx::DType::Q6_K);
  EXPECT_EQ(g.find_tensor("blk.0.attn_norm.weight")->dtype, rlx::DType::F32);

  // rlx loads and runs it, and the tokenizer is the real one.
  auto b = run_rlx("bench -m " + quote(out) + " -p 8 -n 4 -r 1 -t 2 --json");
  ASSERT_EQ(b.code, 0) << b.err;
  auto j = nlohmann::json::parse(b.out);
  EXPECT_EQ(j["family"], "qwen3");
  for (auto& res : j["results"]) EXPECT_GT(res["tokens_per_s"].get<double>(), 0.0);
  auto tok = run_rlx("tokenize -m " + quote(out) + " --text 'Hello world'");
  EXPECT_EQ(tok.code, 0) << tok.err;
  fs::remove(out);
}

TEST(SynthCli, RefusesToOverwriteAndNamesBadFlags) {
  const std::string out = temp_path("exists.gguf");
  { std::ofstream(out) << "keep me"; }
  auto r = run_rlx("synth --like Qwen3-0.6B --layers 1 --type Q8_0 -q --vocab " +
                   quote(qwen2_vocab()) + " " + quote(out));
  EXPECT_NE(r.code, 0);
  EXPECT_EQ(rlx::clitest::slurp(out), "keep me") << "an existing file must not be touched";
  fs::remove(out);
  auto like = run_rlx("synth --like Qwen9-12B --type Q8_0 " + quote(temp_path("x.gguf")));
  EXPECT_NE(like.code, 0);
  EXPECT_NE(like.err.find("--like"), std::string::npos) << like.err;
  auto layers =
      run_rlx("synth --like Qwen3-0.6B --layers 99 --type Q8_0 " + quote(temp_path("y.gguf")));
  EXPECT_NE(layers.code, 0);
  EXPECT_NE(layers.err.find("--layers 99"), std::string::npos) << layers.err;
}

}  // namespace
