// Tensor type selection of `rlx quantize`, following llama-quantize's rules (llama-quant.cpp)
// for the file types rlx writes, without an importance matrix and for dense models (no experts).
// The rules were re-stated from llama.cpp's behaviour; see docs/quantization.md for the table.
#include "rlx/models/quant_policy.h"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include "rlx/core/error.h"

namespace rlx::models {
namespace {

const std::vector<QuantFileType>& file_types() {
  static const std::vector<QuantFileType> t = {
      {"F32", 0, DType::F32},        {"F16", 1, DType::F16},        {"BF16", 32, DType::BF16},
      {"Q4_0", 2, DType::Q4_0},      {"Q4_1", 3, DType::Q4_1},      {"Q5_0", 8, DType::Q5_0},
      {"Q5_1", 9, DType::Q5_1},      {"Q8_0", 7, DType::Q8_0},      {"Q2_K", 10, DType::Q2_K},
      {"Q2_K_S", 21, DType::Q2_K},   {"Q3_K_S", 11, DType::Q3_K},   {"Q3_K_M", 12, DType::Q3_K},
      {"Q3_K_L", 13, DType::Q3_K},   {"Q4_K_S", 14, DType::Q4_K},   {"Q4_K_M", 15, DType::Q4_K},
      {"Q5_K_S", 16, DType::Q5_K},   {"Q5_K_M", 17, DType::Q5_K},   {"Q6_K", 18, DType::Q6_K},
      {"IQ4_NL", 25, DType::IQ4_NL}, {"IQ4_XS", 30, DType::IQ4_XS}, {"MXFP4_MOE", 38, DType::MXFP4},
  };
  return t;
}

enum class Category {
  Output,
  TokenEmbd,
  AttnV,
  AttnK,
  AttnQ,
  AttnOut,
  FfnUp,
  FfnGate,
  FfnDown,
  Other
};

bool has(const std::string& s, const char* sub) {
  return s.find(sub) != std::string::npos;
}

Category category_of(const std::string& n) {
  if (n == "output.weight") return Category::Output;
  if (n == "token_embd.weight" || n == "per_layer_token_embd.weight") return Category::TokenEmbd;
  // attn_qkv and attn_kv_b are treated like attn_v (the most sensitive projection).
  if (has(n, "attn_qkv.weight") || has(n, "attn_kv_b.weight") || has(n, "attn_v.weight"))
    return Category::AttnV;
  if (has(n, "attn_k.weight")) return Category::AttnK;
  if (has(n, "attn_q.weight")) return Category::AttnQ;
  if (has(n, "attn_output.weight")) return Category::AttnOut;
  if (has(n, "ffn_up")) return Category::FfnUp;
  if (has(n, "ffn_gate")) return Category::FfnGate;
  if (has(n, "ffn_down")) return Category::FfnDown;
  return Category::Other;
}

// ggml_n_dims: the rank without trailing (ggml order) / leading (PyTorch order) unit dims.
int ggml_dims(const Shape& s) {
  int r = s.rank(), lead = 0;
  while (lead < r - 1 && s[lead] == 1) ++lead;
  return std::max(1, r - lead);
}

// llama-quantize's layer spread for "more bits": the first and last eighth, and every third
// layer in between.
bool use_more_bits(int64_t i, int64_t n) {
  return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2;
}

}  // namespace

std::optional<QuantFileType> quant_file_type(std::string_view name) {
  std::string up(name);
  for (auto& c : up) c = char(std::toupper(static_cast<unsigned char>(c)));
  if (up == "MXFP4") up = "MXFP4_MOE";
  for (auto& t : file_types())
    if (t.name == up) return t;
  return std::nullopt;
}

std::vector<std::string> quant_file_type_names() {
  std::vector<std::string> v;
  for (auto& t : file_types()) v.push_back(t.name);
  return v;
}

bool tensor_allows_quantization(const QuantTensor& t) {
  if (ggml_dims(t.shape) < 2) return false;
  const std::string& n = t.name;
  if (n.size() < 6 || n.compare(n.size() - 6, 6, "weight") != 0) return false;
  static const char* const kKeep[] = {
      "_norm.weight",
      "ffn_gate_inp.weight",
      "ffn_gate_tid2eid.weight",
      "altup",
      "laurel",
      "per_layer_model_proj",
      "ssm_conv1d",
      "shortconv.conv.weight",
      "indexer.k_proj.weight",
      "indexer.q_proj.weight",
      "time_mix_first.weight",
      "time_mix_w0.weight",
      "time_mix_w1.weight",
      "time_mix_w2.weight",
      "time_mix_v0.weight",
      "time_mix_v1.weight",
      "time_mix_v2.weight",
      "time_mix_a0.weight",
      "time_mix_a1.weight",
      "time_mix_a2.weight",
      "time_mix_g1.weight",
      "time_mix_g2.weight",
      "time_mix_decay_w1.weight",
      "time_mix_decay_w2.weight",
      "time_mix_lerp_fused.weight",
      "attn_rel_b.weight",
      ".position_embd",
      "sam.pos_embd",
      "sam.neck.",
      "sam.net_",
      ".rel_pos",
      ".patch_embd",
      ".patch_merger",
      "a.rvq.codebook",
      "mm.a.code_embd",
  };
  for (const char* k : kKeep)
    if (has(n, k)) return false;
  return n != "position_embd.weight" && n != "token_types.weight";
}

DType fallback_type(DType type, int64_t row_length) {
  const int64_t bs = block_size(type);
  if (row_length % bs == 0) return type;
  DType r = type;
  switch (type) {
    case DType::IQ4_XS:
    case DType::IQ1_S:
    case DType::IQ1_M:
    case DType::IQ2_XXS:
    case DType::IQ2_XS:
    case DType::IQ2_S:
    case DType::IQ3_XXS:
    case DType::IQ3_S:
      r = DType::IQ4_NL;
      break;
    case DType::Q2_K:
    case DType::Q3_K:
    case DType::TQ1_0:
    case DType::TQ2_0:
    case DType::Q2_0:
      r = DType::Q4_0;
      break;
    case DType::Q4_K:
      r = DType::Q5_0;
      break;
    case DType::Q5_K:
      r = DType::Q5_1;
      break;
    case DType::Q6_K:
      r = DType::Q8_0;
      break;
    default:
      if (bs > 32) fail("no fallback type for {} (row length {})", dtype_name(type), row_length);
      break;
  }
  return row_length % block_size(r) == 0 ? r : DType::F16;
}

std::vector<size_t> quantize_order(const std::vector<std::string>& names) {
  auto layer = [](const std::string& n) {
    int l = -1;
    std::sscanf(n.c_str(), "blk.%d.", &l);
    return l;
  };
  std::vector<size_t> idx(names.size());
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::stable_sort(idx.begin(), idx.end(), [&](size_t a, size_t b) {
    int la = layer(names[a]), lb = layer(names[b]);
    if (la != lb) return la < lb;
    return names[a] < names[b];
  });
  return idx;
}

std::vector<DType> choose_tensor_types(const QuantFileType& type,
                                       const std::vector<QuantTensor>& tensors,
                                       const QuantModelInfo& model, const QuantPolicyOptions& opt) {
  const std::string& f = type.name;
  const DType def = type.default_type;
  const int64_t gqa = model.kv_heads > 0 ? model.heads / model.kv_heads : 1;
  int64_t n_attn_v = 0, i_attn_v = 0, i_ffn_down = 0;
  bool tied = true;  // until output.weight is seen
  for (auto& t : tensors) {
    Category c = category_of(t.name);
    n_attn_v += c == Category::AttnV;
    tied &= c != Category::Output;
  }
  const int64_t n_layer = model.layers;

  // The mix's adjustment for one quantizable tensor.
  auto mix = [&](const QuantTensor& t, Category c) -> DType {
    DType d = def;
    if (c == Category::Output || (tied && c == Category::TokenEmbd)) {
      if (f == "MXFP4_MOE" || t.shape[t.shape.rank() - 1] % block_size(d) != 0) return DType::Q8_0;
      return d == DType::Q8_0 ? d : DType::Q6_K;
    }
    if (f == "MXFP4_MOE") return ggml_dims(t.shape) >= 3 ? DType::MXFP4 : DType::Q8_0;
    switch (c) {
      case Category::AttnV: {
        const int64_t i = i_attn_v++;
        if (f == "Q2_K") return gqa >= 4 ? DType::Q4_K : DType::Q3_K;
        if (f == "Q2_K_S" && gqa >= 4) return DType::Q4_K;
        if (f == "Q3_K_M") return i < 2 ? DType::Q5_K : DType::Q4_K;
        if (f == "Q3_K_L") return DType::Q5_K;
        if ((f == "IQ4_NL" || f == "IQ4_XS") && gqa >= 4) return DType::Q5_K;
        if ((f == "Q4_K_M" || f == "Q5_K_M") && use_more_bits(i, n_attn_v)) return DType::Q6_K;
        if (f == "Q4_K_S" && i < 4) return DType::Q5_K;
        return d;
      }
      case Category::FfnDown: {
        const int64_t i = i_ffn_down++;
        if (f == "Q2_K") return DType::Q3_K;
        if (f == "Q2_K_S") return i < n_layer / 8 ? DType::Q4_K : d;
        if (f == "Q3_K_M") return i < n_layer / 16 ? DType::Q5_K : DType::Q4_K;
        if (f == "Q3_K_L") return DType::Q5_K;
        if (f == "Q4_K_M") return use_more_bits(i, n_layer) ? DType::Q6_K : d;
        if (i < n_layer / 8 && (f == "IQ4_NL" || f == "IQ4_XS")) return DType::Q5_K;
        if (f == "Q5_K_M" && use_more_bits(i, n_layer)) return DType::Q6_K;
        if (f == "Q4_K_S" && i < n_layer / 8) return DType::Q5_K;
        return d;
      }
      case Category::AttnOut:
        if (f == "Q2_K") return DType::Q3_K;
        if (f == "Q3_K_M") return DType::Q4_K;
        if (f == "Q3_K_L") return DType::Q5_K;
        return d;
      default:
        return d;
    }
  };

  std::vector<DType> out;
  out.reserve(tensors.size());
  for (auto& t : tensors) {
    if (!tensor_allows_quantization(t)) {
      out.push_back(t.dtype);
      continue;
    }
    if (!is_quantized(def)) {
      out.push_back(def);
      continue;
    }
    DType d = opt.pure ? def : mix(t, category_of(t.name));
    out.push_back(fallback_type(d, t.shape[t.shape.rank() - 1]));
  }
  return out;
}

}  // namespace rlx::models
