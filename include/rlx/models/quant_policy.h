// Which type each tensor gets when `rlx quantize` writes a file of a given llama.cpp file type
// (Q4_K_M, Q6_K, ...): the same choices as llama-quantize's llama_tensor_get_type without an
// importance matrix, for dense (non-MoE) decoders. Tensor names are GGUF names.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "rlx/core/dtype.h"
#include "rlx/core/shape.h"

namespace rlx::models {

// One llama.cpp file type (llama_ftype): the name users pass to --type, the id stored in
// general.file_type and the default tensor type of the mix.
struct QuantFileType {
  std::string name;  // "Q4_K_M"
  int ftype = 0;     // LLAMA_FTYPE_MOSTLY_Q4_K_M = 15
  DType default_type = DType::F32;
};

// The file type named `name` (case-insensitive; "MXFP4" is accepted for "MXFP4_MOE"), or empty.
std::optional<QuantFileType> quant_file_type(std::string_view name);
// Every name quant_file_type accepts, for help texts and errors.
std::vector<std::string> quant_file_type_names();

// What the policy needs to know about a tensor and the model.
struct QuantTensor {
  std::string name;  // GGUF name, e.g. "blk.3.attn_v.weight"
  Shape shape;       // PyTorch order: the last dimension is the row (ggml ne[0])
  DType dtype;       // the type in the input file
};

struct QuantModelInfo {
  int64_t layers = 0;  // <arch>.block_count
  int64_t heads = 0, kv_heads = 0;
};

struct QuantPolicyOptions {
  bool pure = false;  // --pure: every quantizable tensor gets the default type
};

// The output type of every tensor, in the order given. `tensors` must be in llama-quantize's
// processing order (see quantize_order): the per-layer counters depend on it.
std::vector<DType> choose_tensor_types(const QuantFileType& type,
                                       const std::vector<QuantTensor>& tensors,
                                       const QuantModelInfo& model,
                                       const QuantPolicyOptions& opt = {});

// Whether llama-quantize may change this tensor's type at all (2-D or more, a ".weight", not a
// norm, not a small special tensor).
bool tensor_allows_quantization(const QuantTensor& t);

// llama-quantize's tensor order: tensors outside blocks first, then by block number, names
// alphabetically within each group. Returns indices into `names`.
std::vector<size_t> quantize_order(const std::vector<std::string>& names);

// The type llama-quantize falls back to when a row length is not a multiple of `type`'s block
// size (Q4_K → Q5_0, Q6_K → Q8_0, ..., F16 when even the fallback does not fit).
DType fallback_type(DType type, int64_t row_length);

}  // namespace rlx::models
