// Llama 1-3.x, TinyLlama, SmolLM2 (and MiniCPM5, which ships as `llama`): RMSNorm, SwiGLU,
// GQA, RoPE with optional llama3 / linear / dynamic scaling, optional attention biases.
#include "models/common/gguf_names.h"
#include "models/common/hf_config.h"
#include "rlx/core/error.h"
#include "rlx/models/families.h"

namespace rlx::models::llama {
namespace {

nn::DecoderSpec from_hf(const nlohmann::json& c) {
  nn::DecoderSpec s = decoder_spec_from_hf(c, "llama");
  s.attn_bias = s.attn_out_bias = c.value("attention_bias", false);
  RLX_CHECK(!c.value("mlp_bias", false), "llama config.json: mlp_bias=true is not supported");
  s.validate();
  return s;
}

nn::DecoderSpec from_gguf(const io::GgufFile& g) {
  nn::DecoderSpec s = decoder_spec_from_gguf(g, "llama", "llama");
  // convert_hf_to_gguf.py permutes the Q/K rows of llama checkpoints for ggml's adjacent-pair
  // RoPE; rotating adjacent pairs of the permuted rows equals HF's rotate_half on the originals.
  s.rope_style = ir::RopeStyle::Interleaved;
  // Llama 3.x rope scaling: the converter writes no scaling keys but a rope_freqs.weight tensor
  // of per-frequency divisors, which llama.cpp applies to every layer.
  s.rope_scaling.freq_factors = gguf_rope_freq_factors(g);
  s.attn_bias = g.find_tensor("blk.0.attn_q.bias") != nullptr;
  s.attn_out_bias = g.find_tensor("blk.0.attn_output.bias") != nullptr;
  s.validate();
  return s;
}

std::string gguf_name(const std::string& hf) {
  return standard_gguf_name(hf);
}

}  // namespace

const DecoderFamily& family() {
  static const DecoderFamily f{"llama", {"llama"}, from_hf, from_gguf, gguf_name};
  return f;
}

}  // namespace rlx::models::llama

namespace rlx::models::minicpm5 {

// openbmb/MiniCPM5 declares model_type / general.architecture = llama: the same decoder.
const DecoderFamily& family() {
  static const DecoderFamily f = [] {
    DecoderFamily l = llama::family();
    l.name = "minicpm5";
    l.archs = {"llama", "minicpm5"};
    return l;
  }();
  return f;
}

}  // namespace rlx::models::minicpm5
