// `rlx synth`: a GGUF with the exact shapes and metadata of a named real model (Qwen3-0.6B,
// Llama-3.2-1B, ...), seeded random weights and the real tokenizer copied from a vocab-only GGUF,
// quantized to a llama.cpp file type. For benchmarks without downloads.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace rlx::models {

// The shapes of one real model (its Hugging Face config, as convert_hf_to_gguf.py writes it).
struct SynthShape {
  std::string name;  // "Qwen3-0.6B"
  std::string arch;  // GGUF architecture: "qwen3", "llama"
  int64_t hidden = 0, layers = 0, heads = 0, kv_heads = 0, head_dim = 0, ffn = 0, vocab = 0;
  bool tied = true;  // no output.weight: the LM head reuses token_embd
  double rope_theta = 10000, norm_eps = 1e-6;
  int64_t context = 0;
  // Llama 3 RoPE scaling (written as rope_freqs.weight); factor 0: none.
  double rope_factor = 0, rope_low = 1, rope_high = 4;
  int64_t rope_orig_context = 0;
  std::string default_vocab;  // file name of the vocab-only GGUF in llama.cpp's models/
};

// Every known model; synth_shape throws rlx::Error naming --like for an unknown name.
const std::vector<SynthShape>& synth_shapes();
const SynthShape& synth_shape(const std::string& like);

// llama.cpp's converter's rope_freqs.weight for Llama 3 RoPE scaling (head_dim / 2 factors).
std::vector<float> llama3_rope_freq_factors(const SynthShape& s);

struct SynthOptions {
  std::string arch;    // must match the shape's architecture when given
  std::string like;    // a synth_shapes() name (case-insensitive)
  std::string type;    // a quant_file_type name: "Q4_K_M", "Q8_0", "F16", ...
  std::string output;  // .gguf path
  std::string vocab;   // vocab-only GGUF; empty: the shape's default_vocab under the rlx-data cache
  uint64_t seed = 0;
  int64_t layers = 0;  // keep only the first N blocks (small files for tests); 0: all
  int threads = 0;     // 0: physical cores
  bool overwrite = false;
  bool verbose = true;
};

struct SynthResult {
  std::string vocab;  // the vocab GGUF used
  int64_t tensors = 0, bytes = 0;
  double seconds = 0;
};

SynthResult synth_model(const SynthOptions& opt);

}  // namespace rlx::models
