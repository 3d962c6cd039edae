// Gemma 2: Gemma plus sandwich norms, attention and final logit soft-caps, query scaling by
// query_pre_attn_scalar, and sliding-window attention on every other layer.
#include "models/common/gemma_common.h"
#include "models/common/hf_config.h"

namespace rlx::models::gemma2 {
namespace {

nn::DecoderSpec from_hf(const nlohmann::json& c) {
  nn::DecoderSpec s = gemma_spec_from_hf(c, "gemma2");
  s.post_norms = true;
  s.attn_softcap = float(c.value("attn_logit_softcapping", 0.0));
  s.final_softcap = float(c.value("final_logit_softcapping", 0.0));
  if (s.layer_sliding.empty())  // classic configs: layers 0, 2, 4, ... use the window
    for (int64_t i = 0; i < s.layers; ++i) s.layer_sliding.push_back(i % 2 == 0);
  s.validate();
  return s;
}

nn::DecoderSpec from_gguf(const io::GgufFile& g) {
  nn::DecoderSpec s = gemma_spec_from_gguf(g, "gemma2", "gemma2");
  s.post_norms = true;
  s.attn_softcap = float(g.float_or("gemma2.attn_logit_softcapping").value_or(0.0));
  s.final_softcap = float(g.float_or("gemma2.final_logit_softcapping").value_or(0.0));
  // As llama.cpp's gemma2 loader: window 4096 unless given, the pattern key if present (else every
  // other layer, starting with a local one), a local RoPE base only if given.
  s.sliding_window = g.int_or("gemma2.attention.sliding_window").value_or(4096);
  s.layer_sliding = gguf_sliding_pattern(g, "gemma2", s.layers, 2);
  if (auto base = g.float_or("gemma2.rope.freq_base_swa")) s.rope_theta_local = *base;
  gemma_gguf_query_scale(s, 46);  // Gemma 2 27B
  s.validate();
  return s;
}

}  // namespace

const DecoderFamily& family() {
  static const DecoderFamily f{"gemma2", {"gemma2"}, from_hf, from_gguf, gemma2_gguf_name};
  return f;
}

}  // namespace rlx::models::gemma2
