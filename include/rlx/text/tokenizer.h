// BPE tokenizer: byte-level (GPT-2 / Llama-3 / Qwen2 / Qwen3) or SentencePiece-style with byte
// fallback (Gemma, Llama 2), loaded from a Hugging Face tokenizer.json or from GGUF vocabulary
// metadata. See docs/tokenizers.md.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rlx::io {
class GgufFile;
}

namespace rlx::text {

// GGUF token types (tokenizer.ggml.token_type), as llama.cpp defines them.
enum class TokenType : int32_t {
  kUndefined = 0,
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,      // special: matched in input text, skipped by decode(skip_special)
  kUserDefined = 4,  // added, non-special: matched in input text, always decoded
  kUnused = 5,
  kByte = 6,
};

// A vocabulary described the GGUF way: pieces in id order (byte-level strings for "gpt2" models),
// their types, merges as "a b" strings and the pre-tokenizer name.
struct VocabSpec {
  std::vector<std::string> tokens;
  std::vector<int32_t> token_types;  // empty: all normal
  std::vector<std::string> merges;
  std::string pre = "gpt2";  // "qwen2", "llama-bpe", "gpt2", ... (tokenizer.ggml.pre)
  std::optional<int32_t> bos, eos, pad;
  bool add_bos = false;
  bool add_eos = false;
  // tokenizer.ggml.model: "gpt2" (byte-level BPE) or "llama" (SentencePiece: pieces with "▁" for
  // space, `scores` as merge priorities, <0xNN> byte tokens; `merges` and `pre` unused).
  std::string model = "gpt2";
  std::vector<float> scores;
  bool add_space_prefix = true;  // "llama": "▁" before the text; decode drops one leading space
};

class Tokenizer {
 public:
  // tokenizer_config_path may be empty; it supplies bos/eos and add_bos_token/add_eos_token.
  static Tokenizer from_hf_json(const std::string& tokenizer_json_path,
                                const std::string& tokenizer_config_path = "");
  static Tokenizer from_vocab(const VocabSpec& spec);
  // Reads tokenizer.ggml.* metadata (models "gpt2" and "llama").
  static Tokenizer from_gguf(const rlx::io::GgufFile& file);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  // Raw encoding, like HF encode(text, add_special_tokens=False): added-token text in the input
  // (e.g. "<|im_end|>") becomes that token. add_special adds BOS/EOS as the config says.
  // Invalid UTF-8 in `text` is first replaced by U+FFFD per maximal invalid subpart (Python's
  // errors="replace"), so the ids are those of the repaired string.
  std::vector<int32_t> encode(std::string_view text, bool add_special = false) const;

  // Text of the ids; invalid UTF-8 (a character split across the end) becomes U+FFFD.
  // Unknown ids throw rlx::Error.
  std::string decode(std::span<const int32_t> ids, bool skip_special = false) const;
  // The raw bytes of the ids, no UTF-8 repair.
  std::string decode_bytes(std::span<const int32_t> ids, bool skip_special = false) const;
  // Raw bytes of one token ("" for ids in holes of the vocabulary).
  const std::string& token_bytes(int32_t id) const;

  // The piece as written in the vocabulary (byte-level form, e.g. "Ġhello", or "▁hello").
  std::string token_text(int32_t id) const;
  int32_t vocab_size() const;
  std::optional<int32_t> token_id(std::string_view piece) const;

  std::optional<int32_t> bos_id() const;
  std::optional<int32_t> eos_id() const;
  std::optional<int32_t> pad_id() const;
  bool add_bos() const;
  bool add_eos() const;
  bool is_special(int32_t id) const;
  // Whether decode drops one leading space (SentencePiece vocabularies that add "▁" in front).
  bool strips_leading_space() const;

  struct Impl;

 private:
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Incremental decoding for generation: feed ids one at a time and get back only complete UTF-8
// text; a character split across tokens is held until its last byte arrives.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tok, bool skip_special = false)
      : tok_(&tok), skip_special_(skip_special) {}
  // Text completed by this token (possibly empty).
  std::string feed(int32_t id);
  // Whatever is still pending; an incomplete trailing character becomes U+FFFD.
  std::string flush();

 private:
  const Tokenizer* tok_;
  bool skip_special_;
  bool at_start_ = true;  // no bytes seen yet (for strips_leading_space)
  std::string pending_;
};

}  // namespace rlx::text
