#include "rlx/runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "rlx/core/error.h"

namespace rlx {

Sampler::Sampler(const SamplingOptions& opt) : opt_(opt), rng_(opt.seed) {
  RLX_CHECK(opt.temperature >= 0, "temperature must be >= 0, got {}", opt.temperature);
  RLX_CHECK(opt.top_p > 0, "top-p must be > 0, got {}", opt.top_p);
  RLX_CHECK(opt.min_p >= 0 && opt.min_p <= 1, "min-p must be in [0, 1], got {}", opt.min_p);
  RLX_CHECK(opt.repetition_penalty > 0, "repetition penalty must be > 0, got {}",
            opt.repetition_penalty);
}

int32_t Sampler::sample(std::span<const float> logits, std::span<const int32_t> history) {
  const int32_t n = int32_t(logits.size());
  RLX_CHECK(n > 0, "cannot sample from empty logits");
  cand_.resize(size_t(n));
  for (int32_t i = 0; i < n; ++i) cand_[size_t(i)] = {logits[size_t(i)], i};

  // Penalties over the last penalty_last_n tokens.
  const bool penalize = opt_.repetition_penalty != 1.f || opt_.presence_penalty != 0.f ||
                        opt_.frequency_penalty != 0.f;
  if (penalize && !history.empty()) {
    std::unordered_map<int32_t, int> counts;
    size_t start = opt_.penalty_last_n < 0 || size_t(opt_.penalty_last_n) >= history.size()
                       ? 0
                       : history.size() - size_t(opt_.penalty_last_n);
    for (size_t i = start; i < history.size(); ++i) counts[history[i]]++;
    for (auto [tok, c] : counts) {
      if (tok < 0 || tok >= n) continue;
      float& l = cand_[size_t(tok)].first;
      l = l > 0 ? l / opt_.repetition_penalty : l * opt_.repetition_penalty;
      l -= float(c) * opt_.frequency_penalty + opt_.presence_penalty;
    }
  }
  if (opt_.temperature <= 0.f) {
    // Greedy; the first maximum wins, like argmax in the references.
    size_t best = 0;
    for (size_t i = 1; i < cand_.size(); ++i)
      if (cand_[i].first > cand_[best].first) best = i;
    return cand_[best].second;
  }
  auto by_logit = [](const auto& a, const auto& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  size_t keep = cand_.size();
  if (opt_.top_k > 0 && size_t(opt_.top_k) < keep) {
    keep = size_t(opt_.top_k);
    std::partial_sort(cand_.begin(), cand_.begin() + long(keep), cand_.end(), by_logit);
  } else {
    std::sort(cand_.begin(), cand_.end(), by_logit);
  }
  cand_.resize(keep);
  // Probabilities at temperature 1 for the top-p / min-p cuts (as llama.cpp's samplers do).
  auto softmax = [&](float temp) {
    std::vector<double> p(cand_.size());
    double mx = cand_[0].first, sum = 0;
    for (size_t i = 0; i < cand_.size(); ++i) sum += p[i] = std::exp((cand_[i].first - mx) / temp);
    for (auto& x : p) x /= sum;
    return p;
  };
  if (opt_.top_p < 1.f) {
    auto p = softmax(1.f);
    double cum = 0;
    size_t k = 0;
    while (k < p.size()) {
      cum += p[k++];
      if (cum >= opt_.top_p) break;
    }
    cand_.resize(std::max<size_t>(1, k));
  }
  if (opt_.min_p > 0.f) {
    auto p = softmax(1.f);
    size_t k = 1;
    while (k < p.size() && p[k] >= opt_.min_p * p[0]) ++k;
    cand_.resize(k);
  }
  auto p = softmax(opt_.temperature);
  std::discrete_distribution<size_t> dist(p.begin(), p.end());
  return cand_[dist(rng_)].second;
}

}  // namespace rlx
