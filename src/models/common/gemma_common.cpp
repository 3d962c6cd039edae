#include "models/common/gemma_common.h"

#include <cmath>

#include "models/common/gguf_names.h"
#include "models/common/hf_config.h"

namespace rlx::models {

namespace {
void gemma_defaults(nn::DecoderSpec& s) {
  s.act = nn::Activation::GeluTanhGlu;
  s.embed_scale = float(std::sqrt(double(s.hidden)));
  s.tied_embeddings = true;
}
}  // namespace

nn::DecoderSpec gemma_spec_from_hf(const nlohmann::json& c, const std::string& family) {
  nn::DecoderSpec s = decoder_spec_from_hf(c, family);
  gemma_defaults(s);
  s.norm_offset_one = true;
  s.attn_bias = s.attn_out_bias = c.value("attention_bias", false);
  if (c.contains("query_pre_attn_scalar") && c["query_pre_attn_scalar"].is_number())
    s.query_scale = float(1.0 / std::sqrt(c["query_pre_attn_scalar"].get<double>()));
  return s;
}

nn::DecoderSpec gemma_spec_from_gguf(const io::GgufFile& g, const std::string& arch,
                                     const std::string& family) {
  nn::DecoderSpec s = decoder_spec_from_gguf(g, arch, family);
  gemma_defaults(s);
  s.norm_offset_one = false;  // already folded into the weights by the converter
  return s;
}

void gemma_gguf_query_scale(nn::DecoderSpec& s, int64_t layers_27b) {
  if (s.layers == layers_27b) s.query_scale = float(1.0 / std::sqrt(double(s.hidden / s.heads)));
}

std::string gemma2_gguf_name(const std::string& hf) {
  // Gemma 2/3 have sandwich norms; Gemma 1 names its pre-MLP norm like Llama (standard map).
  static const NameOverrides overrides = {
      {"post_attention_layernorm.weight", "post_attention_norm.weight"},
      {"pre_feedforward_layernorm.weight", "ffn_norm.weight"},
      {"post_feedforward_layernorm.weight", "post_ffw_norm.weight"},
  };
  return standard_gguf_name(hf, overrides);
}

}  // namespace rlx::models
