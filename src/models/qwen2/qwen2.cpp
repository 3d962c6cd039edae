// Qwen2 / Qwen2.5: the Llama layer with q/k/v biases and NeoX RoPE.
#include "models/common/gguf_names.h"
#include "models/common/hf_config.h"
#include "rlx/models/families.h"

namespace rlx::models::qwen2 {
namespace {

nn::DecoderSpec from_hf(const nlohmann::json& c) {
  nn::DecoderSpec s = decoder_spec_from_hf(c, "qwen2");
  s.attn_bias = true;
  qwen_sliding_layers(c, s);
  s.validate();
  return s;
}

nn::DecoderSpec from_gguf(const io::GgufFile& g) {
  nn::DecoderSpec s = decoder_spec_from_gguf(g, "qwen2", "qwen2");
  s.attn_bias = true;
  s.validate();
  return s;
}

std::string gguf_name(const std::string& hf) {
  return standard_gguf_name(hf);
}

}  // namespace

const DecoderFamily& family() {
  static const DecoderFamily f{"qwen2", {"qwen2"}, from_hf, from_gguf, gguf_name};
  return f;
}

}  // namespace rlx::models::qwen2
