// `rlx inspect`: JSON output (CONVENTIONS.md "Output formats") against the shared fixtures'
// expected.json, plain output, and user errors (exit 1, one line on stderr naming the file).
#include <gtest/gtest.h>

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

std::string gguf_dir() {
  return rlx::test::shared_fixtures_dir() + "/gguf";
}

nlohmann::json expected_json() {
  std::ifstream f(rlx::test::require_file(gguf_dir() + "/expected.json"));
  return nlohmann::json::parse(f);
}

size_t count_lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

TEST(InspectCli, JsonForEveryFixture) {
  ASSERT_TRUE(rlx::clitest::binary_present());
  nlohmann::json expected = expected_json();
  ASSERT_GE(expected.size(), 19u);
  for (auto& [file, e] : expected.items()) {
    SCOPED_TRACE(file);
    std::string path = rlx::test::require_file(gguf_dir() + "/" + file);
    auto r = run_rlx("inspect " + quote(path) + " --json");
    ASSERT_EQ(r.code, 0) << r.err;
    nlohmann::json j;
    ASSERT_NO_THROW(j = nlohmann::json::parse(r.out)) << r.out.substr(0, 400);
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j["format"], "gguf");
    EXPECT_EQ(j["version"], 3);
    EXPECT_EQ(j["tensor_count"], e["tensors"]);
    EXPECT_EQ(j["dtypes"], e["types"]);
    EXPECT_EQ(j["architecture"], e["arch"]);  // null for split shards 2 and 3
    ASSERT_TRUE(j["tensors"].is_array());
    EXPECT_EQ(j["tensors"].size(), e["tensors"].get<size_t>());
    int64_t bytes = 0;
    for (auto& t : j["tensors"]) {
      EXPECT_EQ(t["dtype"], e["tensor_types"][t["name"].get<std::string>()]) << t["name"];
      ASSERT_TRUE(t["shape"].is_array());
      ASSERT_TRUE(t.contains("offset") && t.contains("bytes"));
      bytes += t["bytes"].get<int64_t>();
    }
    EXPECT_EQ(j["bytes"], bytes);
    ASSERT_TRUE(j["metadata"].is_object());
    EXPECT_EQ(j["metadata_count"].get<size_t>(), j["metadata"].size());
    if (!e["file_type"].is_null()) {
      EXPECT_EQ(j["metadata"]["general.file_type"], e["file_type"]);
    }
    ASSERT_TRUE(j["shards"].is_array());
    if (e.contains("split")) {
      EXPECT_EQ(j["split"]["no"], e["split"]["no"]);
      EXPECT_EQ(j["split"]["count"], e["split"]["count"]);
      EXPECT_EQ(j["split"]["tensors_total"], e["split"]["tensors_total"]);
      EXPECT_EQ(j["shards"].size(), 3u);
      EXPECT_EQ(j["shards"][0], "tiny-qwen3-F16-00001-of-00003.gguf");
    } else {
      EXPECT_TRUE(j["shards"].empty());
      EXPECT_FALSE(j.contains("split"));
    }
    if (file == "tiny-qwen3-F32.gguf") {
      EXPECT_EQ(j["parameters"], bytes / 4);
      for (auto& t : j["tensors"])
        if (t["name"] == "token_embd.weight") {
          EXPECT_EQ(t["shape"], nlohmann::json({1024, 256}));
        }
      // Long arrays are summarized.
      EXPECT_EQ(j["metadata"]["tokenizer.ggml.tokens"]["count"], 1024);
    }
  }
}

