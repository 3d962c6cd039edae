// `rlx quantize`: writes a GGUF of a llama.cpp file type (Q4_K_M, Q8_0, F16, ...) from an
// F32/F16/BF16 GGUF or a Hugging Face safetensors checkpoint of a decoder family.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "rlx/core/dtype.h"
#include "rlx/core/shape.h"

namespace rlx::models {

struct QuantizeOptions {
  std::string input;   // .gguf file (split: the first shard), safetensors file or HF directory
  std::string output;  // .gguf path
  std::string type;    // a quant_file_type name: "Q4_K_M", "Q8_0", "F16", ...
  bool pure = false;   // every quantizable tensor gets the default type (no mix rules)
  bool overwrite = false;
  std::string imatrix;  // importance matrix: not supported yet (non-empty is an error)
  int threads = 0;      // 0: physical cores
  bool verbose = true;  // per-tensor progress on stderr
};

struct QuantizedTensor {
  std::string name;  // GGUF name
  Shape shape;       // PyTorch order
  DType from, to;
  int64_t bytes_in = 0, bytes_out = 0;
};

struct QuantizeResult {
  std::string file_type;                 // e.g. "Q4_K_M"
  int ftype = 0;                         // general.file_type
  std::vector<QuantizedTensor> tensors;  // in output order
  int64_t bytes_in = 0, bytes_out = 0;
  double seconds = 0;
};

// Quantizes `opt.input` into `opt.output` (written atomically). Tensor types follow
// choose_tensor_types (llama-quantize's choices); the output tensors are in llama-quantize's
// order. Throws rlx::Error naming the file, flag or tensor on bad input.
QuantizeResult quantize_model(const QuantizeOptions& opt);

}  // namespace rlx::models
