#include "models/common/hf_config.h"

#include "rlx/core/error.h"

namespace rlx::models {

int64_t hf_int(const nlohmann::json& c, const char* key, const std::string& family) {
  RLX_CHECK(c.contains(key) && c[key].is_number_integer(),
            "{} config.json: field '{}' (integer) is missing", family, key);
  return c[key].get<int64_t>();
}

double hf_number(const nlohmann::json& c, const char* key, const std::string& family) {
  RLX_CHECK(c.contains(key) && c[key].is_number(), "{} config.json: field '{}' (number) is missing",
            family, key);
  return c[key].get<double>();
}

void hf_rope(const nlohmann::json& c, double default_theta, double& theta, nn::RopeScaling& s) {
  theta = default_theta;
  const nlohmann::json* params = nullptr;
  if (c.contains("rope_parameters") && c["rope_parameters"].is_object())
    params = &c["rope_parameters"];
  if (c.contains("rope_theta") && c["rope_theta"].is_number())
    theta = c["rope_theta"].get<double>();
  if (params && params->contains("rope_theta")) theta = (*params)["rope_theta"].get<double>();
  const nlohmann::json* sc = params;
  if (c.contains("rope_scaling") && c["rope_scaling"].is_object()) sc = &c["rope_scaling"];
  if (!sc) return;
  s.type = sc->value("rope_type", sc->value("type", std::string("default")));
  s.factor = sc->value("factor", 1.0);
  s.low_freq_factor = sc->value("low_freq_factor", 1.0);
  s.high_freq_factor = sc->value("high_freq_factor", 4.0);
  s.original_max_position = sc->value("original_max_position_embeddings", 0.0);
  s.beta_fast = sc->value("beta_fast", 32.0);
  s.beta_slow = sc->value("beta_slow", 1.0);
  if (sc->contains("attention_factor") && (*sc)["attention_factor"].is_number())
    s.attention_factor = (*sc)["attention_factor"].get<double>();
}

nn::RopeScaling gguf_rope_scaling(const io::GgufFile& g, const std::string& arch) {
  nn::RopeScaling s;
  auto type = g.string_or(arch + ".rope.scaling.type");
  if (!type || *type == "none") return s;
  s.type = *type;
  s.factor = g.float_or(arch + ".rope.scaling.factor").value_or(1.0);
  s.original_max_position =
      double(g.int_or(arch + ".rope.scaling.original_context_length").value_or(0));
  return s;
}

std::vector<float> gguf_rope_freq_factors(const io::GgufFile& g) {
  const io::GgufTensorInfo* t = g.find_tensor("rope_freqs.weight");
  if (!t) return {};
  RLX_CHECK(t->dtype == DType::F32 && t->shape.rank() == 1,
            "{}: rope_freqs.weight should be a 1-D F32 tensor", g.path());
  TensorView v = g.tensor_view(*t);
  return std::vector<float>(v.ptr<float>(), v.ptr<float>() + v.numel());
}

std::vector<bool> gguf_sliding_pattern(const io::GgufFile& g, const std::string& arch,
                                       int64_t layers, int64_t default_period) {
  const std::string key = arch + ".attention.sliding_window_pattern";
  std::vector<bool> out;
  if (const io::GgufValue* v = g.find(key); v && v->type == io::GgufType::Array) {
    const auto& a = g.get_int_array(key);
    RLX_CHECK(int64_t(a.size()) == layers, "{}: {} has {} entries for {} layers", g.path(), key,
              a.size(), layers);
    for (int64_t x : a) out.push_back(x != 0);
    return out;
  }
  const int64_t n = g.int_or(key).value_or(default_period);
  for (int64_t i = 0; i < layers; ++i) out.push_back(n == 0 || i % n < n - 1);
  return out;
}

}  // namespace rlx::models

namespace rlx::models {

nn::DecoderSpec decoder_spec_from_hf(const nlohmann::json& c, const std::string& family) {
  nn::DecoderSpec s;
  s.family = family;
  s.vocab = hf_int(c, "vocab_size", family);
  s.hidden = hf_int(c, "hidden_size", family);
  s.layers = hf_int(c, "num_hidden_layers", family);
  s.heads = hf_int(c, "num_attention_heads", family);
  s.kv_heads = c.contains("num_key_value_heads") && c["num_key_value_heads"].is_number_integer()
                   ? c["num_key_value_heads"].get<int64_t>()
                   : s.heads;
  s.head_dim = c.contains("head_dim") && c["head_dim"].is_number_integer()
                   ? c["head_dim"].get<int64_t>()
                   : s.hidden / s.heads;
  s.ffn = hf_int(c, "intermediate_size", family);
  s.max_positions = c.value("max_position_embeddings", int64_t(0));
  s.norm_eps = float(c.value("rms_norm_eps", 1e-6));
  s.tied_embeddings = c.value("tie_word_embeddings", false);
  hf_rope(c, 10000.0, s.rope_theta, s.rope_scaling);
  if (c.contains("layer_types") && c["layer_types"].is_array()) {
    RLX_CHECK(int64_t(c["layer_types"].size()) == s.layers,
              "{} config.json: layer_types has {} entries for {} layers", family,
              c["layer_types"].size(), s.layers);
    for (auto& t : c["layer_types"]) s.layer_sliding.push_back(t == "sliding_attention");
  }
  if (c.contains("sliding_window") && c["sliding_window"].is_number_integer())
    s.sliding_window = c["sliding_window"].get<int64_t>();
  if (c.contains("partial_rotary_factor") && c["partial_rotary_factor"].is_number()) {
    const int64_t rot = int64_t(double(s.head_dim) * c["partial_rotary_factor"].get<double>());
    s.rotary_dims = rot == s.head_dim ? 0 : rot;
  }
  return s;
}

void qwen_sliding_layers(const nlohmann::json& c, nn::DecoderSpec& s) {
  s.layer_sliding.clear();
  if (!c.value("use_sliding_window", false) || s.sliding_window <= 0) return;
  const int64_t max_window_layers = c.value("max_window_layers", s.layers);
  for (int64_t i = 0; i < s.layers; ++i) s.layer_sliding.push_back(i >= max_window_layers);
}

nn::DecoderSpec decoder_spec_from_gguf(const io::GgufFile& g, const std::string& arch,
                                       const std::string& family) {
  nn::DecoderSpec s;
  s.family = family;
  const std::string a = arch + ".";
  s.hidden = g.get_int(a + "embedding_length");
  s.layers = g.get_int(a + "block_count");
  s.heads = g.get_int(a + "attention.head_count");
  s.kv_heads = g.int_or(a + "attention.head_count_kv").value_or(s.heads);
  s.head_dim = g.int_or(a + "attention.key_length").value_or(s.hidden / s.heads);
  s.ffn = g.get_int(a + "feed_forward_length");
  s.max_positions = g.get_int(a + "context_length");
  s.norm_eps = float(g.get_float(a + "attention.layer_norm_rms_epsilon"));
  s.rope_theta = g.float_or(a + "rope.freq_base").value_or(10000.0);
  s.rope_scaling = gguf_rope_scaling(g, arch);
  if (auto n = g.int_or(a + "rope.dimension_count")) s.rotary_dims = *n == s.head_dim ? 0 : *n;
  const io::GgufTensorInfo* emb = g.find_tensor("token_embd.weight");
  RLX_CHECK(emb != nullptr, "{}: tensor 'token_embd.weight' is missing", g.path());
  s.vocab = emb->shape[0];
  s.tied_embeddings = g.find_tensor("output.weight") == nullptr;
  return s;
}

}  // namespace rlx::models
