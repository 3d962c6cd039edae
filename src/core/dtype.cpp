#include "rlx/core/dtype.h"

#include <algorithm>
#include <array>
#include <cctype>

#include "rlx/core/error.h"

namespace rlx {
namespace {

constexpr int64_t kQK = 256;  // super-block size of the K-quants

// Block sizes and bytes follow ggml's type table (ggml.c / gguf-py GGML_QUANT_SIZES).
constexpr std::array<DTypeInfo, size_t(DType::kCount)> kInfo = {{
    {"F32", 0, 1, 4, false, true},
    {"F16", 1, 1, 2, false, true},
    {"BF16", 30, 1, 2, false, true},
    {"F64", 28, 1, 8, false, true},
    {"I8", 24, 1, 1, false, false},
    {"I16", 25, 1, 2, false, false},
    {"I32", 26, 1, 4, false, false},
    {"I64", 27, 1, 8, false, false},
    {"U8", -1, 1, 1, false, false},
    {"BOOL", -1, 1, 1, false, false},
    {"U16", -1, 1, 2, false, false},
    {"U32", -1, 1, 4, false, false},
    {"U64", -1, 1, 8, false, false},
    {"F8_E4M3", -1, 1, 1, false, true},
    {"F8_E5M2", -1, 1, 1, false, true},
    {"Q4_0", 2, 32, 2 + 16, true, false},
    {"Q4_1", 3, 32, 2 + 2 + 16, true, false},
    {"Q5_0", 6, 32, 2 + 4 + 16, true, false},
    {"Q5_1", 7, 32, 2 + 2 + 4 + 16, true, false},
    {"Q8_0", 8, 32, 2 + 32, true, false},
    {"Q8_1", 9, 32, 2 + 2 + 32, true, false},
    {"Q2_K", 10, kQK, 2 + 2 + kQK / 16 + kQK / 4, true, false},
    {"Q3_K", 11, kQK, 2 + kQK / 4 + kQK / 8 + 12, true, false},
    {"Q4_K", 12, kQK, 2 + 2 + kQK / 2 + 12, true, false},
    {"Q5_K", 13, kQK, 2 + 2 + kQK / 2 + kQK / 8 + 12, true, false},
    {"Q6_K", 14, kQK, 2 + kQK / 2 + kQK / 4 + kQK / 16, true, false},
    {"Q8_K", 15, kQK, 4 + kQK + kQK / 8, true, false},
    {"IQ2_XXS", 16, kQK, 2 + kQK / 4, true, false},
    {"IQ2_XS", 17, kQK, 2 + kQK / 4 + kQK / 32, true, false},
    {"IQ3_XXS", 18, kQK, 2 + kQK / 4 + kQK / 8, true, false},
    {"IQ1_S", 19, kQK, 2 + kQK / 8 + kQK / 16, true, false},
    {"IQ4_NL", 20, 32, 2 + 16, true, false},
    {"IQ3_S", 21, kQK, 2 + kQK / 4 + kQK / 8 + kQK / 32 + 4, true, false},
    {"IQ2_S", 22, kQK, 2 + kQK / 4 + kQK / 16, true, false},
    {"IQ4_XS", 23, kQK, 2 + 2 + kQK / 2 + kQK / 64, true, false},
    {"IQ1_M", 29, kQK, kQK / 8 + kQK / 16 + kQK / 32, true, false},
    {"TQ1_0", 34, kQK, 2 + 4 * 13, true, false},
    {"TQ2_0", 35, kQK, 2 + 64, true, false},
    {"MXFP4", 39, 32, 1 + 16, true, false},
    {"NVFP4", 40, 64, 4 + 32, true, false},
    {"Q1_0", 41, 128, 2 + 16, true, false},
    {"Q2_0", 42, 64, 2 + 16, true, false},
}};

}  // namespace

const DTypeInfo& dtype_info(DType t) {
  RLX_ASSERT(size_t(t) < kInfo.size(), "bad dtype {}", int(t));
  return kInfo[size_t(t)];
}

int64_t dtype_bytes(DType t, int64_t n) {
  const auto& info = dtype_info(t);
  RLX_ASSERT(n % info.block_size == 0, "{} elements is not a multiple of {}'s block size {}", n,
             info.name, info.block_size);
  return n / info.block_size * info.block_bytes;
}

int64_t element_size(DType t) {
  const auto& info = dtype_info(t);
  RLX_ASSERT(info.block_size == 1, "element_size of block type {}", info.name);
  return info.block_bytes;
}

std::optional<DType> dtype_from_ggml_id(uint32_t id) {
  for (size_t i = 0; i < kInfo.size(); ++i)
    if (kInfo[i].ggml_id >= 0 && uint32_t(kInfo[i].ggml_id) == id) return DType(i);
  return std::nullopt;
}

std::optional<DType> dtype_from_name(std::string_view name) {
  std::string up(name);
  std::transform(up.begin(), up.end(), up.begin(), [](unsigned char c) { return std::toupper(c); });
  for (size_t i = 0; i < kInfo.size(); ++i)
    if (up == kInfo[i].name) return DType(i);
  if (up == "FP32" || up == "FLOAT32") return DType::F32;
  if (up == "FP16" || up == "FLOAT16") return DType::F16;
  return std::nullopt;
}

}  // namespace rlx
