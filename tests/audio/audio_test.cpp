// load_audio / write_wav / to_mono / resample on files generated here. WAVs of every bit
// depth are built byte by byte (independently of libsndfile) so the reader is checked
// against the format, not against itself.
#include "rlx/audio/audio.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "rlx/core/error.h"
#include "support/test_data.h"

namespace fs = std::filesystem;
using rlx::audio::Audio;

namespace {

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("rlx_audio_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter_++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
  static inline int counter_ = 0;
};

void put_u16(std::string& s, uint16_t v) {
  s.append(reinterpret_cast<const char*>(&v), 2);
}
void put_u32(std::string& s, uint32_t v) {
  s.append(reinterpret_cast<const char*>(&v), 4);
}

// A canonical 44-byte-header WAV. fmt_tag 1 = PCM, 3 = IEEE float. `data` is raw bytes.
std::string make_wav(int fmt_tag, int bits, int channels, int rate, const std::string& data) {
  std::string s = "RIFF";
  put_u32(s, uint32_t(36 + data.size()));
  s += "WAVEfmt ";
  put_u32(s, 16);
  put_u16(s, uint16_t(fmt_tag));
  put_u16(s, uint16_t(channels));
  put_u32(s, uint32_t(rate));
  put_u32(s, uint32_t(rate * channels * bits / 8));
  put_u16(s, uint16_t(channels * bits / 8));
  put_u16(s, uint16_t(bits));
  s += "data";
  put_u32(s, uint32_t(data.size()));
  s += data;
  return s;
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary);
  f.write(bytes.data(), std::streamsize(bytes.size()));
}

// Little-endian two's-complement PCM of `bits` bits (8-bit WAV is unsigned, offset 128).
std::string pcm_bytes(const std::vector<int64_t>& values, int bits) {
  std::string s;
  for (int64_t v : values) {
    if (bits == 8) {
      s.push_back(char(uint8_t(v + 128)));
      continue;
    }
    uint64_t u = uint64_t(v);
    for (int b = 0; b < bits / 8; ++b) s.push_back(char((u >> (8 * b)) & 0xFF));
  }
  return s;
}

std::vector<float> sine(int rate, double freq, double amp, double seconds, int channels = 1) {
  std::vector<float> out;
  int64_t n = int64_t(rate * seconds);
  for (int64_t i = 0; i < n; ++i) {
    for (int c = 0; c < channels; ++c) {
      out.push_back(float(amp * std::sin(2 * std::numbers::pi * freq * double(i) / rate)));
    }
  }
  return out;
}

// Amplitude of the `freq` component (Goertzel / single-bin DFT) over samples[begin, end).
double tone_amplitude(const std::vector<float>& x, int rate, double freq, size_t begin,
                      size_t end) {
  double re = 0, im = 0;
  for (size_t i = begin; i < end; ++i) {
    double ph = 2 * std::numbers::pi * freq * double(i) / rate;
    re += x[i] * std::cos(ph);
    im += x[i] * std::sin(ph);
  }
  return 2 * std::hypot(re, im) / double(end - begin);
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const rlx::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Audio, ReadsEveryPcmBitDepth) {
  TempDir dir;
  for (int bits : {8, 16, 24, 32}) {
    const int64_t full = int64_t(1) << (bits - 1);
    std::vector<int64_t> v = {0, 1, -1, full - 1, -full, full / 2, -full / 4};
    std::string path = dir.file("pcm" + std::to_string(bits) + ".wav");
    write_bytes(path, make_wav(1, bits, 1, 22050, pcm_bytes(v, bits)));
    Audio a = rlx::audio::load_audio(path);
    EXPECT_EQ(a.sample_rate, 22050);
    EXPECT_EQ(a.channels, 1);
    ASSERT_EQ(a.samples.size(), v.size()) << bits;
    for (size_t i = 0; i < v.size(); ++i) {
      EXPECT_FLOAT_EQ(a.samples[i], float(double(v[i]) / double(full))) << bits << " bit #" << i;
    }
  }
}

TEST(Audio, ReadsFloatWavUnscaled) {
  TempDir dir;
  std::vector<float> v = {0.0f, 0.25f, -0.5f, 1.5f, -2.0f, 1e-7f};
  std::string data(reinterpret_cast<const char*>(v.data()), v.size() * 4);
  std::string path = dir.file("f32.wav");
  write_bytes(path, make_wav(3, 32, 2, 48000, data));
  Audio a = rlx::audio::load_audio(path);
  EXPECT_EQ(a.sample_rate, 48000);
  EXPECT_EQ(a.channels, 2);
  EXPECT_EQ(a.frames(), 3);
  EXPECT_EQ(a.samples, v);  // interleaved, bit exact, no clipping
}

