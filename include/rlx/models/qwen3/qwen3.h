// Qwen3 dense decoders (Qwen3-0.6B ... 32B), on the StandardDecoder.
#pragma once
#include "rlx/models/decoder_runner.h"

namespace rlx::models::qwen3 {

const DecoderFamily& family();

// rlx::models::qwen3::Runner::builder().weights(path).max_seq(4096).build()
struct Runner {
  static DecoderRunner::Builder builder() { return DecoderRunner::Builder(family()); }
};

}  // namespace rlx::models::qwen3
