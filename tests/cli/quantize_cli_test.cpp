// `rlx inspect --dump` against gguf-py's dequantized tensors, and `rlx quantize` end to end
// against the llama-quantize fixtures (../shared/fixtures/gguf/README.md).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "cli_test_util.h"
#include "rlx/io/gguf.h"
#include "rlx/io/npy.h"
#include "support/test_data.h"

namespace {

namespace fs = std::filesystem;
using rlx::clitest::quote;
using rlx::clitest::run_rlx;

std::string gguf_dir() {
  return rlx::test::shared_fixtures_dir() + "/gguf";
}

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() /
          ("rlx-quantize-cli-" + std::to_string(::getpid()) + "-" + name))
      .string();
}

// The dumped array equals gguf-py's dequantization bit for bit (shape and every float).
TEST(InspectDumpCli, MatchesGgufPyForSeveralTypes) {
  ASSERT_TRUE(rlx::clitest::binary_present());
  for (const char* type : {"F32", "F16", "BF16", "Q4_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K", "Q4_K",
                           "Q6_K", "IQ4_NL", "IQ4_XS", "Q4_K_M"}) {
    for (const char* tensor : {"blk.0.attn_q.weight", "blk.1.ffn_down.weight"}) {
      SCOPED_TRACE(std::string(type) + " " + tensor);
      const std::string stem = gguf_dir() + "/tiny-qwen3-" + type;
      const std::string out = temp_path(std::string(type) + ".npy");
      auto r = run_rlx("inspect " + quote(stem + ".gguf") + " --dump " + tensor + " " + quote(out));
      ASSERT_EQ(r.code, 0) << r.err;
      rlx::Tensor got = rlx::io::read_npy(out);
      rlx::Tensor want = rlx::io::read_npy(rlx::test::require_file(stem + "." + tensor + ".npy"));
      fs::remove(out);
      ASSERT_EQ(got.dtype(), rlx::DType::F32);
      ASSERT_EQ(got.shape(), want.shape());
      EXPECT_EQ(std::memcmp(got.data(), want.data(), size_t(want.nbytes())), 0);
    }
  }
}

TEST(InspectDumpCli, MissingTensorNamesClosest) {
  ASSERT_TRUE(rlx::clitest::binary_present());
  const std::string out = temp_path("missing.npy");
  auto r = run_rlx("inspect " + quote(gguf_dir() + "/tiny-qwen3-Q8_0.gguf") +
                   " --dump blk.0.attn_qq.weight " + quote(out));
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("blk.0.attn_qq.weight"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("blk.0.attn_q.weight"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
}

// Q4_K_M (the one mix fixture): same tensor types and the same bytes as llama-quantize.
TEST(QuantizeCli, Q4KMMatchesLlamaQuantize) {
  ASSERT_TRUE(rlx::clitest::binary_present());
  const std::string out = temp_path("Q4_K_M.gguf");
  fs::remove(out);
  auto r = run_rlx("quantize " + quote(gguf_dir() + "/tiny-qwen3-F32.gguf") + " " + quote(out) +
                   " --type Q4_K_M -t 2");
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.err.find("[  25/  25]"), std::string::npos) << r.err;  // progress on stderr
  EXPECT_TRUE(r.out.empty());
  auto got = rlx::io::GgufFile::open(out);
  auto want = rlx::io::GgufFile::open(gguf_dir() + "/tiny-qwen3-Q4_K_M.gguf");
  EXPECT_EQ(got.get_int("general.file_type"), 15);
  EXPECT_EQ(got.get_int("general.quantization_version"), 2);
  ASSERT_EQ(got.tensors().size(), want.tensors().size());
  for (size_t i = 0; i < want.tensors().size(); ++i) {
    const auto& w = want.tensors()[i];
    const auto& g = got.tensors()[i];
    SCOPED_TRACE(w.name);
    ASSERT_EQ(g.name, w.name);  // llama-quantize's order
    ASSERT_EQ(g.dtype, w.dtype);
    ASSERT_EQ(g.bytes, w.bytes);
    EXPECT_EQ(std::memcmp(got.tensor_view(g).data, want.tensor_view(w).data, w.bytes), 0);
  }

  // Refuses to overwrite without --overwrite; replaces with it.
  r = run_rlx("quantize " + quote(gguf_dir() + "/tiny-qwen3-F32.gguf") + " " + quote(out) +
              " --type Q8_0 -q");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("--overwrite"), std::string::npos) << r.err;
  r = run_rlx("quantize " + quote(gguf_dir() + "/tiny-qwen3-F32.gguf") + " " + quote(out) +
              " --type Q8_0 -q --overwrite");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_TRUE(r.err.empty()) << r.err;
  EXPECT_EQ(rlx::io::GgufFile::open(out).get_int("general.file_type"), 7);
  fs::remove(out);
}

TEST(QuantizeCli, UserErrors) {
  ASSERT_TRUE(rlx::clitest::binary_present());
  const std::string in = gguf_dir() + "/tiny-qwen3-F32.gguf";
  const std::string out = temp_path("err.gguf");
  fs::remove(out);
  auto r = run_rlx("quantize " + quote(in) + " " + quote(out) + " --type Q9_X");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("Q9_X"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Q4_K_M"), std::string::npos) << r.err;  // lists the valid names
  r = run_rlx("quantize " + quote(in) + " " + quote(out) + " --type Q4_K_M --imatrix x.dat");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("not supported yet"), std::string::npos) << r.err;
  r = run_rlx("quantize " + quote(gguf_dir() + "/tiny-qwen3-Q8_0.gguf") + " " + quote(out) +
              " --type Q4_K_M");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("requantizing"), std::string::npos) << r.err;
  r = run_rlx("quantize " + quote(gguf_dir() + "/no-such.gguf") + " " + quote(out) +
              " --type Q8_0");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("no-such.gguf"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(out));
}

}  // namespace
