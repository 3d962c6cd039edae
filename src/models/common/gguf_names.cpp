#include "models/common/gguf_names.h"

namespace rlx::models {

std::string standard_gguf_name(const std::string& hf, const NameOverrides& overrides) {
  static const NameOverrides per_layer = {
      {"input_layernorm.weight", "attn_norm.weight"},
      {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.q_proj.bias", "attn_q.bias"},
      {"self_attn.k_proj.bias", "attn_k.bias"},
      {"self_attn.v_proj.bias", "attn_v.bias"},
      {"self_attn.o_proj.weight", "attn_output.weight"},
      {"self_attn.o_proj.bias", "attn_output.bias"},
      {"self_attn.q_norm.weight", "attn_q_norm.weight"},
      {"self_attn.k_norm.weight", "attn_k_norm.weight"},
      {"post_attention_layernorm.weight", "ffn_norm.weight"},
      {"mlp.gate_proj.weight", "ffn_gate.weight"},
      {"mlp.up_proj.weight", "ffn_up.weight"},
      {"mlp.down_proj.weight", "ffn_down.weight"},
  };
  if (hf == "model.embed_tokens.weight") return "token_embd.weight";
  if (hf == "model.norm.weight") return "output_norm.weight";
  if (hf == "lm_head.weight") return "output.weight";
  // "model.layers.<i>.<suffix>"
  static const std::string prefix = "model.layers.";
  if (hf.compare(0, prefix.size(), prefix) != 0) return hf;
  const size_t dot = hf.find('.', prefix.size());
  const std::string index =
      hf.substr(prefix.size(), dot == std::string::npos ? 0 : dot - prefix.size());
  if (index.empty() || index.find_first_not_of("0123456789") != std::string::npos) return hf;
  const std::string suffix = hf.substr(dot + 1);
  for (const auto* table : {&overrides, &per_layer})
    for (auto& [h, g] : *table)
      if (suffix == h) return "blk." + index + "." + g;
  return hf;
}

}  // namespace rlx::models
