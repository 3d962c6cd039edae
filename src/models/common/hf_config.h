// Helpers for reading HF config.json fields with clear errors.
#pragma once
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "rlx/io/gguf.h"
#include "rlx/nn/rope.h"

namespace rlx::models {

// Required integer / number fields; the error names the field and the family.
int64_t hf_int(const nlohmann::json& c, const char* key, const std::string& family);
double hf_number(const nlohmann::json& c, const char* key, const std::string& family);
// RoPE base and scaling from either the classic form (rope_theta + rope_scaling) or the
// transformers 5 form (rope_parameters).
void hf_rope(const nlohmann::json& c, double default_theta, double& theta,
             nn::RopeScaling& scaling);
// RoPE scaling from GGUF "<arch>.rope.scaling.*" keys.
nn::RopeScaling gguf_rope_scaling(const io::GgufFile& g, const std::string& arch);
// The F32 tensor rope_freqs.weight (llama.cpp's frequency divisors), or empty when absent.
std::vector<float> gguf_rope_freq_factors(const io::GgufFile& g);
// llama.cpp's "<arch>.attention.sliding_window_pattern": a per-layer bool array (true = sliding
// window) or a period n (layer i is local unless i % n == n - 1; 0 = all local); default_period
// when absent (llama.cpp's per-architecture default).
std::vector<bool> gguf_sliding_pattern(const io::GgufFile& g, const std::string& arch,
                                       int64_t layers, int64_t default_period);

}  // namespace rlx::models

#include "rlx/nn/decoder.h"

namespace rlx::models {

// The fields every Llama-like config shares (sizes, eps, RoPE, tied embeddings, layer_types).
nn::DecoderSpec decoder_spec_from_hf(const nlohmann::json& c, const std::string& family);
// Qwen2/Qwen3 window only layers >= max_window_layers, and only with use_sliding_window.
void qwen_sliding_layers(const nlohmann::json& c, nn::DecoderSpec& s);
// The same from GGUF "<arch>.*" metadata; vocab from token_embd, tied when output.weight is absent.
nn::DecoderSpec decoder_spec_from_gguf(const io::GgufFile& g, const std::string& arch,
                                       const std::string& family);

}  // namespace rlx::models
