// Silero VAD v5/v6 on the rlx runtime against onnxruntime's per-window probabilities
// (tests/fixtures/silero_vad/ref_*.json), streaming vs whole-file, and file vs embedded weights.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "rlx/audio/audio.h"
#include "rlx/core/error.h"
#include "rlx/models/silero_vad/vad.h"
#include "support/test_data.h"

namespace {

namespace vad = rlx::models::silero_vad;

std::string fixture(const std::string& name) {
  return rlx::test::repo_dir() + "/tests/fixtures/silero_vad/" + name;
}

nlohmann::json load_json(const std::string& path) {
  std::ifstream f(rlx::test::require_file(path));
  return nlohmann::json::parse(f);
}

std::string audio_path(const nlohmann::json& ref) {
  std::string src = ref["source"];
  if (src.rfind("data:", 0) == 0) return rlx::test::data_dir() + "/" + src.substr(5);
  return rlx::test::repo_dir() + "/" + src;
}

rlx::audio::VadParams params_of(const nlohmann::json& ref) {
  rlx::audio::VadParams p;
  const auto& j = ref["params"];
  p.threshold = j["threshold"];
  p.min_speech_duration_ms = j["minSpeechDurationMs"];
  p.min_silence_duration_ms = j["minSilenceDurationMs"];
  p.speech_pad_ms = j["speechPadMs"];
  return p;
}

std::shared_ptr<vad::Model> model(const std::string& v) {
  static std::map<std::string, std::shared_ptr<vad::Model>> cache;
  auto& m = cache[v];
  if (!m) m = vad::Model::load(v);
  return m;
}

struct Case {
  std::string name;
  double tolerance;
};

class SileroVadTest : public ::testing::TestWithParam<Case> {};

TEST_P(SileroVadTest, MatchesOnnxRuntime) {
  const Case& c = GetParam();
  nlohmann::json ref = load_json(fixture("ref_" + c.name + ".json"));
  std::string path = rlx::test::require_file(audio_path(ref));
  rlx::audio::Audio audio = rlx::audio::load_audio_16k_mono(path);
  ASSERT_EQ(audio.sample_rate, vad::kSampleRate);
  ASSERT_EQ(audio.channels, 1);
  ASSERT_EQ(audio.frames(), ref["num_samples"].get<int64_t>());
  for (std::string version : {"v6", "v5"}) {
    SCOPED_TRACE(version);
    const auto& m = ref["models"][version];
    std::vector<float> want = m["frames"].get<std::vector<float>>();
    vad::Result r = vad::detect(model(version), audio.samples, params_of(ref));
    ASSERT_EQ(r.frames.size(), want.size());
    ASSERT_EQ(r.frames.size(), audio.samples.size() / vad::kWindow);
    double max_diff = 0;
    for (size_t i = 0; i < want.size(); ++i)
      max_diff = std::max(max_diff, double(std::abs(r.frames[i] - want[i])));
    // The zero-padded final partial window (scored for segments only), through a Stream.
    double tail_diff = 0;
    if (!m["tail"].is_null()) {
      vad::Stream stream(model(version));
      std::span<const float> s(audio.samples);
      size_t full = s.size() / vad::kWindow;
      for (size_t i = 0; i < full; ++i) stream.process(s.subspan(i * vad::kWindow, vad::kWindow));
      std::vector<float> tail(vad::kWindow, 0.0f);
      std::copy(s.begin() + long(full * vad::kWindow), s.end(), tail.begin());
      tail_diff = std::abs(double(stream.process(tail)) - m["tail"].get<double>());
      EXPECT_LE(tail_diff, c.tolerance);
    }
    std::printf("[ silero_vad ] %-20s %s  frames %4zu  max |diff| vs ORT %.3g (tail window %.3g)\n",
                c.name.c_str(), version.c_str(), r.frames.size(), max_diff, tail_diff);
    std::fflush(stdout);
    EXPECT_LE(max_diff, c.tolerance);
    const auto& segs = m["segments"];
    ASSERT_EQ(r.segments.size(), segs.size());
    for (size_t i = 0; i < segs.size(); ++i) {
      EXPECT_NEAR(r.segments[i].start, segs[i]["start"].get<double>(), 1e-9) << i;
      EXPECT_NEAR(r.segments[i].end, segs[i]["end"].get<double>(), 1e-9) << i;
      EXPECT_EQ(r.segments[i].start_sample, segs[i]["start_sample"].get<int64_t>()) << i;
      EXPECT_EQ(r.segments[i].end_sample, segs[i]["end_sample"].get<int64_t>()) << i;
    }
  }
}

// speech_b_44k_stereo: the reference was downmixed and resampled by sox, ours by libsoxr via
// rlx, so the input differs slightly.
INSTANTIATE_TEST_SUITE_P(Fixtures, SileroVadTest,
                         ::testing::Values(Case{"jfk", 1e-4}, Case{"speech_a", 1e-4},
                                           Case{"speech_b", 1e-4}, Case{"silence", 1e-4},
                                           Case{"speech_b_44k_stereo", 1e-3}),
                         [](const auto& info) { return info.param.name; });

TEST(SileroVad, StreamingEqualsDetect) {
  nlohmann::json ref = load_json(fixture("ref_speech_a.json"));
  rlx::audio::Audio audio =
      rlx::audio::load_audio_16k_mono(rlx::test::require_file(audio_path(ref)));
  for (std::string version : {"v6", "v5"}) {
    SCOPED_TRACE(version);
    auto m = model(version);
    vad::Result whole = vad::detect(m, audio.samples);
    vad::Stream stream(m);
    std::span<const float> s(audio.samples);
    size_t n = s.size() / vad::kWindow;
    ASSERT_EQ(whole.frames.size(), n);
    for (size_t i = 0; i < n; ++i) {
      float p = stream.process(s.subspan(i * vad::kWindow, vad::kWindow));
      ASSERT_EQ(p, whole.frames[i]) << "window " << i;  // bit-exact
    }
    // reset() starts over: the first windows repeat exactly.
    stream.reset();
    for (size_t i = 0; i < 3; ++i)
      EXPECT_EQ(stream.process(s.subspan(i * vad::kWindow, vad::kWindow)), whole.frames[i]) << i;
    // A second detect() is independent of the first.
    EXPECT_EQ(vad::detect(m, audio.samples).frames, whole.frames);
  }
}

TEST(SileroVad, WeightsFileEqualsEmbedded) {
  nlohmann::json ref = load_json(fixture("ref_jfk.json"));
  rlx::audio::Audio audio =
      rlx::audio::load_audio_16k_mono(rlx::test::require_file(audio_path(ref)));
  for (std::string version : {"v6", "v5"}) {
    SCOPED_TRACE(version);
    std::string weights = rlx::test::require_file(
        rlx::test::repo_dir() + "/models/silero_vad/silero_vad_" + version + "_16k.safetensors");
    auto from_file = vad::Model::load(weights);
    vad::Result a = vad::detect(from_file, audio.samples);
    vad::Result b = vad::detect(model(version), audio.samples);
    ASSERT_EQ(a.frames.size(), b.frames.size());
    EXPECT_EQ(a.frames, b.frames);  // exact
    ASSERT_EQ(a.segments.size(), b.segments.size());
    for (size_t i = 0; i < a.segments.size(); ++i) {
      EXPECT_EQ(a.segments[i].start_sample, b.segments[i].start_sample);
      EXPECT_EQ(a.segments[i].end_sample, b.segments[i].end_sample);
    }
  }
}

TEST(SileroVad, BadInputs) {
  EXPECT_THROW(vad::Model::load("/nonexistent/silero.safetensors"), rlx::Error);
  EXPECT_THROW(vad::Model::load("v4"), rlx::Error);
  auto m = model("v6");
  vad::Stream s(m);
  std::vector<float> short_window(100, 0.0f);
  EXPECT_THROW(s.process(short_window), rlx::Error);
  // Shorter than one window: no frames, no segments, no crash.
  vad::Result r = vad::detect(m, std::vector<float>(100, 0.0f));
  EXPECT_TRUE(r.frames.empty());
  EXPECT_TRUE(r.segments.empty());
  EXPECT_TRUE(vad::detect(m, std::vector<float>{}).frames.empty());
}

}  // namespace