TEST(Audio, WriteReadRoundTrip) {
  TempDir dir;
  std::mt19937 rng(7);
  std::uniform_int_distribution<int> s16(-32768, 32767);
  std::vector<float> pcm;
  for (int i = 0; i < 4000; ++i) pcm.push_back(float(s16(rng)) / 32768.0f);
  pcm.push_back(-1.0f);
  pcm.push_back(32767.0f / 32768.0f);

  std::string p16 = dir.file("a16.wav");
  rlx::audio::write_wav(p16, pcm, 16000);
  Audio a = rlx::audio::load_audio(p16);
  EXPECT_EQ(a.sample_rate, 16000);
  EXPECT_EQ(a.channels, 1);
  EXPECT_EQ(a.samples, pcm);  // s16 values survive exactly

  std::vector<float> f = {0.1f, -0.3f, 0.7f, 1.25f, -1.5f, 0.0f};
  std::string pf = dir.file("af.wav");
  rlx::audio::write_wav(pf, f, 8000, rlx::audio::WavFormat::kFloat32, 2);
  Audio b = rlx::audio::load_audio(pf);
  EXPECT_EQ(b.channels, 2);
  EXPECT_EQ(b.sample_rate, 8000);
  EXPECT_EQ(b.samples, f);

  // Out-of-range values saturate in s16 instead of wrapping.
  std::string pc = dir.file("clip.wav");
  rlx::audio::write_wav(pc, std::vector<float>{2.0f, -2.0f, NAN}, 16000);
  Audio c = rlx::audio::load_audio(pc);
  EXPECT_EQ(c.samples, (std::vector<float>{32767.0f / 32768.0f, -1.0f, 0.0f}));

  // Only the final file is left behind, no temporary.
  int files = 0;
  for (auto& e : fs::directory_iterator(dir.path())) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 3);
}

TEST(Audio, WriteOverwritesAtomicallyAndReportsBadDirectory) {
  TempDir dir;
  std::string p = dir.file("x.wav");
  rlx::audio::write_wav(p, std::vector<float>(100, 0.5f), 16000);
  rlx::audio::write_wav(p, std::vector<float>(10, -0.5f), 16000);
  EXPECT_EQ(rlx::audio::load_audio(p).samples.size(), 10u);

  std::string bad = dir.file("no/such/dir/x.wav");
  std::string msg = error_of([&] { rlx::audio::write_wav(bad, std::vector<float>(4), 16000); });
  EXPECT_NE(msg.find(bad), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(bad));
  msg = error_of([&] { rlx::audio::write_wav(p, std::vector<float>(3), 16000, {}, 2); });
  EXPECT_NE(msg.find("whole frames"), std::string::npos) << msg;
}

TEST(Audio, StereoDownmix) {
  Audio a;
  a.sample_rate = 16000;
  a.channels = 2;
  a.samples = {1.0f, 0.0f, 0.5f, -0.5f, -1.0f, 0.25f};
  Audio m = rlx::audio::to_mono(a);
  EXPECT_EQ(m.channels, 1);
  EXPECT_EQ(m.sample_rate, 16000);
  EXPECT_EQ(m.samples, (std::vector<float>{0.5f, 0.0f, -0.375f}));

  // Through a file: left = sine, right = silence -> half the amplitude, 16 kHz.
  TempDir dir;
  std::vector<float> st;
  std::vector<float> s = sine(44100, 1000, 0.8, 0.5);
  for (float v : s) {
    st.push_back(v);
    st.push_back(0.0f);
  }
  std::string p = dir.file("st.wav");
  rlx::audio::write_wav(p, st, 44100, rlx::audio::WavFormat::kFloat32, 2);
  Audio r = rlx::audio::load_audio_16k_mono(p);
  EXPECT_EQ(r.sample_rate, 16000);
  EXPECT_EQ(r.channels, 1);
  EXPECT_EQ(r.frames(), 8000);
  EXPECT_NEAR(tone_amplitude(r.samples, 16000, 1000, 1000, 7000), 0.4, 2e-3);
}

TEST(Audio, ResamplePreservesToneFrequencyAndAmplitude) {
  struct Case {
    int rate;
    double freq;
  };
  for (Case c :
       {Case{44100, 1000.0}, Case{8000, 440.0}, Case{48000, 3000.0}, Case{22050, 7000.0}}) {
    Audio a;
    a.sample_rate = c.rate;
    a.channels = 1;
    a.samples = sine(c.rate, c.freq, 0.5, 1.0);
    Audio r = rlx::audio::resample(a, 16000);
    EXPECT_EQ(r.sample_rate, 16000);
    ASSERT_EQ(r.frames(), 16000) << c.rate;
    // Skip the filter's edge transients; the tone must be intact and nothing else present.
    EXPECT_NEAR(tone_amplitude(r.samples, 16000, c.freq, 2000, 14000), 0.5, 2e-3) << c.rate;
    double err = 0;
    for (size_t i = 2000; i < 14000; ++i) {
      double want = 0.5 * std::sin(2 * std::numbers::pi * c.freq * double(i) / 16000);
      err = std::max(err, std::abs(r.samples[i] - want));
    }
    EXPECT_LT(err, 2e-3) << c.rate << " Hz";
  }
  // A tone above the new Nyquist is filtered out, not aliased.
  Audio hi;
  hi.sample_rate = 44100;
  hi.channels = 1;
  hi.samples = sine(44100, 10000, 0.5, 1.0);
  Audio r = rlx::audio::resample(hi, 16000);
  EXPECT_LT(tone_amplitude(r.samples, 16000, 6000, 2000, 14000), 1e-3);
  double rms = 0;
  for (size_t i = 2000; i < 14000; ++i) rms += r.samples[i] * r.samples[i];
  EXPECT_LT(std::sqrt(rms / 12000), 1e-3);
}

