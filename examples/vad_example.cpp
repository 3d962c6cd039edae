// Speech segments of an audio file with the built-in Silero VAD, through the installed library.
#include <cstdio>

#include "rlx/audio/audio.h"
#include "rlx/core/error.h"
#include "rlx/models/silero_vad/vad.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s AUDIO\n", argv[0]);
    return 1;
  }
  try {
    auto audio = rlx::audio::load_audio_16k_mono(argv[1]);
    auto model = rlx::models::silero_vad::Model::load("v6");
    auto result = rlx::models::silero_vad::detect(model, audio.samples);
    for (auto& s : result.segments) std::printf("%.3f-%.3f\n", s.start, s.end);
  } catch (const rlx::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
