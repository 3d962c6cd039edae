// `rlx run` (CONVENTIONS.md "Generation"): parity of the prompt logits via --dump-logits against
// transformers (tests/fixtures/qwen3/tied) and llama.cpp (tiny-qwen3-F32.gguf), greedy ids with
// --print-ids, the text path against `rlx tokenize`, --stop, --kv-type, `run auto`, and user
// errors (exit 1, one line on stderr).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "cli_test_util.h"
#include "rlx/io/npy.h"
#include "support/test_data.h"

namespace {

namespace fs = std::filesystem;
using rlx::clitest::quote;
using rlx::clitest::Result;
using rlx::clitest::run_rlx;
using rlx::test::require_file;

std::string tied_dir() {
  return rlx::test::repo_dir() + "/tests/fixtures/qwen3/tied";
}
std::string tiny_gguf() {
  return rlx::test::shared_fixtures_dir() + "/gguf/tiny-qwen3-F32.gguf";
}
const std::string kGgufPrompt = "1,5,9,100,200,300,7,8,42,77,3,11";

std::vector<int32_t> read_ids(const std::string& path) {
  rlx::Tensor t = rlx::io::read_npy(require_file(path));
  EXPECT_EQ(t.dtype(), rlx::DType::I32);
  return std::vector<int32_t>(t.ptr<int32_t>(), t.ptr<int32_t>() + t.numel());
}

std::string join(const std::vector<int32_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(ids[i]);
  }
  return s;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

std::vector<int32_t> parse_ids(const std::string& line) {
  std::vector<int32_t> ids;
  std::string t = trim(line);
  size_t at = 0;
  while (at < t.size()) {
    size_t comma = t.find(',', at);
    if (comma == std::string::npos) comma = t.size();
    ids.push_back(int32_t(std::stol(t.substr(at, comma - at))));
    at = comma + 1;
  }
  return ids;
}

size_t count_lines(const std::string& s) {
  return size_t(std::count(s.begin(), s.end(), '\n'));
}

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("rlx-run-cli-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

double max_abs_diff(const rlx::Tensor& a, const rlx::Tensor& b) {
  double worst = 0;
  for (int64_t i = 0; i < a.numel(); ++i)
    worst = std::max(worst, double(std::fabs(a.ptr<float>()[i] - b.ptr<float>()[i])));
  return worst;
}

// Runs with -n 0 --dump-logits and compares against `want_path` within 1e-4.
void expect_dump_matches(const std::string& family, const std::string& weights,
                         const std::string& ids, const std::string& want_path) {
  std::string out = temp_path("logits.npy");
  fs::remove(out);
  Result r = run_rlx("run " + family + " -m " + quote(weights) + " --prompt-ids " + ids +
                     " -n 0 -t 2 -q --dump-logits " + quote(out));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "") << "-n 0 generates nothing";
  ASSERT_TRUE(fs::exists(out));
  rlx::Tensor got = rlx::io::read_npy(out);
  rlx::Tensor want = rlx::io::read_npy(require_file(want_path));
  fs::remove(out);
  ASSERT_EQ(got.dtype(), rlx::DType::F32);
  ASSERT_EQ(got.shape(), want.shape());
  double worst = max_abs_diff(got, want);
  std::printf("%s: --dump-logits max|d| %.3g\n", want_path.c_str(), worst);
  EXPECT_LE(worst, 1e-4);
}

// (a) parity with transformers via --dump-logits, on every golden config of every family.
TEST(RunCli, DumpLogitsMatchesTransformers) {
  ASSERT_TRUE(rlx::clitest::binary_present());
  const std::string root = rlx::test::repo_dir() + "/tests/fixtures/";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"qwen3", "qwen3/tied"},
      {"qwen3", "qwen3/untied_headdim"},
      {"qwen3", "qwen3/yarn"},
      {"auto", "decoders/llama_rope_llama3"},
      {"auto", "decoders/smollm2_tied"},
      {"auto", "decoders/qwen2_bias"},
      {"auto", "decoders/gemma"},
      {"auto", "decoders/gemma2_softcap_window"},
      {"auto", "decoders/gemma3_local_global"}};
  for (auto& [family, sub] : cases) {
    const std::string dir = root + sub;
    expect_dump_matches(family, dir, join(read_ids(dir + "/input_ids.npy")), dir + "/logits.npy");
  }
}

