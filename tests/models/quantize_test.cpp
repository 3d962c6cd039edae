// rlx quantize's type policy and output against llama-quantize: every fixture in
// ../shared/fixtures/gguf was made from tiny-qwen3-F32.gguf by llama-quantize (README.md there);
// rlx must pick the same tensor types and write the same bytes.
#include <gtest/gtest.h>

#include <unistd.h>
#include <cstring>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "rlx/core/error.h"
#include "rlx/io/gguf.h"
#include "rlx/models/quant_policy.h"
#include "rlx/models/quantize.h"
#include "support/test_data.h"

namespace rlx::test {
namespace {

namespace fs = std::filesystem;
using models::QuantTensor;

std::string gguf_dir() {
  return shared_fixtures_dir() + "/gguf";
}

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>()};
}

// fixture stem suffix → (rlx --type, --pure), as the fixtures' README lists the commands.
const std::vector<std::tuple<std::string, std::string, bool>> kFixtures = {
    {"F16", "F16", true},       {"BF16", "BF16", true},     {"Q4_0", "Q4_0", true},
    {"Q4_1", "Q4_1", true},     {"Q5_0", "Q5_0", true},     {"Q5_1", "Q5_1", true},
    {"Q8_0", "Q8_0", true},     {"Q2_K", "Q2_K", true},     {"Q3_K", "Q3_K_S", true},
    {"Q4_K", "Q4_K_S", true},   {"Q5_K", "Q5_K_S", true},   {"Q6_K", "Q6_K", true},
    {"IQ4_NL", "IQ4_NL", true}, {"IQ4_XS", "IQ4_XS", true}, {"Q4_K_M", "Q4_K_M", false},
};

TEST(Quantize, EveryFixtureTypesAndBytesMatchLlamaQuantize) {
  std::ifstream ef(require_file(gguf_dir() + "/expected.json"));
  nlohmann::json expected = nlohmann::json::parse(ef);
  const std::string f32 = require_file(gguf_dir() + "/tiny-qwen3-F32.gguf");
  int identical_files = 0;
  for (auto& [stem, type, pure] : kFixtures) {
    SCOPED_TRACE(stem);
    const std::string ref_path = gguf_dir() + "/tiny-qwen3-" + stem + ".gguf";
    const std::string out =
        (fs::temp_directory_path() /
         ("rlx-quantize-test-" + std::to_string(::getpid()) + "-" + stem + ".gguf"))
            .string();
    models::QuantizeOptions o;
    o.input = f32;
    o.output = out;
    o.type = type;
    o.pure = pure;
    o.overwrite = true;
    o.threads = 2;
    o.verbose = false;
    models::QuantizeResult r = models::quantize_model(o);
    auto got = io::GgufFile::open(out);
    auto want = io::GgufFile::open(require_file(ref_path));
    const auto& e = expected["tiny-qwen3-" + stem + ".gguf"];
    EXPECT_EQ(got.get_int("general.file_type"), e["file_type"].get<int64_t>());
    EXPECT_EQ(r.ftype, e["file_type"].get<int>());
    EXPECT_EQ(got.get_int("general.quantization_version"), 2);
    ASSERT_EQ(got.tensors().size(), want.tensors().size());
    int same = 0;
    for (size_t i = 0; i < want.tensors().size(); ++i) {
      const auto& w = want.tensors()[i];
      const auto& g = got.tensors()[i];
      SCOPED_TRACE(w.name);
      ASSERT_EQ(g.name, w.name);
      EXPECT_EQ(dtype_name(g.dtype), e["tensor_types"][w.name].get<std::string>());
      ASSERT_EQ(g.dtype, w.dtype);
      ASSERT_EQ(g.shape, w.shape);
      ASSERT_EQ(g.bytes, w.bytes);
      bool eq = std::memcmp(got.tensor_view(g).data, want.tensor_view(w).data, w.bytes) == 0;
      EXPECT_TRUE(eq);
      same += eq;
    }
    const bool whole = slurp(out) == slurp(ref_path);
    identical_files += whole;
    std::printf("%-8s --type %-7s%s  tensors with identical bytes %d/%zu  whole file %s\n",
                stem.c_str(), type.c_str(), pure ? " --pure" : "       ", same,
                want.tensors().size(), whole ? "identical" : "differs");
    fs::remove(out);
  }
  std::printf("files byte-identical to llama-quantize's: %d/%zu\n", identical_files,
              kFixtures.size());
}

