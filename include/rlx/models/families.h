// Every decoder family rlx runs, by `rlx run <name>` (see models/registry.h for arch lookup).
#pragma once
#include <string>

#include "rlx/models/decoder_runner.h"

namespace rlx::models {

namespace llama {
const DecoderFamily& family();
}
namespace minicpm5 {
const DecoderFamily& family();
}
namespace qwen2 {
const DecoderFamily& family();
}
namespace qwen3 {
const DecoderFamily& family();
}
namespace gemma {
const DecoderFamily& family();
}
namespace gemma2 {
const DecoderFamily& family();
}
namespace gemma3_text {
const DecoderFamily& family();
}

// The family registered under `name` (a family name or an accepted architecture), or throws
// rlx::Error listing the available names.
const DecoderFamily& decoder_family(const std::string& name);

}  // namespace rlx::models
