#include "rlx/models/registry.h"

#include "rlx/models/families.h"

namespace rlx::models {

const std::vector<FamilyInfo>& families() {
  // The decoder families register themselves in families.cpp; only their one-line
  // descriptions live here, plus the families that are not decoders.
  static const std::vector<FamilyInfo> f = [] {
    const std::vector<std::pair<std::string, std::string>> descriptions = {
        {"llama", "Llama 1-3.x, TinyLlama, SmolLM2"},
        {"qwen2", "Qwen2 / Qwen2.5"},
        {"qwen3", "Qwen3 dense decoder LLMs"},
        {"gemma", "Gemma 1"},
        {"gemma2", "Gemma 2"},
        {"gemma3_text", "Gemma 3 (text)"},
        {"minicpm5", "MiniCPM5 (a llama-shaped checkpoint)"},
    };
    std::vector<FamilyInfo> out;
    for (const DecoderFamily* d : decoder_families()) {
      std::string desc;
      for (auto& [n, text] : descriptions)
        if (n == d->name) desc = text;
      out.push_back({d->name, d->archs, desc});
    }
    out.push_back(
        {"silero_vad", {"silero_vad"}, "Silero VAD v5/v6 voice activity detection (rlx vad)"});
    return out;
  }();
  return f;
}

std::optional<FamilyInfo> family_for_arch(const std::string& arch) {
  for (auto& f : families())  // first match wins: llama before its minicpm5 alias
    for (auto& a : f.archs)
      if (a == arch) return f;
  return std::nullopt;
}

}  // namespace rlx::models