// A 32-layer dense model with GQA 4: the mix rules of llama-quantize (llama-quant.cpp).
std::vector<QuantTensor> synthetic(int layers, int64_t hidden, bool tied) {
  std::vector<QuantTensor> t;
  t.push_back({"token_embd.weight", Shape{1000, hidden}, DType::F16});
  t.push_back({"output_norm.weight", Shape{hidden}, DType::F32});
  if (!tied) t.push_back({"output.weight", Shape{1000, hidden}, DType::F16});
  for (int i = 0; i < layers; ++i) {
    const std::string p = "blk." + std::to_string(i) + ".";
    for (const char* n : {"attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up"})
      t.push_back({p + n + ".weight", Shape{hidden, hidden}, DType::F16});
    t.push_back({p + "ffn_down.weight", Shape{hidden, 2 * hidden}, DType::F16});
    t.push_back({p + "attn_norm.weight", Shape{hidden}, DType::F32});
  }
  std::vector<std::string> names;
  for (auto& x : t) names.push_back(x.name);
  std::vector<QuantTensor> ordered;
  for (size_t i : models::quantize_order(names)) ordered.push_back(t[i]);
  return ordered;
}

std::map<std::string, DType> choose(const std::string& type, const std::vector<QuantTensor>& t,
                                    int layers, bool pure = false) {
  auto ft = models::quant_file_type(type);
  EXPECT_TRUE(ft.has_value()) << type;
  models::QuantPolicyOptions o;
  o.pure = pure;
  auto types = models::choose_tensor_types(*ft, t, {layers, 32, 8}, o);
  std::map<std::string, DType> m;
  for (size_t i = 0; i < t.size(); ++i) m[t[i].name] = types[i];
  return m;
}

TEST(QuantPolicy, MixRules) {
  auto t = synthetic(32, 4096, false);
  auto m = choose("Q4_K_M", t, 32);
  EXPECT_EQ(m["output.weight"], DType::Q6_K);
  EXPECT_EQ(m["token_embd.weight"], DType::Q4_K);
  EXPECT_EQ(m["output_norm.weight"], DType::F32);
  // use_more_bits: layers < 4, >= 28, and (i - 4) % 3 == 2.
  for (int i = 0; i < 32; ++i) {
    bool more = i < 4 || i >= 28 || (i - 4) % 3 == 2;
    const std::string p = "blk." + std::to_string(i) + ".";
    EXPECT_EQ(m[p + "attn_v.weight"], more ? DType::Q6_K : DType::Q4_K) << i;
    EXPECT_EQ(m[p + "ffn_down.weight"], more ? DType::Q6_K : DType::Q4_K) << i;
    EXPECT_EQ(m[p + "attn_q.weight"], DType::Q4_K);
    EXPECT_EQ(m[p + "attn_norm.weight"], DType::F32);
  }
  m = choose("Q3_K_M", t, 32);
  EXPECT_EQ(m["blk.0.attn_v.weight"], DType::Q5_K);
  EXPECT_EQ(m["blk.2.attn_v.weight"], DType::Q4_K);
  EXPECT_EQ(m["blk.1.ffn_down.weight"], DType::Q5_K);
  EXPECT_EQ(m["blk.2.ffn_down.weight"], DType::Q4_K);
  EXPECT_EQ(m["blk.5.attn_output.weight"], DType::Q4_K);
  EXPECT_EQ(m["blk.5.attn_q.weight"], DType::Q3_K);
  m = choose("Q2_K", t, 32);  // GQA 4
  EXPECT_EQ(m["blk.7.attn_v.weight"], DType::Q4_K);
  EXPECT_EQ(m["blk.7.ffn_down.weight"], DType::Q3_K);
  EXPECT_EQ(m["blk.7.attn_output.weight"], DType::Q3_K);
  m = choose("Q4_K_S", t, 32);
  EXPECT_EQ(m["blk.3.attn_v.weight"], DType::Q5_K);
  EXPECT_EQ(m["blk.4.attn_v.weight"], DType::Q4_K);
  EXPECT_EQ(m["blk.3.ffn_down.weight"], DType::Q5_K);
  EXPECT_EQ(m["blk.4.ffn_down.weight"], DType::Q4_K);
  m = choose("IQ4_XS", t, 32);
  EXPECT_EQ(m["blk.9.attn_v.weight"], DType::Q5_K);
  EXPECT_EQ(m["blk.1.ffn_down.weight"], DType::Q5_K);
  EXPECT_EQ(m["blk.9.ffn_down.weight"], DType::IQ4_XS);
  m = choose("Q8_0", t, 32);
  EXPECT_EQ(m["output.weight"], DType::Q8_0);
  m = choose("Q4_0", t, 32);
  EXPECT_EQ(m["output.weight"], DType::Q6_K);
  m = choose("Q4_0", t, 32, true);
  EXPECT_EQ(m["output.weight"], DType::Q4_0);
  m = choose("F16", t, 32);
  EXPECT_EQ(m["blk.0.attn_v.weight"], DType::F16);
  EXPECT_EQ(m["blk.0.attn_norm.weight"], DType::F32);
  m = choose("MXFP4", t, 32);  // a dense model: everything Q8_0
  EXPECT_EQ(m["blk.0.attn_v.weight"], DType::Q8_0);
  // Tied embeddings: token_embd is quantized like output.weight.
  m = choose("Q4_K_M", synthetic(32, 4096, true), 32);
  EXPECT_EQ(m["token_embd.weight"], DType::Q6_K);
}

