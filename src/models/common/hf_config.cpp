#include "models/common/hf_config.h"

#include "rlx/core/error.h"

namespace rlx::models {

int64_t hf_int(const nlohmann::json& c, const char* key, const std::string& family) {
  RLX_CHECK(c.contains(key) && c[key].is_number_integer(), "{} config.json: field '{}' (integer) is missing",
            family, key);
  return c[key].get<int64_t>();
}

double hf_number(const nlohmann::json& c, const char* key, const std::string& family) {
  RLX_CHECK(c.contains(key) && c[key].is_number(), "{} config.json: field '{}' (number) is missing", family, key);
  return c[key].get<double>();
}

void hf_rope(const nlohmann::json& c, double default_theta, double& theta, nn::RopeScaling& s) {
  theta = default_theta;
  const nlohmann::json* params = nullptr;
  if (c.contains("rope_parameters") && c["rope_parameters"].is_object()) params = &c["rope_parameters"];
  if (c.contains("rope_theta") && c["rope_theta"].is_number()) theta = c["rope_theta"].get<double>();
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
  s.original_max_position = double(g.int_or(arch + ".rope.scaling.original_context_length").value_or(0));
  return s;
}

}  // namespace rlx::models
