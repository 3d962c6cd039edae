// Gemma 3 (text): Gemma 2's layer without soft-caps, with QK-norm, and interleaved local
// (sliding window, own RoPE base) and global (scaled RoPE) attention layers.
#include "models/common/gemma_common.h"
#include "models/common/hf_config.h"

namespace rlx::models::gemma3_text {
namespace {

nn::DecoderSpec from_hf(const nlohmann::json& c) {
  nn::DecoderSpec s = gemma_spec_from_hf(c, "gemma3_text");
  s.post_norms = true;
  s.qk_norm = true;
  s.rope_theta_local = c.value("rope_local_base_freq", 10000.0);
  // transformers 5 keeps one RoPE setting per layer type.
  if (c.contains("rope_parameters") && c["rope_parameters"].contains("full_attention")) {
    nlohmann::json full = {{"rope_parameters", c["rope_parameters"]["full_attention"]}};
    hf_rope(full, s.rope_theta, s.rope_theta, s.rope_scaling);
    nn::RopeScaling local;
    nlohmann::json slide = {{"rope_parameters", c["rope_parameters"]["sliding_attention"]}};
    hf_rope(slide, s.rope_theta_local, s.rope_theta_local, local);
  }
  if (s.layer_sliding.empty()) {  // classic: every sliding_window_pattern-th layer is global
    int64_t pattern = c.value("sliding_window_pattern", int64_t(6));
    for (int64_t i = 0; i < s.layers; ++i) s.layer_sliding.push_back((i + 1) % pattern != 0);
  }
  s.validate();
  return s;
}

nn::DecoderSpec from_gguf(const io::GgufFile& g) {
  nn::DecoderSpec s = gemma_spec_from_gguf(g, "gemma3", "gemma3_text");
  s.post_norms = true;
  s.qk_norm = true;
  s.rope_theta_local = 10000.0;  // llama.cpp's fixed local base for gemma3
  s.sliding_window = g.int_or("gemma3.attention.sliding_window").value_or(0);
  for (int64_t i = 0; i < s.layers; ++i) s.layer_sliding.push_back((i + 1) % 6 != 0);
  s.validate();
  return s;
}

}  // namespace

const DecoderFamily& family() {
  static const DecoderFamily f{"gemma3_text", {"gemma3_text", "gemma3"}, from_hf, from_gguf, gemma2_gguf_name};
  return f;
}

}  // namespace rlx::models::gemma3_text
