// Silero VAD v5/v6 (16 kHz) on the rlx runtime: a streaming detector (512-sample windows with
// a 64-sample context and LSTM state carried across calls) and whole-file helpers.
#pragma once
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "rlx/audio/vad_segmenter.h"
#include "rlx/runtime/program.h"

namespace rlx::io {
class WeightStore;
}

namespace rlx::models::silero_vad {

constexpr int kSampleRate = 16000;
constexpr int kWindow = 512;
constexpr int kContext = 64;
constexpr int kHidden = 128;

// Weights: "v5" / "v6" select the copies embedded in the binary; anything else is a path to a
// safetensors file with the tensor names of models/silero_vad/README.md.
class Model {
 public:
  static std::shared_ptr<Model> load(const std::string& name_or_path, int threads = 1);
  const std::string& name() const { return name_; }
  Program& program() { return *program_; }

 private:
  std::string name_;
  std::shared_ptr<io::WeightStore> weights_;
  std::unique_ptr<Program> program_;
};

// Streaming detector. Feed whole 512-sample windows at 16 kHz; state persists until reset().
class Stream {
 public:
  explicit Stream(std::shared_ptr<Model> model);
  float process(std::span<const float> window);  // exactly kWindow samples
  void reset();

 private:
  std::shared_ptr<Model> model_;
  std::vector<float> input_;  // context + window
  Tensor h_, c_;
};

struct Result {
  std::vector<float> frames;  // one probability per full window
  std::vector<audio::SpeechSegment> segments;
};

// Runs a whole 16 kHz mono signal through a fresh stream. Segments follow Silero's
// get_speech_timestamps, which also scores a zero-padded final partial window.
Result detect(const std::shared_ptr<Model>& model, std::span<const float> samples,
              const audio::VadParams& params = {});

}  // namespace rlx::models::silero_vad
