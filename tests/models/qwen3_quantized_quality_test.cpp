// Qwen3 golden model with hidden_size 256 (tiny-qwen3-F32.gguf: random weights, real vocab)
// quantized by rlx quantize to Q8_0 / Q6_K / Q4_K_M: logits against the F32 model (issue 4).
#include <gtest/gtest.h>

#include <unistd.h>
#include <cmath>

#include <filesystem>

#include "rlx/models/quantize.h"
#include "rlx/models/qwen3/qwen3.h"
#include "support/test_data.h"

namespace rlx::test {
namespace {

namespace fs = std::filesystem;

const std::vector<int32_t> kPrompt = {1, 5, 9, 100, 200, 300, 7, 8, 42, 77, 3, 11};

Tensor logits_of(const std::string& path) {
  auto runner =
      models::qwen3::Runner::builder().weights(path).max_seq(64).threads(2).verbose(false).build();
  return runner.predict_logits(kPrompt);
}

TEST(Qwen3Quantized, LogitsCosineAndTop1VsF32) {
  const std::string f32 = require_file(shared_fixtures_dir() + "/gguf/tiny-qwen3-F32.gguf");
  Tensor ref = logits_of(f32);
  const int64_t rows = ref.shape()[0], V = ref.shape()[1];
  std::printf("%-7s %10s %10s %8s %10s\n", "type", "cosine", "min-row", "top-1", "MiB");
  for (auto [type, threshold] : std::vector<std::pair<std::string, double>>{
           {"Q8_0", 0.999}, {"Q6_K", 0.99}, {"Q4_K_M", 0.95}}) {
    const std::string out =
        (fs::temp_directory_path() /
         ("rlx-qwen3-quality-" + std::to_string(::getpid()) + "-" + type + ".gguf"))
            .string();
    models::QuantizeOptions o;
    o.input = f32;
    o.output = out;
    o.type = type;
    o.overwrite = true;
    o.threads = 2;
    o.verbose = false;
    auto res = models::quantize_model(o);
    Tensor got = logits_of(out);
    fs::remove(out);
    ASSERT_EQ(got.shape(), ref.shape());
    double dot = 0, ng = 0, nr = 0, min_row = 1;
    int top1 = 0;
    for (int64_t r = 0; r < rows; ++r) {
      const float* g = got.ptr<float>() + r * V;
      const float* w = ref.ptr<float>() + r * V;
      double rd = 0, rg = 0, rw = 0;
      int64_t ag = 0, aw = 0;
      for (int64_t v = 0; v < V; ++v) {
        rd += double(g[v]) * w[v], rg += double(g[v]) * g[v], rw += double(w[v]) * w[v];
        if (g[v] > g[ag]) ag = v;
        if (w[v] > w[aw]) aw = v;
      }
      dot += rd, ng += rg, nr += rw;
      min_row = std::min(min_row, rd / std::sqrt(rg * rw));
      top1 += ag == aw;
    }
    const double cosine = dot / std::sqrt(ng * nr);
    std::printf("%-7s %10.6f %10.6f %5d/%-2lld %10.3f\n", type.c_str(), cosine, min_row, top1,
                (long long)rows, double(res.bytes_out) / 1048576.0);
    EXPECT_GE(cosine, threshold) << type;
  }
}

}  // namespace
}  // namespace rlx::test