TEST(Audio, ResampleKeepsChannelsAndSameRateIsIdentity) {
  Audio a;
  a.sample_rate = 8000;
  a.channels = 2;
  a.samples = sine(8000, 500, 0.3, 0.25, 2);
  Audio same = rlx::audio::resample(a, 8000);
  EXPECT_EQ(same.samples, a.samples);
  Audio r = rlx::audio::resample(a, 16000);
  EXPECT_EQ(r.channels, 2);
  EXPECT_EQ(r.frames(), 4000);
  for (int64_t i = 0; i < r.frames(); ++i) ASSERT_EQ(r.samples[2 * i], r.samples[2 * i + 1]);
  Audio empty;
  empty.sample_rate = 8000;
  empty.channels = 1;
  EXPECT_EQ(rlx::audio::resample(empty, 16000).frames(), 0);
  EXPECT_THROW(rlx::audio::resample(a, 0), rlx::Error);
}

TEST(Audio, BadFilesGiveErrorsNamingTheFile) {
  TempDir dir;
  std::string missing = dir.file("missing.wav");
  std::string msg = error_of([&] { rlx::audio::load_audio(missing); });
  EXPECT_NE(msg.find(missing), std::string::npos) << msg;

  std::string garbage = dir.file("garbage.wav");
  std::mt19937 rng(1);
  std::string g;
  for (int i = 0; i < 5000; ++i) g.push_back(char(rng()));
  write_bytes(garbage, g);
  msg = error_of([&] { rlx::audio::load_audio(garbage); });
  EXPECT_NE(msg.find(garbage), std::string::npos) << msg;

  std::string text = dir.file("notes.txt");
  write_bytes(text, "this is not audio\n");
  msg = error_of([&] { rlx::audio::load_audio(text); });
  EXPECT_NE(msg.find(text), std::string::npos) << msg;

  std::string empty = dir.file("empty.wav");
  write_bytes(empty, "");
  EXPECT_NE(error_of([&] { rlx::audio::load_audio(empty); }), "");

  // A WAV cut in its data, in its header, and with a header-only body.
  std::string full = make_wav(1, 16, 1, 16000, pcm_bytes(std::vector<int64_t>(1000, 123), 16));
  std::string cut = dir.file("cut.wav");
  write_bytes(cut, full.substr(0, 1044));
  msg = error_of([&] { rlx::audio::load_audio(cut); });
  EXPECT_NE(msg.find(cut), std::string::npos) << msg;
  EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
  for (size_t n : {size_t(4), size_t(12), size_t(30), size_t(43)}) {
    std::string head = dir.file("head" + std::to_string(n) + ".wav");
    write_bytes(head, full.substr(0, n));
    msg = error_of([&] { rlx::audio::load_audio(head); });
    EXPECT_NE(msg.find(head), std::string::npos) << n << ": " << msg;
  }

  // A directory is not an audio file.
  msg = error_of([&] { rlx::audio::load_audio(dir.path().string()); });
  EXPECT_NE(msg, "");
}

TEST(Audio, ReadsFlacAndRejectsEveryTruncation) {
  const std::string dir = rlx::test::repo_dir() + "/tests/fixtures/silero_vad/";
  std::string flac = rlx::test::require_file(dir + "speech_b_44k_stereo.flac");
  Audio a = rlx::audio::load_audio(flac);
  EXPECT_EQ(a.sample_rate, 44100);
  EXPECT_EQ(a.channels, 2);
  EXPECT_NEAR(a.duration_s(), 3.48, 0.01);
  // Right channel is 0.5 x left (make_vad_audio.sh), up to s16 rounding.
  for (int64_t i = 0; i < a.frames(); i += 97) {
    ASSERT_NEAR(a.samples[size_t(2 * i + 1)], 0.5f * a.samples[size_t(2 * i)], 1.0f / 16384);
  }

  // Every cut of a WAV or FLAC file (header or data) is an error naming the file, never a
  // crash or a silently shorter clip (also run under ASan/UBSan).
  TempDir tmp;
  for (std::string src : {dir + "speech_b.wav", flac}) {
    std::ifstream in(rlx::test::require_file(src), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const bool wav = src.ends_with(".wav");
    for (size_t cut = 1; cut < bytes.size(); cut += wav ? 3001 : 4999) {
      std::string p = tmp.file("cut" + std::to_string(cut) + (wav ? ".wav" : ".flac"));
      write_bytes(p, bytes.substr(0, cut));
      std::string msg = error_of([&] { rlx::audio::load_audio(p); });
      EXPECT_NE(msg.find(p), std::string::npos) << "cut at " << cut << ": " << msg;
    }
  }
}