TEST(InspectCli, PlainOutput) {
  auto r =
      run_rlx("inspect " + quote(rlx::test::require_file(gguf_dir() + "/tiny-qwen3-Q4_K_M.gguf")));
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("architecture:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("qwen3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Q4_K"), std::string::npos);
  EXPECT_NE(r.out.find("Q6_K"), std::string::npos);
  EXPECT_NE(r.out.find("tensors:       25"), std::string::npos) << r.out;
}

TEST(InspectCli, SplitDirectoryReadsAllShards) {
  fs::path dir = fs::temp_directory_path() / ("rlx-inspect-split-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (int i = 1; i <= 3; ++i) {
    std::string name = "tiny-qwen3-F16-0000" + std::to_string(i) + "-of-00003.gguf";
    fs::copy_file(rlx::test::require_file(gguf_dir() + "/" + name), dir / name);
  }
  auto r = run_rlx("inspect " + quote(dir.string()) + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["tensor_count"], 25);
  EXPECT_EQ(j["architecture"], "qwen3");
  EXPECT_EQ(j["files"].size(), 3u);
  EXPECT_EQ(j["dtypes"], nlohmann::json({{"F16", 16}, {"F32", 9}}));
  fs::remove(dir / "tiny-qwen3-F16-00002-of-00003.gguf");
  auto missing = run_rlx("inspect " + quote(dir.string()));
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("tiny-qwen3-F16-00002-of-00003.gguf"), std::string::npos)
      << missing.err;
  fs::remove_all(dir);
}

TEST(InspectCli, SafetensorsDirectory) {
  fs::path dir = fs::temp_directory_path() / ("rlx-inspect-st-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::string header =
      R"({"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]},)"
      R"("b":{"dtype":"BF16","shape":[4],"data_offsets":[24,32]}})";
  {
    std::ofstream f(dir / "model.safetensors", std::ios::binary);
    uint64_t n = header.size();
    f.write(reinterpret_cast<const char*>(&n), 8);
    f << header << std::string(32, '\0');
  }
  std::ofstream(dir / "config.json") << R"({"model_type": "toy_arch"})";
  auto r = run_rlx("inspect " + quote(dir.string()) + " --json");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["format"], "safetensors");
  EXPECT_EQ(j["architecture"], "toy_arch");
  EXPECT_EQ(j["tensor_count"], 2);
  EXPECT_EQ(j["dtypes"], nlohmann::json({{"BF16", 1}, {"F32", 1}}));
  EXPECT_EQ(j["parameters"], 10);
  EXPECT_EQ(j["bytes"], 32);
  EXPECT_EQ(j["metadata"]["format"], "pt");
  auto plain = run_rlx("inspect " + quote((dir / "model.safetensors").string()));
  ASSERT_EQ(plain.code, 0) << plain.err;
  EXPECT_NE(plain.out.find("toy_arch"), std::string::npos) << plain.out;
  fs::remove_all(dir);
}

TEST(InspectCli, MissingFile) {
  std::string path = "/nonexistent/dir/no-such-model.gguf";
  auto r = run_rlx("inspect " + quote(path));
  EXPECT_EQ(r.code, 1);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find(path), std::string::npos) << r.err;
  auto j = run_rlx("inspect " + quote(path) + " --json");
  EXPECT_EQ(j.code, 1);
  EXPECT_EQ(count_lines(j.err), 1u) << j.err;
}

TEST(InspectCli, BrokenFile) {
  fs::path p =
      fs::temp_directory_path() / ("rlx-inspect-broken-" + std::to_string(::getpid()) + ".gguf");
  std::ofstream(p) << "GGUF\x01\x00\x00\x00 definitely not a model";
  auto r = run_rlx("inspect " + quote(p.string()));
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find(p.string()), std::string::npos) << r.err;
  fs::remove(p);
}

TEST(InspectCli, VersionAndFlags) {
  auto v = run_rlx("--version");
  EXPECT_EQ(v.code, 0) << v.err;
  EXPECT_NE(v.out.find("rlx"), std::string::npos) << v.out;
  auto bad = run_rlx("inspect " + quote(gguf_dir() + "/tiny-qwen3-F32.gguf") + " --no-such-flag");
  EXPECT_EQ(bad.code, 1);
  EXPECT_FALSE(bad.err.empty());
  auto bad_top = run_rlx("--no-such-flag");
  EXPECT_EQ(bad_top.code, 1);
  auto no_cmd = run_rlx("");
  EXPECT_EQ(no_cmd.code, 1);
  auto no_path = run_rlx("inspect");
  EXPECT_EQ(no_path.code, 1);
}

}  // namespace
