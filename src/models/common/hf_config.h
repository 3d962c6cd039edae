// Helpers for reading HF config.json fields with clear errors.
#pragma once
#include <nlohmann/json.hpp>

#include <string>

#include "rlx/io/gguf.h"
#include "rlx/nn/rope.h"

namespace rlx::models {

// Required integer / number fields; the error names the field and the family.
int64_t hf_int(const nlohmann::json& c, const char* key, const std::string& family);
double hf_number(const nlohmann::json& c, const char* key, const std::string& family);
// RoPE base and scaling from either the classic form (rope_theta + rope_scaling) or the
// transformers 5 form (rope_parameters).
void hf_rope(const nlohmann::json& c, double default_theta, double& theta, nn::RopeScaling& scaling);
// RoPE scaling from GGUF "<arch>.rope.scaling.*" keys.
nn::RopeScaling gguf_rope_scaling(const io::GgufFile& g, const std::string& arch);

}  // namespace rlx::models
