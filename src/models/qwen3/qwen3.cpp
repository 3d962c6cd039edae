// Qwen3: RMSNorm decoder with QK-norm, SwiGLU, NeoX RoPE, GQA; no attention biases.
#include "rlx/models/qwen3/qwen3.h"

#include <regex>

#include "models/common/hf_config.h"
#include "rlx/core/error.h"

namespace rlx::models::qwen3 {
namespace {

nn::DecoderSpec base_spec() {
  nn::DecoderSpec s;
  s.family = "qwen3";
  s.qk_norm = true;
  s.rope_style = ir::RopeStyle::NeoX;
  return s;
}

nn::DecoderSpec from_hf(const nlohmann::json& c) {
  nn::DecoderSpec s = base_spec();
  s.vocab = hf_int(c, "vocab_size", "qwen3");
  s.hidden = hf_int(c, "hidden_size", "qwen3");
  s.layers = hf_int(c, "num_hidden_layers", "qwen3");
  s.heads = hf_int(c, "num_attention_heads", "qwen3");
  s.kv_heads = c.contains("num_key_value_heads") ? hf_int(c, "num_key_value_heads", "qwen3") : s.heads;
  s.head_dim = c.contains("head_dim") && c["head_dim"].is_number_integer() ? c["head_dim"].get<int64_t>()
                                                                            : s.hidden / s.heads;
  s.ffn = hf_int(c, "intermediate_size", "qwen3");
  s.max_positions = c.value("max_position_embeddings", int64_t(0));
  s.norm_eps = float(c.value("rms_norm_eps", 1e-6));
  s.tied_embeddings = c.value("tie_word_embeddings", false);
  s.attn_bias = c.value("attention_bias", false);
  hf_rope(c, 1000000.0, s.rope_theta, s.rope_scaling);
  if (c.value("use_sliding_window", false) && c.contains("sliding_window") && c["sliding_window"].is_number_integer()) {
    int64_t max_window_layers = c.value("max_window_layers", s.layers);
    s.sliding_window = c["sliding_window"].get<int64_t>();
    for (int64_t i = 0; i < s.layers; ++i) s.layer_sliding.push_back(i >= max_window_layers);
  }
  s.validate();
  return s;
}

nn::DecoderSpec from_gguf(const io::GgufFile& g) {
  nn::DecoderSpec s = base_spec();
  const std::string a = "qwen3.";
  s.hidden = g.get_int(a + "embedding_length");
  s.layers = g.get_int(a + "block_count");
  s.heads = g.get_int(a + "attention.head_count");
  s.kv_heads = g.int_or(a + "attention.head_count_kv").value_or(s.heads);
  s.head_dim = g.int_or(a + "attention.key_length").value_or(s.hidden / s.heads);
  s.ffn = g.get_int(a + "feed_forward_length");
  s.max_positions = g.get_int(a + "context_length");
  s.norm_eps = float(g.get_float(a + "attention.layer_norm_rms_epsilon"));
  s.rope_theta = g.float_or(a + "rope.freq_base").value_or(1000000.0);
  s.rope_scaling = gguf_rope_scaling(g, "qwen3");
  const io::GgufTensorInfo* emb = g.find_tensor("token_embd.weight");
  RLX_CHECK(emb != nullptr, "{}: tensor 'token_embd.weight' is missing", g.path());
  s.vocab = emb->shape[0];
  s.tied_embeddings = g.find_tensor("output.weight") == nullptr;
  s.validate();
  return s;
}

// HF module path → llama.cpp GGUF tensor name.
std::string gguf_name(const std::string& hf) {
  static const std::regex layer(R"(model\.layers\.(\d+)\.(.+))");
  static const std::vector<std::pair<std::string, std::string>> per_layer = {
      {"input_layernorm.weight", "attn_norm.weight"},
      {"self_attn.q_proj.weight", "attn_q.weight"},
      {"self_attn.k_proj.weight", "attn_k.weight"},
      {"self_attn.v_proj.weight", "attn_v.weight"},
      {"self_attn.o_proj.weight", "attn_output.weight"},
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
  std::smatch m;
  if (std::regex_match(hf, m, layer))
    for (auto& [h, gg] : per_layer)
      if (m[2] == h) return "blk." + m[1].str() + "." + gg;
  return hf;
}

}  // namespace

const DecoderFamily& family() {
  static const DecoderFamily f{"qwen3", {"qwen3"}, from_hf, from_gguf, gguf_name};
  return f;
}

}  // namespace rlx::models::qwen3
