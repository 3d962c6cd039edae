// `rlx vad --json --frames` on jfk.wav against the onnxruntime reference
// (tests/fixtures/silero_vad/ref_jfk.json), for v6 (default) and v5; user errors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_test_util.h"
#include "support/test_data.h"

namespace {

namespace fs = std::filesystem;
using rlx::clitest::quote;
using rlx::clitest::run_rlx;

nlohmann::json ref_jfk() {
  std::ifstream f(
      rlx::test::require_file(rlx::test::repo_dir() + "/tests/fixtures/silero_vad/ref_jfk.json"));
  return nlohmann::json::parse(f);
}

std::string jfk_path(const nlohmann::json& ref) {
  std::string src = ref["source"];
  EXPECT_EQ(src.rfind("data:", 0), 0u) << src;
  return rlx::test::require_file(rlx::test::data_dir() + "/" + src.substr(5));
}

void check_vad(const std::string& model, const std::string& flags) {
  ASSERT_TRUE(rlx::clitest::binary_present());
  nlohmann::json ref = ref_jfk();
  auto r = run_rlx("vad " + quote(jfk_path(ref)) + " --json --frames -q" + flags);
  ASSERT_EQ(r.code, 0) << r.err;
  nlohmann::json j;
  ASSERT_NO_THROW(j = nlohmann::json::parse(r.out)) << r.out.substr(0, 300);
  EXPECT_EQ(j["sample_rate"], 16000);
  EXPECT_EQ(j["model"], model);
  const auto& m = ref["models"][model];
  ASSERT_TRUE(j["segments"].is_array());
  ASSERT_EQ(j["segments"].size(), m["segments"].size()) << j["segments"].dump();
  for (size_t i = 0; i < m["segments"].size(); ++i) {
    // Both sides are rounded to 3 decimals: equal to within float noise.
    EXPECT_NEAR(j["segments"][i]["start"].get<double>(), m["segments"][i]["start"].get<double>(),
                1e-9)
        << i;
    EXPECT_NEAR(j["segments"][i]["end"].get<double>(), m["segments"][i]["end"].get<double>(), 1e-9)
        << i;
    EXPECT_EQ(j["segments"][i].size(), 2u);  // just start and end
  }
  ASSERT_TRUE(j["frames"].is_array());
  ASSERT_EQ(j["frames"].size(), m["frames"].size());
  EXPECT_EQ(j["frames"].size(), size_t(ref["num_samples"].get<int64_t>() / 512));
  double max_diff = 0;
  for (size_t i = 0; i < m["frames"].size(); ++i)
    max_diff =
        std::max(max_diff, std::abs(j["frames"][i].get<double>() - m["frames"][i].get<double>()));
  std::cout << "[ vad cli ] jfk " << model << " frames " << j["frames"].size()
            << " max |diff| vs ORT " << max_diff << "\n";
  EXPECT_LE(max_diff, 1e-4);
}

TEST(VadCli, JfkV6Default) {
  check_vad("v6", "");
}
TEST(VadCli, JfkV6Explicit) {
  check_vad("v6", " --model v6");
}
TEST(VadCli, JfkV5) {
  check_vad("v5", " --model v5");
}

TEST(VadCli, PlainOutputAndNoFrames) {
  nlohmann::json ref = ref_jfk();
  auto r = run_rlx("vad " + quote(jfk_path(ref)) + " -q");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("0.322-2.270\n"), std::string::npos) << r.out;
  size_t lines = 0;
  for (char c : r.out) lines += c == '\n';
  EXPECT_EQ(lines, ref["models"]["v6"]["segments"].size());
  auto j = run_rlx("vad " + quote(jfk_path(ref)) + " -q --json");
  ASSERT_EQ(j.code, 0) << j.err;
  EXPECT_FALSE(nlohmann::json::parse(j.out).contains("frames"));
}

TEST(VadCli, NonAudioFile) {
  fs::path p =
      fs::temp_directory_path() / ("rlx-vad-not-audio-" + std::to_string(::getpid()) + ".wav");
  std::ofstream(p) << "this is a text file, not audio\n";
  auto r = run_rlx("vad " + quote(p.string()));
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find(p.string()), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  fs::remove(p);
  auto missing = run_rlx("vad /nonexistent/audio.wav");
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("/nonexistent/audio.wav"), std::string::npos) << missing.err;
}

TEST(VadCli, BadFlags) {
  EXPECT_EQ(run_rlx("vad x.wav --model v4").code, 1);
  EXPECT_EQ(run_rlx("vad x.wav --threshold 2").code, 1);
  EXPECT_EQ(run_rlx("vad").code, 1);
}

}  // namespace
