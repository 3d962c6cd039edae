// Token sampling, in llama.cpp's order: penalties → top-k → top-p → min-p → temperature → draw.
// temperature 0 is greedy (argmax after penalties). Seeded, so runs are reproducible.
#pragma once
#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace rlx {

struct SamplingOptions {
  float temperature = 0.8f;
  int top_k = 40;                  // <= 0: off
  float top_p = 0.95f;             // >= 1: off
  float min_p = 0.05f;             // <= 0: off
  float repetition_penalty = 1.f;  // 1: off (divides positive logits, multiplies negative)
  float presence_penalty = 0.f;
  float frequency_penalty = 0.f;
  int penalty_last_n = 64;  // how many recent tokens the penalties look at
  uint64_t seed = 0;
};

class Sampler {
 public:
  explicit Sampler(const SamplingOptions& opt);
  // `history`: tokens so far (prompt and generated), used by the penalties.
  int32_t sample(std::span<const float> logits, std::span<const int32_t> history);
  const SamplingOptions& options() const { return opt_; }

 private:
  SamplingOptions opt_;
  std::mt19937_64 rng_;
  std::vector<std::pair<float, int32_t>> cand_;
};

}  // namespace rlx