// (c) parity with llama.cpp via --dump-logits.
TEST(RunCli, DumpLogitsMatchesLlamaCpp) {
  ASSERT_TRUE(rlx::clitest::binary_present());
  expect_dump_matches("qwen3", require_file(tiny_gguf()), kGgufPrompt,
                      rlx::test::shared_fixtures_dir() + "/gguf/tiny-qwen3-F32.logits.npy");
}

std::string greedy_args(const std::string& family, const std::string& weights,
                        const std::string& ids, int n) {
  return "run " + family + " -m " + quote(weights) + " --prompt-ids " + ids + " -n " +
         std::to_string(n) + " --temperature 0 --print-ids -q -t 2";
}

// (b) greedy ids, one comma-separated line.
TEST(RunCli, GreedyPrintIdsMatchesTransformers) {
  ASSERT_TRUE(rlx::clitest::binary_present());
  auto prompt = read_ids(tied_dir() + "/input_ids.npy");
  auto want = read_ids(tied_dir() + "/greedy_ids.npy");
  ASSERT_EQ(want.size(), 16u);
  Result r = run_rlx(greedy_args("qwen3", tied_dir(), join(prompt), 16));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, join(want) + "\n");
  EXPECT_EQ(r.err, "") << "-q leaves stderr empty on success";
}

TEST(RunCli, AutoDetectsQwen3) {
  ASSERT_TRUE(rlx::clitest::binary_present());
  auto prompt = read_ids(tied_dir() + "/input_ids.npy");
  auto want = read_ids(tied_dir() + "/greedy_ids.npy");
  Result r = run_rlx(greedy_args("auto", tied_dir(), join(prompt), 16));  // from config.json
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, join(want) + "\n");
  // From the GGUF's general.architecture: same output as naming the family.
  Result a = run_rlx(greedy_args("auto", require_file(tiny_gguf()), kGgufPrompt, 6));
  Result q = run_rlx(greedy_args("qwen3", tiny_gguf(), kGgufPrompt, 6));
  ASSERT_EQ(a.code, 0) << a.err;
  ASSERT_EQ(q.code, 0) << q.err;
  EXPECT_EQ(a.out, q.out);
  EXPECT_EQ(count_lines(a.out), 1u);
}

TEST(RunCli, KvTypeF16Runs) {
  ASSERT_TRUE(rlx::clitest::binary_present());
  auto prompt = read_ids(tied_dir() + "/input_ids.npy");
  auto want = read_ids(tied_dir() + "/greedy_ids.npy");
  Result r = run_rlx(greedy_args("qwen3", tied_dir(), join(prompt), 16) + " --kv-type f16");
  ASSERT_EQ(r.code, 0) << r.err;
  // The reference's top-2 margins are >= 0.45, far above F16 KV rounding.
  EXPECT_EQ(r.out, join(want) + "\n");
}

TEST(RunCli, SeededSamplingIsReproducible) {
  ASSERT_TRUE(rlx::clitest::binary_present());
  std::string base = "run qwen3 -m " + quote(require_file(tiny_gguf())) + " --prompt-ids " +
                     kGgufPrompt +
                     " -n 12 --temperature 1.5 --top-k 0 --top-p 1 --min-p 0 --print-ids -q -t 2";
  Result a = run_rlx(base + " --seed 7"), b = run_rlx(base + " --seed 7");
  ASSERT_EQ(a.code, 0) << a.err;
  ASSERT_EQ(b.code, 0) << b.err;
  EXPECT_EQ(a.out, b.out);
  EXPECT_EQ(count_lines(a.out), 1u);
}

