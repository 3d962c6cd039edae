// rlx check: family detection, required GGUF keys, wrong-family messages.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "cli/cli_test_util.h"
#include "rlx/io/gguf.h"
#include "support/test_data.h"

namespace {

using rlx::clitest::run_rlx;

TEST(CheckCli, KnownFilesAreOk) {
  ASSERT_TRUE(rlx::clitest::binary_present());
  auto r =
      run_rlx("check " + rlx::test::shared_fixtures_dir() + "/gguf/tiny-qwen3-Q4_K_M.gguf --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["family"], "qwen3");
  EXPECT_EQ(j["architecture"], "qwen3");
  EXPECT_TRUE(j["ok"].get<bool>());
  auto g = run_rlx("check " + rlx::test::repo_dir() +
                   "/tests/fixtures/decoders/gemma2_softcap_window/model-f16.gguf");
  EXPECT_NE(g.out.find("gemma2"), std::string::npos) << g.out;
}

TEST(CheckCli, MissingRequiredKeysAreListed) {
  ASSERT_TRUE(rlx::clitest::binary_present());
  // A GGUF with an architecture but none of the other keys llama.cpp requires.
  rlx::io::GgufWriter w;
  w.set_string("general.architecture", "llama");
  w.set_u32("llama.block_count", 2);
  std::string path = ::testing::TempDir() + "/rlx_check_missing.gguf";
  w.write(path);
  auto r = run_rlx("check " + path + " --json");
  EXPECT_EQ(r.code, 1);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["family"], "llama");
  std::vector<std::string> missing = j["missing"];
  for (const char* k : {"llama.context_length", "llama.embedding_length", "tokenizer.ggml.model",
                        "tokenizer.ggml.tokens"})
    EXPECT_NE(std::find(missing.begin(), missing.end(), k), missing.end()) << k;
  EXPECT_EQ(std::find(missing.begin(), missing.end(), "llama.block_count"), missing.end());
}

TEST(CheckCli, WrongFamilyNamesTheRightCommand) {
  ASSERT_TRUE(rlx::clitest::binary_present());
  auto r = run_rlx("run llama -m " + rlx::test::shared_fixtures_dir() +
                   "/gguf/tiny-qwen3-F32.gguf --prompt-ids 1,2 -n 1 -q");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("rlx run qwen3"), std::string::npos) << r.err;
}

}  // namespace