TEST(QuantPolicy, FallbackTypes) {
  using models::fallback_type;
  EXPECT_EQ(fallback_type(DType::Q4_K, 4096), DType::Q4_K);
  EXPECT_EQ(fallback_type(DType::Q4_K, 320), DType::Q5_0);
  EXPECT_EQ(fallback_type(DType::Q5_K, 320), DType::Q5_1);
  EXPECT_EQ(fallback_type(DType::Q6_K, 320), DType::Q8_0);
  EXPECT_EQ(fallback_type(DType::Q2_K, 320), DType::Q4_0);
  EXPECT_EQ(fallback_type(DType::Q3_K, 320), DType::Q4_0);
  EXPECT_EQ(fallback_type(DType::IQ4_XS, 320), DType::IQ4_NL);
  EXPECT_EQ(fallback_type(DType::Q4_K, 100), DType::F16);
  EXPECT_EQ(fallback_type(DType::Q8_0, 100), DType::F16);
  // Output with rows not a multiple of 256: Q8_0 (llama-quantize's rule).
  std::vector<QuantTensor> t = {{"output.weight", Shape{1000, 320}, DType::F32},
                                {"blk.0.attn_q.weight", Shape{320, 320}, DType::F32}};
  auto types = models::choose_tensor_types(*models::quant_file_type("q4_k_m"), t, {1, 4, 4});
  EXPECT_EQ(types[0], DType::Q8_0);
  EXPECT_EQ(types[1], DType::Q5_0);
}

TEST(QuantPolicy, Order) {
  std::vector<std::string> n = {"token_embd.weight", "blk.10.attn_q.weight", "blk.2.ffn_up.weight",
                                "output.weight", "blk.2.attn_k.weight"};
  auto idx = models::quantize_order(n);
  std::vector<std::string> got;
  for (size_t i : idx) got.push_back(n[i]);
  EXPECT_EQ(got,
            (std::vector<std::string>{"output.weight", "token_embd.weight", "blk.2.attn_k.weight",
                                      "blk.2.ffn_up.weight", "blk.10.attn_q.weight"}));
  EXPECT_FALSE(models::quant_file_type("Q9_K").has_value());
  EXPECT_EQ(models::quant_file_type("mxfp4")->name, "MXFP4_MOE");
}

}  // namespace
}  // namespace rlx::test
