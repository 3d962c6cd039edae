// RoPE frequency tables. Scaling variants are computed here, in the model layer, and fed to
// the Rope op as an input tensor, so the op itself stays one simple kernel.
#pragma once
#include <string>
#include <vector>

namespace rlx::nn {

struct RopeScaling {
  std::string type = "default";  // default | linear | llama3 | yarn | dynamic
  double factor = 1.0;
  double low_freq_factor = 1.0, high_freq_factor = 4.0;  // llama3
  double original_max_position = 0;                      // llama3 / yarn / dynamic
  double beta_fast = 32.0, beta_slow = 1.0;              // yarn
  double attention_factor = 0;                           // yarn: 0 = derived from factor
  // GGUF rope_freqs.weight (llama.cpp's per-frequency factors, e.g. llama3 scaling as written
  // by convert_hf_to_gguf.py): inv_freq[i] /= freq_factors[i], after the type's own scaling.
  std::vector<float> freq_factors;
};

struct RopeTable {
  std::vector<float> inv_freq;   // rotary_dims / 2 values
  float attention_factor = 1.f;  // multiplies cos/sin (YaRN)
};

// inv_freq[i] = 1 / theta^(2i / rotary_dims), adjusted for the scaling type (as transformers'
// rope initialization functions do). `max_positions` is used by dynamic NTK.
RopeTable rope_table(double theta, int rotary_dims, const RopeScaling& scaling,
                     int64_t max_positions = 0);

}  // namespace rlx::nn
