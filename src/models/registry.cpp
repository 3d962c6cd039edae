#include "rlx/models/registry.h"

namespace rlx::models {

const std::vector<FamilyInfo>& families() {
  static const std::vector<FamilyInfo> f = {
      {"llama", {"llama"}, "Llama 1-3.x, TinyLlama, SmolLM2 (MiniCPM5 runs as minicpm5)"},
      {"qwen2", {"qwen2"}, "Qwen2 / Qwen2.5"},
      {"qwen3", {"qwen3"}, "Qwen3 dense decoder LLMs"},
      {"gemma", {"gemma"}, "Gemma 1"},
      {"gemma2", {"gemma2"}, "Gemma 2"},
      {"gemma3_text", {"gemma3_text", "gemma3"}, "Gemma 3 (text)"},
      {"silero_vad", {"silero_vad"}, "Silero VAD v5/v6 voice activity detection (rlx vad)"},
  };
  return f;
}

std::optional<FamilyInfo> family_for_arch(const std::string& arch) {
  for (auto& f : families())
    for (auto& a : f.archs)
      if (a == arch) return f;
  return std::nullopt;
}

}  // namespace rlx::models
