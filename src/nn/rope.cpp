#include "rlx/nn/rope.h"

#include <algorithm>
#include <cmath>

#include "rlx/core/error.h"

namespace rlx::nn {

RopeTable rope_table(double theta, int dims, const RopeScaling& s, int64_t max_positions) {
  RLX_CHECK(dims > 0 && dims % 2 == 0, "rotary dimension must be positive and even, got {}", dims);
  RopeTable t;
  const int half = dims / 2;
  // transformers computes inv_freq in float32 from an int64 arange: 1 / base^(arange(0,d,2)/d).
  auto base_freq = [&](double base) {
    std::vector<float> f(static_cast<size_t>(half));
    for (int i = 0; i < half; ++i) {
      float expo = float(2 * i) / float(dims);
      f[size_t(i)] = 1.0f / std::pow(float(base), expo);
    }
    return f;
  };
  if (s.type == "default" || s.type.empty()) {
    t.inv_freq = base_freq(theta);
  } else if (s.type == "linear") {
    t.inv_freq = base_freq(theta);
    for (auto& f : t.inv_freq) f = float(f / s.factor);
  } else if (s.type == "dynamic") {
    // Dynamic NTK at the configured maximum length (static form; transformers recomputes per
    // sequence length beyond original_max_position).
    double base = theta;
    if (s.original_max_position > 0 && max_positions > s.original_max_position)
      base = theta *
             std::pow(s.factor * double(max_positions) / s.original_max_position - (s.factor - 1),
                      double(dims) / (dims - 2));
    t.inv_freq = base_freq(base);
  } else if (s.type == "llama3") {
    RLX_CHECK(s.original_max_position > 0,
              "llama3 rope scaling needs original_max_position_embeddings");
    t.inv_freq = base_freq(theta);
    const double low_wavelen = s.original_max_position / s.low_freq_factor;
    const double high_wavelen = s.original_max_position / s.high_freq_factor;
    for (auto& f : t.inv_freq) {
      double wavelen = 2 * M_PI / f;
      if (wavelen > low_wavelen) {
        f = float(f / s.factor);
      } else if (wavelen >= high_wavelen) {
        double smooth = (s.original_max_position / wavelen - s.low_freq_factor) /
                        (s.high_freq_factor - s.low_freq_factor);
        f = float((1 - smooth) * f / s.factor + smooth * f);
      }
    }
  } else if (s.type == "yarn") {
    RLX_CHECK(s.original_max_position > 0,
              "yarn rope scaling needs original_max_position_embeddings");
    auto correction_dim = [&](double rot) {
      return dims * std::log(s.original_max_position / (rot * 2 * M_PI)) / (2 * std::log(theta));
    };
    double low = std::max(std::floor(correction_dim(s.beta_fast)), 0.0);
    double high = std::min(std::ceil(correction_dim(s.beta_slow)), double(dims - 1));
    if (low == high) high += 0.001;
    auto pos = base_freq(theta);
    t.inv_freq.resize(size_t(half));
    for (int i = 0; i < half; ++i) {
      double extrapolation = pos[size_t(i)], interpolation = pos[size_t(i)] / s.factor;
      double ramp = std::clamp((i - low) / (high - low), 0.0, 1.0);
      double extra_factor = 1 - ramp;
      t.inv_freq[size_t(i)] =
          float(interpolation * (1 - extra_factor) + extrapolation * extra_factor);
    }
    t.attention_factor =
        float(s.attention_factor > 0 ? s.attention_factor
                                     : (s.factor <= 1 ? 1.0 : 0.1 * std::log(s.factor) + 1.0));
  } else {
    fail("unsupported rope scaling type '{}' (supported: default, linear, dynamic, llama3, yarn)",
         s.type);
  }
  if (!s.freq_factors.empty()) {
    RLX_CHECK(s.freq_factors.size() == t.inv_freq.size(),
              "rope frequency factors: {} values for {} frequencies", s.freq_factors.size(),
              t.inv_freq.size());
    for (size_t i = 0; i < t.inv_freq.size(); ++i) t.inv_freq[i] /= s.freq_factors[i];
  }
  return t;
}

}  // namespace rlx::nn