std::string tokenize_ids(const std::string& text) {
  Result t = run_rlx("tokenize -m " + quote(tiny_gguf()) + " --text " + quote(text));
  EXPECT_EQ(t.code, 0) << t.err;
  return trim(t.out);
}

// (d) the text path: --prompt equals --prompt-ids of `rlx tokenize` (add_bos_token is false), and
// the plain-text output is `rlx tokenize --decode` of the generated ids.
TEST(RunCli, TextPromptMatchesTokenizeAndDecode) {
  ASSERT_TRUE(rlx::clitest::binary_present());
  const std::string gguf = require_file(tiny_gguf());
  const std::string ids = tokenize_ids("Hello world");
  ASSERT_FALSE(ids.empty());
  EXPECT_EQ(ids.find("1022"), std::string::npos) << "no BOS: the file says add_bos_token=false";

  const std::string common = " -n 8 --temperature 0 -q -t 2";
  Result by_text = run_rlx("run qwen3 -m " + quote(gguf) + " --prompt " + quote("Hello world") +
                           common + " --print-ids");
  Result by_ids =
      run_rlx("run qwen3 -m " + quote(gguf) + " --prompt-ids " + ids + common + " --print-ids");
  ASSERT_EQ(by_text.code, 0) << by_text.err;
  ASSERT_EQ(by_ids.code, 0) << by_ids.err;
  EXPECT_EQ(by_text.out, by_ids.out);
  ASSERT_EQ(count_lines(by_text.out), 1u);
  const std::string gen = trim(by_text.out);
  ASSERT_FALSE(gen.empty()) << "greedy continuation is empty (EOS first?)";

  Result plain =
      run_rlx("run qwen3 -m " + quote(gguf) + " --prompt " + quote("Hello world") + common);
  ASSERT_EQ(plain.code, 0) << plain.err;
  Result dec = run_rlx("tokenize -m " + quote(gguf) + " --decode " + gen);
  ASSERT_EQ(dec.code, 0) << dec.err;
  EXPECT_EQ(plain.out, dec.out);
}

TEST(RunCli, StopStringEndsGeneration) {
  ASSERT_TRUE(rlx::clitest::binary_present());
  const std::string gguf = require_file(tiny_gguf());
  const std::string base = "run qwen3 -m " + quote(gguf) + " --prompt-ids " + kGgufPrompt +
                           " --temperature 0 -q -t 2 -n 16";
  Result full_ids = run_rlx(base + " --print-ids");
  ASSERT_EQ(full_ids.code, 0) << full_ids.err;
  auto ids = parse_ids(full_ids.out);
  ASSERT_GE(ids.size(), 6u) << full_ids.out;
  Result full = run_rlx(base);
  ASSERT_EQ(full.code, 0) << full.err;
  const std::string text = trim(full.out);

  // Stop at the text of the k-th generated token, picking one whose text first appears there.
  std::string stop, before;
  size_t k = 0;
  for (k = 2; k + 1 < ids.size(); ++k) {
    std::vector<int32_t> head(ids.begin(), ids.begin() + long(k));
    Result h = run_rlx("tokenize -m " + quote(gguf) + " --decode " + join(head));
    Result p = run_rlx("tokenize -m " + quote(gguf) + " --decode " + std::to_string(ids[k]));
    ASSERT_EQ(h.code, 0) << h.err;
    ASSERT_EQ(p.code, 0) << p.err;
    std::string piece = p.out.substr(0, p.out.size() - 1);  // drop the newline --decode adds
    before = h.out.substr(0, h.out.size() - 1);
    if (piece.size() >= 2 && piece.find('\n') == std::string::npos &&
        piece.find('\'') == std::string::npos && (before + piece).find(piece) == before.size()) {
      stop = piece;
      break;
    }
  }
  ASSERT_FALSE(stop.empty()) << "no usable stop string in the greedy text: " << text;
  SCOPED_TRACE("stop string '" + stop + "' at token " + std::to_string(k));

  Result s_ids = run_rlx(base + " --print-ids --stop " + quote(stop));
  ASSERT_EQ(s_ids.code, 0) << s_ids.err;
  std::vector<int32_t> want(ids.begin(), ids.begin() + long(k) + 1);
  EXPECT_EQ(trim(s_ids.out), join(want))
      << "generation stops at the token that completes the stop string";

  Result s_txt = run_rlx(base + " --stop " + quote(stop));
  ASSERT_EQ(s_txt.code, 0) << s_txt.err;
  std::string got = trim(s_txt.out);
  EXPECT_LT(got.size(), text.size());
  EXPECT_EQ(text.rfind(got, 0), 0u) << "stopped text is a prefix of the full text";
  EXPECT_NE(got.find(stop), std::string::npos);

  // A stop string that never occurs changes nothing.
  Result never = run_rlx(base + " --print-ids --stop " + quote("zzqqzzqq-never"));
  ASSERT_EQ(never.code, 0) << never.err;
  EXPECT_EQ(never.out, full_ids.out);
}

