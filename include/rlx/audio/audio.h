// Audio file I/O (libsndfile) and resampling (libsoxr).
//
// Samples are float32, nominally in [-1, 1). Multi-channel audio is stored interleaved
// (frame-major: samples[frame * channels + channel]), the layout libsndfile and libsoxr use,
// so no copies are needed at either boundary. Every bad input (missing, truncated, non-audio
// or unsupported file) throws rlx::Error naming the file and the problem.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace rlx::audio {

struct Audio {
  std::vector<float> samples;  // interleaved, frames() * channels values
  int sample_rate = 0;         // Hz
  int channels = 0;

  int64_t frames() const { return channels > 0 ? int64_t(samples.size()) / channels : 0; }
  double duration_s() const { return sample_rate > 0 ? double(frames()) / sample_rate : 0.0; }
};

// Reads any format libsndfile supports: WAV (PCM 8/16/24/32-bit int, 32/64-bit float,
// A-law/µ-law), FLAC, OGG/Vorbis, AIFF, ... Integer PCM is scaled by 1/2^(bits-1), so a
// 16-bit sample s reads as s / 32768 exactly. A file whose data is shorter than its header
// claims is an error (never silently shortened).
Audio load_audio(const std::string& path);

// Averages the channels of each frame. Mono input is returned unchanged.
Audio to_mono(const Audio& audio);

// Resamples every channel to `target_rate` with libsoxr (high quality, linear phase).
// Same rate: returned unchanged. Output frames = round(frames * target_rate / sample_rate).
Audio resample(const Audio& audio, int target_rate);

// load_audio + to_mono + resample to 16 kHz: the input most speech models expect.
Audio load_audio_16k_mono(const std::string& path);

enum class WavFormat {
  kPcm16,    // samples clamped to [-1, 1] and rounded to s16 (x * 32768, saturating)
  kFloat32,  // IEEE float, exact
};

// Writes a WAV file. `samples` are interleaved when channels > 1. The file is written to a
// temporary name in the same directory and renamed into place, so `path` is either the old
// file or the complete new one, never a partial write.
void write_wav(const std::string& path, std::span<const float> samples, int sample_rate,
               WavFormat format = WavFormat::kPcm16, int channels = 1);
inline void write_wav(const std::string& path, const Audio& audio,
                      WavFormat format = WavFormat::kPcm16) {
  write_wav(path, audio.samples, audio.sample_rate, format, audio.channels);
}

}  // namespace rlx::audio
