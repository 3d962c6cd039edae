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

#include "rlx/nn/decoder.h"

namespace rlx::models {

// The fields every Llama-like config shares (sizes, eps, RoPE, tied embeddings, layer_types).
nn::DecoderSpec decoder_spec_from_hf(const nlohmann::json& c, const std::string& family);
// The same from GGUF "<arch>.*" metadata; vocab from token_embd, tied when output.weight is absent.
nn::DecoderSpec decoder_spec_from_gguf(const io::GgufFile& g, const std::string& arch, const std::string& family);

}  // namespace rlx::models
