#pragma once
#include <cstddef>
#include <optional>
#include <string>

namespace rlx::models::silero_vad {

struct EmbeddedWeights {
  const void* data;
  size_t size;
};
std::optional<EmbeddedWeights> embedded_weights(const std::string& name);  // "v5", "v6"

}  // namespace rlx::models::silero_vad
