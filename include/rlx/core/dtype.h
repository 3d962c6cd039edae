// Element types, including every GGUF/ggml block-quantized type (quantized tensors are a dtype).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rlx {

enum class DType : uint8_t {
  F32,
  F16,
  BF16,
  F64,
  I8,
  I16,
  I32,
  I64,
  U8,
  Bool,
  U16,
  U32,
  U64,
  F8_E4M3,
  F8_E5M2,
  // ggml block formats
  Q4_0,
  Q4_1,
  Q5_0,
  Q5_1,
  Q8_0,
  Q8_1,
  Q2_K,
  Q3_K,
  Q4_K,
  Q5_K,
  Q6_K,
  Q8_K,
  IQ2_XXS,
  IQ2_XS,
  IQ3_XXS,
  IQ1_S,
  IQ4_NL,
  IQ3_S,
  IQ2_S,
  IQ4_XS,
  IQ1_M,
  TQ1_0,
  TQ2_0,
  MXFP4,
  NVFP4,
  Q1_0,
  Q2_0,
  kCount
};

struct DTypeInfo {
  const char* name;     // "F32", "Q4_K", ... (ggml spelling upper-cased, as llama.cpp prints)
  int ggml_id;          // GGUF tensor type id, -1 when the type has none (U8, Bool)
  int64_t block_size;   // elements per block (1 for plain types)
  int64_t block_bytes;  // bytes per block
  bool quantized;
  bool is_float;  // plain floating point (F32/F16/BF16/F64)
};

const DTypeInfo& dtype_info(DType t);
inline const char* dtype_name(DType t) {
  return dtype_info(t).name;
}
inline bool is_quantized(DType t) {
  return dtype_info(t).quantized;
}
inline int64_t block_size(DType t) {
  return dtype_info(t).block_size;
}

// Bytes for n consecutive elements; n must be a multiple of the block size (checked by callers
// that parse files; asserts here).
int64_t dtype_bytes(DType t, int64_t n);

// Size in bytes of one element for plain types; asserts for block types.
int64_t element_size(DType t);

std::optional<DType> dtype_from_ggml_id(uint32_t id);
// Accepts "F32", "f32", "Q4_K", "q4_k", "BF16", safetensors names ("F16", "I64", "BOOL", "U8").
std::optional<DType> dtype_from_name(std::string_view name);

// The largest ggml type id known, and whether an id names a removed/unknown type.
constexpr uint32_t kGgmlTypeIdLimit = 43;

}  // namespace rlx
