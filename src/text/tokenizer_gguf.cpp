// Building a byte-level BPE or SentencePiece tokenizer from GGUF metadata (tokenizer.ggml.*), as
// written by llama.cpp's convert_hf_to_gguf.py.
#include "rlx/core/error.h"
#include "rlx/io/gguf.h"
#include "rlx/text/tokenizer.h"

namespace rlx::text {

namespace {

std::optional<int32_t> optional_id(const io::GgufFile& f, const char* key) {
  auto v = f.int_or(key);
  if (!v) return std::nullopt;
  return static_cast<int32_t>(*v);
}

std::optional<bool> optional_bool(const io::GgufFile& f, const char* key) {
  if (!f.has(key)) return std::nullopt;
  return f.get_bool(key);
}

}  // namespace

Tokenizer Tokenizer::from_gguf(const io::GgufFile& f) {
  const std::string model = f.get_string("tokenizer.ggml.model");
  RLX_CHECK(model == "gpt2" || model == "llama",
            "{}: unsupported tokenizer.ggml.model '{}' (supported: gpt2, llama)", f.path(), model);
  VocabSpec spec;
  spec.model = model;
  // llama.cpp falls back to its "default" pre-tokenizer when the key is absent.
  spec.pre = f.string_or("tokenizer.ggml.pre").value_or("default");
  spec.tokens = f.get_string_array("tokenizer.ggml.tokens");
  if (f.has("tokenizer.ggml.token_type")) {
    const auto& types = f.get_int_array("tokenizer.ggml.token_type");
    spec.token_types.assign(types.begin(), types.end());
  }
  if (f.has("tokenizer.ggml.merges")) spec.merges = f.get_string_array("tokenizer.ggml.merges");
  spec.bos = optional_id(f, "tokenizer.ggml.bos_token_id");
  spec.eos = optional_id(f, "tokenizer.ggml.eos_token_id");
  spec.pad = optional_id(f, "tokenizer.ggml.padding_token_id");
  // Like llama.cpp: Llama-3-style vocabularies add BOS unless the file says otherwise.
  const bool llama3 = spec.pre == "llama3" || spec.pre == "llama-v3" || spec.pre == "llama-bpe" ||
                      spec.pre == "falcon3" || spec.pre == "pixtral";
  if (model == "llama") {
    if (f.has("tokenizer.ggml.scores")) {
      const auto& scores = f.get_float_array("tokenizer.ggml.scores");
      spec.scores.assign(scores.begin(), scores.end());
    }
    spec.add_space_prefix = optional_bool(f, "tokenizer.ggml.add_space_prefix").value_or(true);
    RLX_CHECK(!optional_bool(f, "tokenizer.ggml.remove_extra_whitespaces").value_or(false),
              "{}: tokenizer.ggml.remove_extra_whitespaces is not supported", f.path());
  }
  // llama.cpp: SentencePiece ("llama") vocabularies add BOS unless the file says otherwise.
  spec.add_bos =
      optional_bool(f, "tokenizer.ggml.add_bos_token").value_or(llama3 || model == "llama");
  spec.add_eos = optional_bool(f, "tokenizer.ggml.add_eos_token").value_or(false);
  try {
    return from_vocab(spec);
  } catch (const Error& e) {
    fail("{}: {}", f.path(), e.what());
  }
}

}  // namespace rlx::text
