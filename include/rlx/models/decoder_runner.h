// The high-level runner shared by every StandardDecoder family: loads weights (GGUF or
// safetensors), tokenizer, chat template and generation defaults; runs prefill/decode against
// explicit KV caches; samples; streams tokens.
#pragma once
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "rlx/core/device.h"
#include "rlx/io/gguf.h"
#include "rlx/nn/decoder.h"
#include "rlx/runtime/kv_cache.h"
#include "rlx/runtime/program.h"
#include "rlx/runtime/sampler.h"
#include "rlx/text/tokenizer.h"

namespace rlx::models {

// What a family contributes: config parsing for both sources and the HF → GGUF name map.
struct DecoderFamily {
  std::string name;
  std::vector<std::string> archs;  // accepted GGUF general.architecture / HF model_type values
  std::function<nn::DecoderSpec(const nlohmann::json& config)> from_hf;
  std::function<nn::DecoderSpec(const io::GgufFile& file)> from_gguf;
  std::function<std::string(const std::string& hf_name)> gguf_name;
};

struct RunnerOptions {
  std::string weights;
  Device device = Device::cpu();
  int64_t max_seq = 0;  // 0: min(4096, the model's context length)
  std::string precision = "f32";
  double max_memory_gb = 0;  // 0: no limit
  int threads = 0;           // 0: physical cores
  // Prompt tokens per prefill program run (llama.cpp's n_ubatch): larger chunks stream the
  // weights fewer times per prompt, at the cost of a larger activation arena. 0: 512.
  int64_t prefill_chunk = 0;
  DType kv_type = DType::F32;
  std::string prefer;     // GGUF quant substring when a directory holds several files
  std::string tokenizer;  // tokenizer.json path overriding the checkpoint's own
  bool verbose = true;    // load messages on stderr
};

struct GenerateOptions {
  int max_tokens = 256;
  std::optional<SamplingOptions> sampling;  // unset: generation_config.json defaults
  std::vector<std::string> stop;            // stop strings
};

struct GenerateResult {
  std::vector<int32_t> tokens;  // generated ids (without the prompt)
  std::string text;
  std::string stop_reason;  // "eos", "stop", "length", "context", "cancelled"
  int64_t prompt_tokens = 0, prefilled_tokens = 0;
  double prefill_seconds = 0, decode_seconds = 0;
};

// Called for every generated token with its newly completed text; return false to stop.
using TokenCallback = std::function<bool(int32_t id, const std::string& text)>;

class DecoderRunner {
 public:
  class Builder {
   public:
    explicit Builder(const DecoderFamily& family) : family_(&family) {}
    Builder& weights(std::string path) {
      o_.weights = std::move(path);
      return *this;
    }
    Builder& device(Device d) {
      o_.device = d;
      return *this;
    }
    Builder& max_seq(int64_t n) {
      o_.max_seq = n;
      return *this;
    }
    Builder& precision(std::string p) {
      o_.precision = std::move(p);
      return *this;
    }
    Builder& max_memory_gb(double gb) {
      o_.max_memory_gb = gb;
      return *this;
    }
    Builder& threads(int n) {
      o_.threads = n;
      return *this;
    }
    Builder& kv_type(DType t) {
      o_.kv_type = t;
      return *this;
    }
    Builder& prefer(std::string q) {
      o_.prefer = std::move(q);
      return *this;
    }
    Builder& tokenizer(std::string path) {
      o_.tokenizer = std::move(path);
      return *this;
    }
    Builder& verbose(bool v) {
      o_.verbose = v;
      return *this;
    }
    Builder& options(RunnerOptions o) {
      o_ = std::move(o);
      return *this;
    }
    DecoderRunner build() const;

   private:
    const DecoderFamily* family_;
    RunnerOptions o_;
  };

  DecoderRunner(DecoderRunner&&) noexcept;
  DecoderRunner& operator=(DecoderRunner&&) noexcept;
  ~DecoderRunner();

  const nn::DecoderSpec& spec() const;
  int64_t prefill_chunk() const;             // prompt tokens per prefill program run
  const text::Tokenizer* tokenizer() const;  // null when the checkpoint has none
  const std::optional<std::string>& chat_template() const;
  const std::vector<int32_t>& eos_ids() const;
  const SamplingOptions& default_sampling() const;
  std::optional<int32_t> bos_for_prompt() const;  // BOS to prepend when the tokenizer says so

  KvCache new_cache() const;
  // Appends `ids` to `cache` and returns float32 logits [n, vocab] (or [1, vocab]).
  Tensor forward(std::span<const int32_t> ids, KvCache& cache, bool all_logits);
  // Logits of every position of `ids` from a fresh cache.
  Tensor predict_logits(std::span<const int32_t> ids);
  // Generates after `prompt`, reusing the longest prefix already in `cache`.
  GenerateResult generate_ids(const std::vector<int32_t>& prompt, const GenerateOptions& opt,
                              const TokenCallback& on_token, KvCache& cache);
  // Tokenizes `prompt` (raw text, BOS as the tokenizer says) and generates with the runner's
  // own cache.
  GenerateResult generate(const std::string& prompt, const GenerateOptions& opt,
                          const TokenCallback& on_token = {});
  void reset();  // empties the runner's own cache
  KvCache& cache();

 private:
  struct Impl;
  explicit DecoderRunner(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Splits a GGUF/HF architecture check: throws naming the family to use when `arch` belongs to
// another family.
void check_family(const DecoderFamily& family, const std::string& arch, const std::string& source);

}  // namespace rlx::models