// User errors: exit 1 and exactly one line on stderr (with -q), nothing on stdout.
void expect_user_error(const std::string& args, const std::string& mention = "") {
  SCOPED_TRACE(args);
  Result r = run_rlx(args + " -q");
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_EQ(r.out, "");
  if (!mention.empty()) {
    EXPECT_NE(r.err.find(mention), std::string::npos) << r.err;
  }
}

TEST(RunCli, UserErrors) {
  ASSERT_TRUE(rlx::clitest::binary_present());
  const std::string tied = quote(tied_dir());
  const std::string missing = temp_path("no-such-model.gguf");
  expect_user_error("run qwen3 -m " + quote(missing) + " --prompt-ids 1,2,3", missing);
  expect_user_error("run qwen3 -m " + tied + " --prompt hello --prompt-ids 1,2,3", "--prompt");
  expect_user_error("run qwen3 -m " + tied + " --prompt-ids 1,x,3", "--prompt-ids");
  expect_user_error("run qwen3 -m " + tied + " --prompt-ids 1,,3", "--prompt-ids");
  expect_user_error("run qwen3 -m " + tied + " --prompt-ids -5", "");
  expect_user_error("run nosuchfamily -m " + tied + " --prompt-ids 1,2,3", "nosuchfamily");
  expect_user_error("run qwen3 -m " + tied + " --prompt-ids 1,2,3 --max-seq 100000", "");
  expect_user_error("run qwen3 -m " + tied + " --prompt-ids 1,2,3 --kv-type q4", "q4");
  expect_user_error("run qwen3 -m " + tied + " -n 4", "");  // nothing to do
  expect_user_error("run qwen3 -m " + tied + " --prompt-ids 1,2,3 --temperature -1", "temperature");
  // The tied fixture has no tokenizer: text prompts are a user error, not a crash.
  expect_user_error("run qwen3 -m " + tied + " --prompt hello", "tokenizer");
  // A token id beyond the vocabulary (512) is a user error, not an out-of-bounds read.
  expect_user_error("run qwen3 -m " + tied + " --prompt-ids 1,512,3", "512");
}

TEST(RunCli, ErrorLeavesNoLogitsFile) {
  ASSERT_TRUE(rlx::clitest::binary_present());
  std::string out = temp_path("err-logits.npy");
  fs::remove(out);
  Result r = run_rlx("run qwen3 -m " + quote(tied_dir()) +
                     " --prompt-ids 1,2,3 --kv-type q4 -n 0 -q --dump-logits " + quote(out));
  EXPECT_EQ(r.code, 1);
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
