// StandardDecoder: one spec-driven graph builder for the Llama-like decoder families (Qwen3,
// Llama, Qwen2, Gemma, ...). A family fills a DecoderSpec from its config and supplies tensor
// names in HF form; GGUF names are mapped by the family's name map in the WeightStore.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "rlx/io/weights.h"
#include "rlx/ir/builder.h"
#include "rlx/nn/params.h"
#include "rlx/nn/rope.h"

namespace rlx::nn {

enum class Activation { SiluGlu, GeluTanhGlu };

struct DecoderSpec {
  std::string family;
  int64_t vocab = 0, hidden = 0, layers = 0, heads = 0, kv_heads = 0, head_dim = 0, ffn = 0;
  int64_t max_positions = 0;  // the model's context length
  float norm_eps = 1e-6f;
  bool norm_offset_one = false;  // Gemma: x̂·(1+w)
  bool qk_norm = false;          // Qwen3: RMSNorm over each head of q and k
  bool attn_bias = false;        // Qwen2: q/k/v biases
  bool attn_out_bias = false;
  bool post_norms = false;  // Gemma2/3 sandwich norms after attention and MLP
  Activation act = Activation::SiluGlu;
  double rope_theta = 10000.0;
  double rope_theta_local = 0;  // Gemma3: base for sliding-window layers (0 = same)
  RopeScaling rope_scaling;
  ir::RopeStyle rope_style = ir::RopeStyle::NeoX;
  int64_t rotary_dims = 0;  // 0 = head_dim
  float query_scale = 0;    // 0 = 1/sqrt(head_dim)
  float attn_softcap = 0, final_softcap = 0;
  int64_t sliding_window = 0;
  std::vector<bool> layer_sliding;  // per layer: uses the sliding window
  float embed_scale = 1.f;          // Gemma: sqrt(hidden)
  bool tied_embeddings = false;

  // HF tensor names (the family's GGUF name map translates them).
  std::string embed_name = "model.embed_tokens.weight";
  std::string layers_prefix = "model.layers";
  std::string final_norm_name = "model.norm.weight";
  std::string lm_head_name = "lm_head.weight";

  void validate() const;  // throws rlx::Error naming the bad field
  int64_t kv_bytes_per_token(DType kv_type) const;
};

struct DecoderGraphOptions {
  int64_t tokens = 1;     // T: tokens in this step
  int64_t cache_len = 0;  // S: KV cache capacity
  DType kv_type = DType::F32;
  bool all_logits = true;  // false: only the last position's logits
};

// Inputs: "ids" int32 [1, T], "pos" int32 [T], "kv_pos" int32 [1]; states "k.<i>", "v.<i>"
// [1, kv_heads, S, head_dim]; output "logits" [T or 1, vocab].
ir::Graph build_decoder_graph(const DecoderSpec& spec, io::WeightStore& weights,
                              const DecoderGraphOptions& opt, std::vector<Tensor>& owned);

}  // namespace rlx::nn
