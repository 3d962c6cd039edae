// Qwen3: RMSNorm decoder with QK-norm, SwiGLU, NeoX RoPE, GQA; no attention biases.
#include "rlx/models/qwen3/qwen3.h"

#include "models/common/gguf_names.h"
#include "models/common/hf_config.h"

namespace rlx::models::qwen3 {
namespace {

nn::DecoderSpec from_hf(const nlohmann::json& c) {
  nn::DecoderSpec s = decoder_spec_from_hf(c, "qwen3");
  s.qk_norm = true;
  s.attn_bias = c.value("attention_bias", false);
  qwen_sliding_layers(c, s);
  s.validate();
  return s;
}

nn::DecoderSpec from_gguf(const io::GgufFile& g) {
  nn::DecoderSpec s = decoder_spec_from_gguf(g, "qwen3", "qwen3");
  s.qk_norm = true;
  s.validate();
  return s;
}

std::string gguf_name(const std::string& hf) {
  return standard_gguf_name(hf);
}

}  // namespace

const DecoderFamily& family() {
  static const DecoderFamily f{"qwen3", {"qwen3"}, from_hf, from_gguf, gguf_name};
  return f;
}

}  // namespace rlx::models::qwen3
