#include "rlx/audio/vad_segmenter.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "rlx/core/error.h"

namespace rlx::audio {
namespace {

// Seconds rounded to 3 decimals the way JavaScript's toFixed(3) does it: from the exact
// binary value of samples / rate. Formatting and parsing back keeps that rule without
// re-deriving it (a multiply-round-divide could differ in the last place).
double seconds_3(int64_t samples, int rate) {
  std::string s = fmt::format("{:.3f}", double(samples) / double(rate));
  return std::strtod(s.c_str(), nullptr);
}

}  // namespace

std::vector<SpeechSegment> speech_segments(std::span<const float> probs, int64_t num_samples,
                                           const VadParams& p) {
  RLX_CHECK(p.window > 0 && p.sample_rate > 0,
            "VAD: window ({}) and sample rate ({}) must be positive", p.window, p.sample_rate);
  RLX_CHECK(p.threshold >= 0.0 && p.threshold <= 1.0, "VAD: threshold {} is not in [0, 1]",
            p.threshold);
  RLX_CHECK(p.min_speech_duration_ms >= 0 && p.min_silence_duration_ms >= 0 && p.speech_pad_ms >= 0,
            "VAD: durations must not be negative");
  RLX_CHECK(num_samples >= 0, "VAD: negative sample count {}", num_samples);

  // Kept fractional, as Silero computes them (sr * ms / 1000 need not be whole).
  const double min_speech = double(p.sample_rate) * p.min_speech_duration_ms / 1000.0;
  const double min_silence = double(p.sample_rate) * p.min_silence_duration_ms / 1000.0;
  const double pad = double(p.sample_rate) * p.speech_pad_ms / 1000.0;
  const double neg = p.neg_threshold >= 0.0 ? p.neg_threshold : std::max(p.threshold - 0.15, 0.01);

  struct Raw {
    double start, end;
  };
  std::vector<Raw> speeches;
  bool triggered = false;
  int64_t start = 0;
  int64_t temp_end = 0;  // 0 = no pending end (window 0 can never be one: it would start speech)
  for (size_t i = 0; i < probs.size(); ++i) {
    const int64_t cur = int64_t(i) * p.window;
    const double prob = probs[i];
    if (prob >= p.threshold && temp_end != 0) temp_end = 0;
    if (prob >= p.threshold && !triggered) {
      triggered = true;
      start = cur;
      continue;
    }
    if (prob < neg && triggered) {
      if (temp_end == 0) temp_end = cur;
      if (double(cur - temp_end) < min_silence) continue;
      if (double(temp_end - start) >= min_speech)
        speeches.push_back({double(start), double(temp_end)});
      triggered = false;
      temp_end = 0;
    }
  }
  if (triggered && double(num_samples - start) >= min_speech) {
    speeches.push_back({double(start), double(num_samples)});
  }

  // Pad in place, in order: the previous segment's end is already padded when used.
  std::vector<SpeechSegment> out;
  for (size_t i = 0; i < speeches.size(); ++i) {
    const double prev_end = i == 0 ? 0.0 : speeches[i - 1].end;
    const double next_start =
        i + 1 == speeches.size() ? double(num_samples) : speeches[i + 1].start;
    const double s = std::max(speeches[i].start - pad, prev_end);
    const double e = std::min(speeches[i].end + pad, next_start);
    speeches[i].start = std::max(0.0, std::floor(s));
    speeches[i].end = std::min(double(num_samples), std::floor(e));
    SpeechSegment seg;
    seg.start_sample = int64_t(speeches[i].start);
    seg.end_sample = int64_t(speeches[i].end);
    seg.start = seconds_3(seg.start_sample, p.sample_rate);
    seg.end = seconds_3(seg.end_sample, p.sample_rate);
    out.push_back(seg);
  }
  return out;
}

}  // namespace rlx::audio
