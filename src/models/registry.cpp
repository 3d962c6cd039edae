#include "rlx/models/registry.h"

namespace rlx::models {

const std::vector<FamilyInfo>& families() {
  static const std::vector<FamilyInfo> f = {
      {"qwen3", {"qwen3"}, "Qwen3 dense decoder LLMs"},
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
