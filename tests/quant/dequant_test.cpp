// Dequantization must be bit-identical with gguf-py / ggml: every tiny-qwen3 fixture's
// blk.0.attn_q.weight and blk.1.ffn_down.weight vs the gguf-py arrays saved beside it, and a
// small MXFP4 fixture made with gguf-py (scripts/ref/gen_mxfp4_fixture.py).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "rlx/core/error.h"
#include "rlx/core/quant.h"
#include "rlx/io/gguf.h"
#include "rlx/io/npy.h"
#include "support/test_data.h"

namespace rlx {
namespace {

std::string gguf_dir() {
  return test::shared_fixtures_dir() + "/gguf";
}

// Dequantizes a GGUF tensor row by row into floats.
std::vector<float> dequantize_tensor(const io::GgufFile& f, const io::GgufTensorInfo& info) {
  TensorView v = f.tensor_view(info);
  const int64_t k = info.shape.back(), rows = info.shape.numel() / k;
  std::vector<float> out(size_t(info.shape.numel()));
  const auto* p = static_cast<const uint8_t*>(v.data);
  const int64_t rb = dtype_bytes(info.dtype, k);
  for (int64_t r = 0; r < rows; ++r)
    dequantize_row(info.dtype, p + r * rb, out.data() + r * k, k, info.name.c_str());
  return out;
}

class DequantFixture : public ::testing::TestWithParam<std::string> {};

TEST_P(DequantFixture, BitIdenticalWithGgufPy) {
  const std::string stem = "tiny-qwen3-" + GetParam();
  const std::string path = test::require_file(gguf_dir() + "/" + stem + ".gguf");
  auto f = io::GgufFile::open(path);
  for (const char* name : {"blk.0.attn_q.weight", "blk.1.ffn_down.weight"}) {
    SCOPED_TRACE(name);
    const auto* info = f.find_tensor(name);
    ASSERT_NE(info, nullptr);
    auto got = dequantize_tensor(f, *info);
    Tensor ref = io::read_npy(test::require_file(gguf_dir() + "/" + stem + "." + name + ".npy"));
    ASSERT_EQ(ref.numel(), int64_t(got.size()));
    ASSERT_EQ(ref.shape().to_vector(), info->shape.to_vector());
    const float* r = ref.ptr<float>();
    int64_t mismatches = 0;
    for (size_t i = 0; i < got.size(); ++i)
      if (std::memcmp(&got[i], &r[i], 4) != 0 && ++mismatches <= 3)
        ADD_FAILURE() << dtype_name(info->dtype) << " element " << i << ": " << got[i]
                      << " != " << r[i];
    EXPECT_EQ(mismatches, 0) << dtype_name(info->dtype);
  }
}

INSTANTIATE_TEST_SUITE_P(AllTypes, DequantFixture,
                         ::testing::Values("F32", "F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1",
                                           "Q8_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K", "IQ4_NL",
                                           "IQ4_XS", "Q4_K_M"));

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// tests/fixtures/quant/mxfp4.bin: raw MXFP4 blocks from gguf-py's quantizer; mxfp4.src.npy the
// floats it quantized; mxfp4.deq.npy gguf-py's dequantization of those blocks.
TEST(Dequant, Mxfp4MatchesGgufPy) {
  const std::string dir = test::repo_dir() + "/tests/fixtures/quant";
  auto raw = read_bytes(test::require_file(dir + "/mxfp4.bin"));
  Tensor src = io::read_npy(test::require_file(dir + "/mxfp4.src.npy"));
  Tensor deq = io::read_npy(test::require_file(dir + "/mxfp4.deq.npy"));
  const int64_t n = src.numel();
  ASSERT_EQ(int64_t(raw.size()), dtype_bytes(DType::MXFP4, n));
  std::vector<float> got(static_cast<size_t>(n));
  dequantize_row(DType::MXFP4, raw.data(), got.data(), n);
  EXPECT_EQ(std::memcmp(got.data(), deq.ptr<float>(), size_t(n) * 4), 0);
  // rlx's quantizer gives gguf-py's bytes.
  std::vector<uint8_t> mine(raw.size());
  quantize_row(DType::MXFP4, src.ptr<float>(), mine.data(), n);
  EXPECT_EQ(mine, raw);
}

TEST(Dequant, UnsupportedTypeThrowsNamingIt) {
  std::vector<uint8_t> buf(1024);
  std::vector<float> out(256);
  for (DType t : {DType::IQ2_XXS, DType::IQ1_S, DType::IQ3_S, DType::TQ1_0, DType::NVFP4}) {
    EXPECT_FALSE(can_dequantize(t));
    try {
      dequantize_row(t, buf.data(), out.data(), block_size(t), "blk.0.attn_q.weight");
      ADD_FAILURE() << "no throw for " << dtype_name(t);
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(dtype_name(t)), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("blk.0.attn_q.weight"), std::string::npos);
    }
  }
}

}  // namespace
}  // namespace rlx
