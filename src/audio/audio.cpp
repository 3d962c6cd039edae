#include "rlx/audio/audio.h"

#include <sndfile.h>
#include <soxr.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <memory>
#include <sstream>

#include "rlx/core/error.h"

namespace rlx::audio {
namespace {

struct SndfileCloser {
  void operator()(SNDFILE* f) const { sf_close(f); }
};
using SndfilePtr = std::unique_ptr<SNDFILE, SndfileCloser>;

// libsndfile quietly shortens a WAV whose data chunk claims more bytes than the file holds
// (it logs "data : N (should be M)"). A cut-off download must not pass as a shorter clip,
// so that log line is turned into an error. Streamed WAVs with a placeholder size (0 or
// 0xFFFFFFFF-ish) are accepted. A header cut short shows up as a short read in the log.
void check_not_truncated(SNDFILE* f, const std::string& path) {
  char log[8192] = {};
  sf_command(f, SFC_GET_LOG_INFO, log, sizeof(log));
  std::istringstream lines(log);
  std::string line;
  while (std::getline(lines, line)) {
    // Header parsing ran off the end of the file.
    RLX_CHECK(line.find("psf_fread returned short count") == std::string::npos,
              "audio file '{}' is truncated: its header is incomplete", path);
    if (line.rfind("data :", 0) != 0) continue;
    unsigned long long declared = 0, actual = 0;
    if (std::sscanf(line.c_str(), "data : %llu (should be %llu)", &declared, &actual) != 2)
      continue;
    bool placeholder = declared == 0 || declared >= 0xFFFFFF00ull;
    RLX_CHECK(placeholder || declared <= actual,
              "audio file '{}' is truncated: its data chunk declares {} bytes but only {} are "
              "present",
              path, declared, actual);
  }
}

}  // namespace

Audio load_audio(const std::string& path) {
  std::error_code ec;
  RLX_CHECK(std::filesystem::is_regular_file(path, ec), "audio file '{}' does not exist", path);
  SF_INFO info{};
  SndfilePtr file(sf_open(path.c_str(), SFM_READ, &info));
  RLX_CHECK(file != nullptr, "cannot read audio file '{}': {}", path, sf_strerror(nullptr));
  RLX_CHECK(info.channels > 0 && info.channels <= 1024, "audio file '{}' has {} channels", path,
            info.channels);
  RLX_CHECK(info.samplerate > 0, "audio file '{}' has sample rate {}", path, info.samplerate);
  RLX_CHECK(info.frames >= 0 && info.frames < (int64_t(1) << 40) / info.channels,
            "audio file '{}' declares an implausible length of {} frames", path, info.frames);
  check_not_truncated(file.get(), path);

  Audio out;
  out.sample_rate = info.samplerate;
  out.channels = info.channels;
  // Unscaled float data ("float WAV") is returned as stored; integers are normalized.
  sf_command(file.get(), SFC_SET_NORM_FLOAT, nullptr, SF_TRUE);
  out.samples.resize(size_t(info.frames) * size_t(info.channels));
  sf_count_t got = sf_readf_float(file.get(), out.samples.data(), info.frames);
  int err = sf_error(file.get());
  RLX_CHECK(err == SF_ERR_NO_ERROR, "error decoding audio file '{}': {}", path,
            sf_strerror(file.get()));
  RLX_CHECK(got == info.frames, "audio file '{}' is truncated or corrupt: read {} of {} frames",
            path, got, info.frames);
  for (float v : out.samples) {
    RLX_CHECK(std::isfinite(v), "audio file '{}' contains non-finite samples", path);
  }
  return out;
}

Audio to_mono(const Audio& audio) {
  if (audio.channels == 1) return audio;
  RLX_CHECK(audio.channels > 0, "to_mono: audio has {} channels", audio.channels);
  Audio out;
  out.sample_rate = audio.sample_rate;
  out.channels = 1;
  const int64_t n = audio.frames();
  const int c = audio.channels;
  out.samples.resize(size_t(n));
  for (int64_t i = 0; i < n; ++i) {
    double sum = 0;  // double: exact mean for up to many channels
    for (int ch = 0; ch < c; ++ch) sum += audio.samples[size_t(i * c + ch)];
    out.samples[size_t(i)] = float(sum / c);
  }
  return out;
}

Audio resample(const Audio& audio, int target_rate) {
  RLX_CHECK(target_rate > 0, "resample: target rate must be positive, got {}", target_rate);
  RLX_CHECK(audio.sample_rate > 0 && audio.channels > 0,
            "resample: audio has sample rate {} and {} channels", audio.sample_rate,
            audio.channels);
  if (audio.sample_rate == target_rate) return audio;
  Audio out;
  out.sample_rate = target_rate;
  out.channels = audio.channels;
  const int64_t in_frames = audio.frames();
  const int64_t out_frames =
      int64_t(std::llround(double(in_frames) * target_rate / audio.sample_rate));
  out.samples.resize(size_t(out_frames) * size_t(audio.channels));
  if (out_frames == 0) return out;

  soxr_io_spec_t io = soxr_io_spec(SOXR_FLOAT32_I, SOXR_FLOAT32_I);
  // HQ = 20-bit precision, linear phase: well past what float speech features need.
  soxr_quality_spec_t quality = soxr_quality_spec(SOXR_HQ, 0);
  size_t done = 0;
  soxr_error_t err =
      soxr_oneshot(audio.sample_rate, target_rate, unsigned(audio.channels), audio.samples.data(),
                   size_t(in_frames), nullptr, out.samples.data(), size_t(out_frames), &done, &io,
                   &quality, nullptr);
  RLX_CHECK(err == nullptr, "resampling {} Hz -> {} Hz failed: {}", audio.sample_rate, target_rate,
            err);
  // soxr_oneshot flushes, so `done` is the full length; keep the size exact regardless.
  out.samples.resize(size_t(done) * size_t(audio.channels));
  out.samples.resize(size_t(out_frames) * size_t(audio.channels), 0.0f);
  return out;
}

Audio load_audio_16k_mono(const std::string& path) {
  return resample(to_mono(load_audio(path)), 16000);
}

void write_wav(const std::string& path, std::span<const float> samples, int sample_rate,
               WavFormat format, int channels) {
  RLX_CHECK(sample_rate > 0, "write_wav '{}': sample rate must be positive, got {}", path,
            sample_rate);
  RLX_CHECK(channels > 0 && samples.size() % size_t(channels) == 0,
            "write_wav '{}': {} samples do not form whole frames of {} channels", path,
            samples.size(), channels);
  namespace fs = std::filesystem;
  fs::path target(path);
  // Same directory, so the final rename is atomic on POSIX file systems.
  fs::path tmp = target;
  tmp += ".tmp." + std::to_string(::getpid());

  SF_INFO info{};
  info.samplerate = sample_rate;
  info.channels = channels;
  info.format = SF_FORMAT_WAV | (format == WavFormat::kPcm16 ? SF_FORMAT_PCM_16 : SF_FORMAT_FLOAT);
  const sf_count_t frames = sf_count_t(samples.size() / size_t(channels));
  {
    SndfilePtr file(sf_open(tmp.c_str(), SFM_WRITE, &info));
    RLX_CHECK(file != nullptr, "cannot write audio file '{}': {}", path, sf_strerror(nullptr));
    sf_count_t written = 0;
    if (format == WavFormat::kPcm16) {
      // Converted here rather than by libsndfile, which scales by 32767 on write but 1/32768
      // on read; x * 32768 makes write/read an exact round trip for s16 values.
      std::vector<short> pcm(samples.size());
      for (size_t i = 0; i < samples.size(); ++i) {
        float v = std::isfinite(samples[i]) ? samples[i] : 0.0f;
        long s = std::lround(double(v) * 32768.0);
        pcm[i] = short(std::clamp<long>(s, -32768, 32767));
      }
      written = sf_writef_short(file.get(), pcm.data(), frames);
    } else {
      written = sf_writef_float(file.get(), samples.data(), frames);
    }
    bool ok = written == frames && sf_error(file.get()) == SF_ERR_NO_ERROR;
    std::string why = ok ? "" : sf_strerror(file.get());
    // sf_close writes the final header sizes; its result must be checked too.
    int close_err = sf_close(file.release());
    if (!ok || close_err != 0) {
      std::error_code ec;
      fs::remove(tmp, ec);
      fail("error writing audio file '{}': {}", path,
           ok ? std::string(sf_error_number(close_err)) : why);
    }
  }
  std::error_code ec;
  fs::rename(tmp, target, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    fail("cannot move written audio into place at '{}': {}", path, ec.message());
  }
}

}  // namespace rlx::audio
