// rlx vad AUDIO: speech segments (and per-window probabilities) with Silero VAD.
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>

#include "commands.h"
#include "rlx/audio/audio.h"
#include "rlx/core/log.h"
#include "rlx/models/silero_vad/vad.h"

namespace rlx::cli {
namespace {

struct VadFlags {
  std::string audio_path, model = "v6", weights;
  audio::VadParams params;
  bool json = false, frames = false, quiet = false;
  int threads = 1;
};

// Three decimals, as Silero prints seconds.
nlohmann::json seconds(double s) {
  return nlohmann::json::parse(fmt::format("{:.3f}", s));
}

int run_vad(const VadFlags& f) {
  if (f.quiet) set_log_level(LogLevel::Quiet);
  auto t0 = std::chrono::steady_clock::now();
  audio::Audio a = audio::load_audio_16k_mono(f.audio_path);
  auto model = models::silero_vad::Model::load(f.weights.empty() ? f.model : f.weights, f.threads);
  auto t1 = std::chrono::steady_clock::now();
  auto r = models::silero_vad::detect(model, a.samples, f.params);
  auto t2 = std::chrono::steady_clock::now();
  double secs = std::chrono::duration<double>(t2 - t1).count();
  log_info(
      "vad: {:.2f} s of audio, {} windows, model {}, {:.1f} ms (real-time factor {:.4f}); load "
      "{:.1f} ms",
      a.duration_s(), r.frames.size(), model->name(), secs * 1e3,
      secs / std::max(1e-9, a.duration_s()),
      std::chrono::duration<double, std::milli>(t1 - t0).count());
  if (f.json) {
    nlohmann::ordered_json out;
    out["sample_rate"] = models::silero_vad::kSampleRate;
    out["model"] = model->name();
    out["segments"] = nlohmann::ordered_json::array();
    for (auto& s : r.segments)
      out["segments"].push_back({{"start", seconds(s.start)}, {"end", seconds(s.end)}});
    if (f.frames) out["frames"] = r.frames;
    std::printf("%s\n", out.dump().c_str());
    return 0;
  }
  for (auto& s : r.segments) std::printf("%.3f-%.3f\n", s.start, s.end);
  if (f.frames)
    for (size_t i = 0; i < r.frames.size(); ++i)
      std::printf("frame %zu %.3f %.6f\n", i,
                  double(i) * models::silero_vad::kWindow / models::silero_vad::kSampleRate,
                  r.frames[i]);
  return 0;
}

}  // namespace

Runner add_vad(CLI::App& app) {
  auto f = std::make_shared<VadFlags>();
  auto* cmd =
      app.add_subcommand("vad", "Detect speech segments with Silero VAD (weights built in)");
  cmd->add_option("audio", f->audio_path,
                  "Audio file (WAV/FLAC/OGG, any rate; resampled to 16 kHz)")
      ->required();
  cmd->add_option("--model", f->model, "Built-in model: v6 (default) or v5")
      ->check(CLI::IsMember({"v5", "v6"}));
  cmd->add_option("-m,--weights", f->weights, "Silero safetensors file (overrides --model)");
  cmd->add_option("--threshold", f->params.threshold, "Speech probability threshold")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--neg-threshold", f->params.neg_threshold,
                  "End-of-speech threshold (default: threshold - 0.15)");
  cmd->add_option("--min-speech-ms", f->params.min_speech_duration_ms,
                  "Drop segments shorter than this")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--min-silence-ms", f->params.min_silence_duration_ms,
                  "Silence needed to end a segment")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--speech-pad-ms", f->params.speech_pad_ms, "Padding added to each segment")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--json", f->json, "Print one JSON object");
  cmd->add_flag("--frames", f->frames, "Also print one probability per 512-sample window");
  cmd->add_flag("-q,--quiet", f->quiet, "No log output on stderr");
  add_threads_flag(*cmd, f->threads);
  return [f]() { return run_vad(*f); };
}

}  // namespace rlx::cli
