// What the Gemma generations share: (1 + w) norms in HF checkpoints (llama.cpp's converter
// folds the +1 into GGUF weights), GeGLU (tanh), sqrt(hidden) embedding scale, tied head,
// query scaling by query_pre_attn_scalar, Gemma2/3 tensor names.
#pragma once
#include <nlohmann/json.hpp>

#include <string>

#include "rlx/io/gguf.h"
#include "rlx/models/families.h"

namespace rlx::models {

nn::DecoderSpec gemma_spec_from_hf(const nlohmann::json& c, const std::string& family);
nn::DecoderSpec gemma_spec_from_gguf(const io::GgufFile& g, const std::string& arch,
                                     const std::string& family);
// GGUF has no query_pre_attn_scalar: llama.cpp's gemma2/gemma3 scale queries by 1/sqrt(head_dim),
// except for the 27B models (recognised by their layer count), where it is 1/sqrt(hidden/heads).
void gemma_gguf_query_scale(nn::DecoderSpec& s, int64_t layers_27b);
std::string gemma2_gguf_name(const std::string& hf);  // Gemma 2 and 3

}  // namespace rlx::models
