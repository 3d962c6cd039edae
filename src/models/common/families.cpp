#include "rlx/models/families.h"

#include <fmt/format.h>

#include "rlx/core/error.h"
#include "rlx/models/check.h"

namespace rlx::models {

const std::vector<const DecoderFamily*>& decoder_families() {
  static const std::vector<const DecoderFamily*> all = {
      &llama::family(),  &qwen2::family(),       &qwen3::family(),   &gemma::family(),
      &gemma2::family(), &gemma3_text::family(), &minicpm5::family()};
  return all;
}

const DecoderFamily& decoder_family(const std::string& name) {
  const auto& all = decoder_families();
  for (auto* f : all)
    if (f->name == name) return *f;
  for (auto* f : all)  // an architecture name (GGUF general.architecture or HF model_type)
    for (auto& a : f->archs)
      if (a == name) return *f;
  std::vector<std::string> names;
  for (auto* f : all) names.push_back(f->name);
  fail("unknown model family '{}' (available: {}, auto)", name, fmt::join(names, ", "));
}

const DecoderFamily& decoder_family_for(const std::string& name, const std::string& weights,
                                        const std::string& prefer) {
  return decoder_family(name == "auto" ? detect_architecture(weights, prefer) : name);
}

}  // namespace rlx::models
