// The op table: every operation a graph can hold, with its attributes.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "rlx/core/dtype.h"

namespace rlx::ir {

enum class OpKind : uint8_t {
  // Leaves
  Input,  // fed per run
  Param,  // bound once (weights)
  State,  // persistent, mutable across runs (KV caches, recurrent state), bound per run
  // Linear algebra
  Embedding,  // (table [V, D], ids int [...]) -> [..., D]
  Linear,     // (x [..., K], W [N, K], bias? [N]) -> [..., N]; y = x·Wᵀ + b
  MatMul,     // (a [..., M, K], b [..., K, N] or [..., N, K] with transpose_b) -> [..., M, N]
  // Elementwise binary, numpy broadcasting
  Add,
  Sub,
  Mul,
  Div,
  // Elementwise unary
  Scale,  // x * scale + bias
  Silu,
  GeluErf,
  GeluTanh,
  Relu,
  Sigmoid,
  Tanh,
  Exp,
  Log,
  Softplus,
  Sqrt,
  Abs,
  Neg,
  Pow,
  // Normalization and attention
  RmsNorm,    // (x, w?) over the last axis; offset_one: x̂·(1+w)
  LayerNorm,  // (x, w?, b?) over the last axis
  Softmax,    // last axis; softcap c>0: softmax(c·tanh(x·scale/c))
  Rope,       // (x [B, T, H, D], positions int [T], inv_freq f32 [rot/2]) -> same shape
  Attention,  // see AttentionInputs below
  // Shape and data movement
  Reshape,
  Permute,
  Slice,
  Concat,
  Pad,
  Cast,
  Copy,
  // Convolution and reductions
  Conv1d,  // (x [B, Cin, L], w [Cout, Cin/groups, K], bias? [Cout]) -> [B, Cout, Lout]
  Argmax,
  ReduceSum,
  ReduceMean,
  ReduceMax,
  kCount
};

enum class RopeStyle : uint8_t { NeoX, Interleaved };  // NeoX: pairs (i, i+d/2); GPT-J: (2i, 2i+1)
enum class MaskKind : uint8_t { None, Causal, SlidingWindow };
enum class PadMode : uint8_t { Zero, Reflect };

// Attention inputs, in order: q [B, Tq, Hq, D], k [B, Tk, Hkv, D], v [B, Tk, Hkv, Dv], then
// if has_cache: k_cache [B, Hkv, S, D], v_cache [B, Hkv, S, Dv] (State nodes) and
// kv_pos int32 [1] (tokens already cached; the new k/v are written at kv_pos.. and attention
// covers [0, kv_pos + Tk)); then if has_key_mask: mask [B, Tkeys] (nonzero = attend).
// Query i sits at absolute position (kv_pos or Tk - Tq) + i. Output [B, Tq, Hq, Dv].

struct Attrs {
  // numbers
  float eps = 0.f;
  float scale = 1.f;
  float bias = 0.f;
  float softcap = 0.f;
  float exponent = 1.f;
  float attn_factor = 1.f;  // RoPE: multiplies cos/sin (YaRN mscale)
  bool offset_one = false;  // RmsNorm: weight used as (1 + w)
  bool transpose_b = false;
  bool keepdim = false;
  bool has_cache = false;
  bool has_key_mask = false;
  int axis = -1;
  // shape ops
  std::vector<int64_t> shape;             // Reshape target (one -1 allowed)
  std::vector<int> perm;                  // Permute order
  int64_t start = 0, stop = 0, step = 1;  // Slice along axis
  int64_t pad_before = 0, pad_after = 0;  // Pad along axis
  PadMode pad_mode = PadMode::Zero;
  // conv
  int64_t stride = 1, padding = 0, dilation = 1, groups = 1;
  // rope / attention
  RopeStyle rope_style = RopeStyle::NeoX;
  int64_t rope_dims = 0;  // rotated dims per head (partial rotary); 0 = all
  MaskKind mask = MaskKind::None;
  int64_t window = 0;        // sliding window size (keys within the last `window` positions)
  DType dtype = DType::F32;  // Cast target
};

struct OpInfo {
  const char* name;
  int min_inputs, max_inputs;  // -1 = any number
  bool is_view;                // output aliases input 0 when layout allows (no kernel)
  bool has_side_effects;       // never dropped as dead (writes a State)
  bool elementwise;            // accepts strided inputs
};

const OpInfo& op_info(OpKind k);
inline const char* op_name(OpKind k) {
  return op_info(k).name;
}

// The elementwise families, for backends that register one kernel per family.
inline constexpr OpKind kBinaryOps[] = {OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Div};
inline constexpr OpKind kUnaryOps[] = {
    OpKind::Scale,   OpKind::Silu, OpKind::GeluErf, OpKind::GeluTanh, OpKind::Relu,
    OpKind::Sigmoid, OpKind::Tanh, OpKind::Exp,     OpKind::Log,      OpKind::Softplus,
    OpKind::Sqrt,    OpKind::Abs,  OpKind::Neg,     OpKind::Pow};

// One entry per op (null where none is registered): a backend's kernel registry.
template <class Fn>
class OpTable {
 public:
  void add(OpKind op, Fn fn) { fns_[size_t(op)] = fn; }
  Fn find(OpKind op) const { return fns_[size_t(op)]; }

 private:
  std::array<Fn, size_t(OpKind::kCount)> fns_{};
};

}  // namespace rlx::ir
