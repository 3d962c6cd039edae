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
  // As llama.cpp's gemma3 loader: without a window every layer is global; with one, the
  // layers follow gemma3.attention.sliding_window_pattern (default: 5 local, 1 global) and the
  // local ones use rope.freq_base_swa (default 10000) without the global rope scaling.
  s.sliding_window = g.int_or("gemma3.attention.sliding_window").value_or(0);
  if (s.sliding_window > 0)
    s.layer_sliding = gguf_sliding_pattern(g, "gemma3", s.layers, 6);
  else
    s.layer_sliding.assign(size_t(s.layers), false);
  s.rope_theta_local = g.float_or("gemma3.rope.freq_base_swa").value_or(10000.0);
  gemma_gguf_query_scale(s, 62);  // Gemma 3 27B
  s.validate();
  return s;
}

}  // namespace

const DecoderFamily& family() {
  static const DecoderFamily f{
      "gemma3_text", {"gemma3_text", "gemma3"}, from_hf, from_gguf, gemma2_gguf_name};
  return f;
}

}  // namespace rlx::models::gemma3_text
