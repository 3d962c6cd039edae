#include "rlx/models/families.h"
#include "rlx/core/error.h"

namespace rlx::models {

const DecoderFamily& decoder_family(const std::string& name) {
  const DecoderFamily* all[] = {&llama::family(),   &qwen2::family(),  &qwen3::family(),
                                &gemma::family(),   &gemma2::family(), &gemma3_text::family(),
                                &minicpm5::family()};
  for (auto* f : all)
    if (f->name == name) return *f;
  for (auto* f : all)  // an architecture name (GGUF general.architecture or HF model_type)
    for (auto& a : f->archs)
      if (a == name) return *f;
  fail(
      "unknown model family '{}' (available: llama, qwen2, qwen3, gemma, gemma2, gemma3_text, "
      "minicpm5, auto)",
      name);
}

}  // namespace rlx::models
