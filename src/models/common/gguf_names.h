// HF module paths → llama.cpp GGUF tensor names for the Llama-like decoders. Families pass
// their few differences as overrides (e.g. Gemma2's post_attention_layernorm).
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace rlx::models {

using NameOverrides =
    std::vector<std::pair<std::string, std::string>>;  // per-layer suffix → GGUF suffix

std::string standard_gguf_name(const std::string& hf, const NameOverrides& overrides = {});

}  // namespace rlx::models
