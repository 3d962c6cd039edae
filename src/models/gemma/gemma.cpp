// Gemma 1: RMSNorm with (1 + w), GeGLU (tanh), embeddings scaled by sqrt(hidden), tied head.
#include "models/common/gemma_common.h"
#include "models/common/gguf_names.h"

namespace rlx::models::gemma {
namespace {

nn::DecoderSpec from_hf(const nlohmann::json& c) {
  nn::DecoderSpec s = gemma_spec_from_hf(c, "gemma");
  s.validate();
  return s;
}

nn::DecoderSpec from_gguf(const io::GgufFile& g) {
  nn::DecoderSpec s = gemma_spec_from_gguf(g, "gemma", "gemma");
  s.validate();
  return s;
}

}  // namespace

const DecoderFamily& family() {
  static const DecoderFamily f{"gemma", {"gemma"}, from_hf, from_gguf, [](const std::string& n) {
                                 return standard_gguf_name(n);
                               }};
  return f;
}

}  // namespace rlx::models::gemma
