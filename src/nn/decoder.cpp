// The standard decoder layer loop. Intermediate values keep the checkpoint's module paths as
// names so graph dumps can be compared with the reference's hidden states.
#include "rlx/nn/decoder.h"

#include <cmath>

#include "rlx/core/error.h"

namespace rlx::nn {

using ir::GraphBuilder;
using ir::Value;

void DecoderSpec::validate() const {
  auto positive = [&](int64_t v, const char* name) {
    RLX_CHECK(v > 0, "{} config: {} must be positive, got {}", family, name, v);
  };
  positive(vocab, "vocab_size");
  positive(hidden, "hidden_size");
  positive(layers, "num_hidden_layers");
  positive(heads, "num_attention_heads");
  positive(kv_heads, "num_key_value_heads");
  positive(head_dim, "head_dim");
  positive(ffn, "intermediate_size");
  RLX_CHECK(heads % kv_heads == 0,
            "{} config: num_attention_heads ({}) must be a multiple of "
            "num_key_value_heads ({})",
            family, heads, kv_heads);
  RLX_CHECK(rotary_dims % 2 == 0 && rotary_dims <= head_dim,
            "{} config: rotary dims {} invalid for head_dim {}", family, rotary_dims, head_dim);
  RLX_CHECK(layer_sliding.empty() || int64_t(layer_sliding.size()) == layers,
            "{} config: sliding-window pattern has {} entries for {} layers", family,
            layer_sliding.size(), layers);
}

int64_t DecoderSpec::kv_bytes_per_token(DType kv_type) const {
  return 2 * layers * kv_heads * head_dim * element_size(kv_type);
}

ir::Graph build_decoder_graph(const DecoderSpec& spec, io::WeightStore& weights,
                              const DecoderGraphOptions& opt, std::vector<Tensor>& owned) {
  spec.validate();
  ir::Graph g;
  GraphBuilder b(g);
  ParamBinder p(b);
  io::WeightScope root = weights.root();
  const int64_t T = opt.tokens, H = spec.hidden, D = spec.head_dim;
  const int64_t rot = spec.rotary_dims ? spec.rotary_dims : D;

  Value ids = b.input("ids", DType::I32, {1, T});
  Value pos = b.input("pos", DType::I32, {T});
  Value kv_pos = b.input("kv_pos", DType::I32, {1});

  auto make_rope = [&](double theta, const RopeScaling& sc, const std::string& name) {
    RopeTable rt = rope_table(theta, int(rot), sc, spec.max_positions);
    Tensor t = Tensor::empty(DType::F32, {rot / 2});
    std::copy(rt.inv_freq.begin(), rt.inv_freq.end(), t.ptr<float>());
    return std::make_pair(p.constant(name, t), rt.attention_factor);
  };
  const auto global_rope = make_rope(spec.rope_theta, spec.rope_scaling, "rope.inv_freq");
  auto local_rope = global_rope;
  if (spec.rope_theta_local > 0)
    local_rope = make_rope(spec.rope_theta_local, RopeScaling{}, "rope.inv_freq_local");

  Value embed = p.matrix(root, spec.embed_name, {spec.vocab, H});
  Value x = b.embedding(embed, ids, spec.embed_name);
  if (spec.embed_scale != 1.f) x = b.scale(x, spec.embed_scale);

  const float qscale = spec.query_scale > 0 ? spec.query_scale : 1.f / std::sqrt(float(D));
  for (int64_t i = 0; i < spec.layers; ++i) {
    io::WeightScope L = root.sub(spec.layers_prefix).sub(i);
    io::WeightScope A = L.sub("self_attn"), M = L.sub("mlp");
    const bool sliding = !spec.layer_sliding.empty() && spec.layer_sliding[size_t(i)];
    auto norm = [&](Value v, const io::WeightScope& s, const std::string& name, int64_t dim) {
      return b.rms_norm(v, p.f32(s, name, {dim}), spec.norm_eps, spec.norm_offset_one,
                        s.path(name));
    };

    Value h = norm(x, L, "input_layernorm.weight", H);
    auto proj = [&](const char* name, int64_t out, bool bias) {
      io::WeightScope s = A.sub(name);
      return b.linear(h, p.matrix(s, "weight", {out, H}),
                      bias ? std::optional<Value>(p.f32(s, "bias", {out})) : std::nullopt,
                      s.path("weight"));
    };
    Value q = b.reshape(proj("q_proj", spec.heads * D, spec.attn_bias), {1, T, spec.heads, D});
    Value k =
        b.reshape(proj("k_proj", spec.kv_heads * D, spec.attn_bias), {1, T, spec.kv_heads, D});
    Value v =
        b.reshape(proj("v_proj", spec.kv_heads * D, spec.attn_bias), {1, T, spec.kv_heads, D});
    if (spec.qk_norm) {
      q = norm(q, A, "q_norm.weight", D);
      k = norm(k, A, "k_norm.weight", D);
    }
    const auto& rope = sliding ? local_rope : global_rope;
    q = b.rope(q, pos, rope.first, spec.rope_style, rot, rope.second);
    k = b.rope(k, pos, rope.first, spec.rope_style, rot, rope.second);
    Value kc = b.state("k." + std::to_string(i), opt.kv_type, {1, spec.kv_heads, opt.cache_len, D});
    Value vc = b.state("v." + std::to_string(i), opt.kv_type, {1, spec.kv_heads, opt.cache_len, D});
    GraphBuilder::AttentionOptions ao;
    ao.scale = qscale;
    ao.softcap = spec.attn_softcap;
    ao.mask = sliding ? ir::MaskKind::SlidingWindow : ir::MaskKind::Causal;
    ao.window = spec.sliding_window;
    Value att = b.attention_cached(q, k, v, kc, vc, kv_pos, ao);
    att = b.reshape(att, {1, T, spec.heads * D});
    io::WeightScope O = A.sub("o_proj");
    Value o =
        b.linear(att, p.matrix(O, "weight", {H, spec.heads * D}),
                 spec.attn_out_bias ? std::optional<Value>(p.f32(O, "bias", {H})) : std::nullopt,
                 O.path("weight"));
    if (spec.post_norms) o = norm(o, L, "post_attention_layernorm.weight", H);
    x = b.add(x, o);

    h = norm(
        x, L,
        spec.post_norms ? "pre_feedforward_layernorm.weight" : "post_attention_layernorm.weight",
        H);
    Value gate = b.linear(h, p.matrix(M.sub("gate_proj"), "weight", {spec.ffn, H}), std::nullopt,
                          M.sub("gate_proj").path("weight"));
    Value up = b.linear(h, p.matrix(M.sub("up_proj"), "weight", {spec.ffn, H}), std::nullopt,
                        M.sub("up_proj").path("weight"));
    Value act = spec.act == Activation::SiluGlu ? b.silu(gate) : b.gelu_tanh(gate);
    Value m = b.linear(b.mul(act, up), p.matrix(M.sub("down_proj"), "weight", {H, spec.ffn}),
                       std::nullopt, M.sub("down_proj").path("weight"));
    if (spec.post_norms) m = norm(m, L, "post_feedforward_layernorm.weight", H);
    x = b.add(x, m);
  }
  x = b.rms_norm(x, p.f32(root, spec.final_norm_name, {H}), spec.norm_eps, spec.norm_offset_one,
                 spec.final_norm_name);
  if (!opt.all_logits) x = b.slice(x, 1, T - 1, T);
  x = b.reshape(x, {opt.all_logits ? T : 1, H});
  Value head = spec.tied_embeddings || !weights.contains(spec.lm_head_name)
                   ? embed
                   : p.matrix(root, spec.lm_head_name, {spec.vocab, H});
  Value logits = b.linear(x, head, std::nullopt, "lm_head");
  if (spec.final_softcap > 0)
    logits = b.scale(b.tanh(b.scale(logits, 1.f / spec.final_softcap)), spec.final_softcap);
  b.output("logits", logits);
  for (auto& t : p.take_owned()) owned.push_back(t);
  return g;
}

}  // namespace rlx::nn
