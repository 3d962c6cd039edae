// Every decoder family rlx runs, by `rlx run <name>` (see models/registry.h for arch lookup).
#pragma once
#include <string>
#include <vector>

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

// Every decoder family, in lookup order (minicpm5, an alias of llama, last).
const std::vector<const DecoderFamily*>& decoder_families();

// The family registered under `name` (a family name or an accepted architecture), or throws
// rlx::Error listing the available names.
const DecoderFamily& decoder_family(const std::string& name);
// As decoder_family, and "auto" detects the family from the checkpoint at `weights`.
const DecoderFamily& decoder_family_for(const std::string& name, const std::string& weights,
                                        const std::string& prefer = "");

}  // namespace rlx::models
