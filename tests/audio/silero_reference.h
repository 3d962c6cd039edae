// Plain-loop reference of the Silero VAD v5/v6 16 kHz forward pass (no graph, no runtime),
// written from models/silero_vad/README.md. It exists to prove that spec and the converted
// safetensors weights reproduce onnxruntime's outputs; rlx's real implementation is
// checked against the same fixtures.
#pragma once
#include <map>
#include <span>
#include <string>
#include <vector>

namespace rlx::test::silero {

struct Weight {
  std::vector<int64_t> shape;
  std::vector<float> data;
};
using Weights = std::map<std::string, Weight>;

// Minimal safetensors reader (F32 only), enough for the converted Silero files.
Weights load_safetensors(const std::string& path);

class SileroReference {
 public:
  static constexpr int kWindow = 512;  // samples per call at 16 kHz
  static constexpr int kContext = 64;  // previous samples prepended to each window
  static constexpr int kHidden = 128;  // LSTM state size

  explicit SileroReference(Weights w);
  void reset();
  // One streaming step on kWindow samples; returns the speech probability.
  float step(std::span<const float> window);
  // Probabilities of every full window of `samples` (a final partial window is dropped).
  std::vector<float> run(std::span<const float> samples);

 private:
  const std::vector<float>& w(const std::string& name) const;
  Weights weights_;
  std::vector<float> h_, c_, context_;
};

}  // namespace rlx::test::silero
