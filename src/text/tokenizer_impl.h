// Internal state of rlx::text::Tokenizer, shared by the loaders (HF JSON, GGUF) and the encoder.
#pragma once
#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "rlx/text/tokenizer.h"
#include "text/bpe.h"
#include "text/pretokenizer.h"
#include "text/spm.h"

namespace rlx::text {
namespace detail {

struct AddedToken {
  std::string content;
  int32_t id = -1;
  bool special = false;
  bool lstrip = false, rstrip = false, single_word = false;
  bool normalized = false;  // matched after normalization instead of on the raw text
};

// A run of text: an added token (id >= 0) or plain text still to be tokenized (id == -1).
struct Segment {
  int32_t id;
  std::string_view text;
};

// Leftmost-longest matching of added tokens, like HF's AddedVocabulary (Aho-Corasick,
// LeftmostLongest), with the lstrip/rstrip/single_word rules.
class AddedTokenMatcher {
 public:
  void build(std::vector<const AddedToken*> tokens);
  bool empty() const { return count_ == 0; }
  void split(std::string_view text, std::vector<Segment>& out) const;

 private:
  std::array<std::vector<const AddedToken*>, 256> by_first_;  // longest first
  size_t count_ = 0;
};

}  // namespace detail

struct Tokenizer::Impl {
  // Per id (size == vocab_size). Holes in the id space have empty pieces.
  std::vector<std::string> pieces;  // as in the vocabulary file
  std::vector<std::string> bytes;   // what decode emits
  std::vector<uint8_t> special;
  detail::StringIdMap piece_to_id;

  std::vector<detail::AddedToken> added;
  detail::AddedTokenMatcher raw_matcher, normalized_matcher;
  bool nfc = false;
  bool add_prefix_space = false;  // ByteLevel(add_prefix_space=true)
  std::vector<detail::RegexSplitter> splitters;
  detail::BpeModel bpe;

  // How text segments become ids.
  enum class Kind : uint8_t {
    kByteLevelBpe,  // GPT-2 style: regex pre-tokens, merges over byte-level pieces
    kCharBpe,       // HF BPE with byte_fallback (Gemma): merges over characters, <0xNN> fallback
    kSpm,           // llama.cpp SentencePiece (GGUF "llama"): score-ordered merges, <0xNN> fallback
  };
  Kind kind = Kind::kByteLevelBpe;
  bool escape_spaces = false;  // " " -> "▁" (normalizer Replace; SentencePiece)
  bool prepend_meta = false;   // "▁" before each non-empty segment (Prepend; add_space_prefix)
  bool strip_leading_space = false;  // decoder Strip(" ", 1, 0): decode drops one leading space
  std::vector<int32_t> token_types;  // GGUF types (empty: not known); byte tokens need kByte
  std::vector<float> scores;         // kSpm: merge priority per id
  int32_t byte_tokens[256];          // kCharBpe / kSpm: the <0xNN> token of each byte, or -1
  detail::SpmModel spm;

  std::optional<int32_t> bos, eos, pad;
  bool add_bos = false, add_eos = false;

  // Derives bytes, special, piece_to_id, the matchers and the BPE/SPM model from `pieces`
  // (byte-level strings, or "▁" pieces for kCharBpe/kSpm), `added`, the merges (pairs of
  // pieces, in rank order) and, for kSpm, `scores`.
  void finalize(const std::vector<std::pair<std::string, std::string>>& merges, bool ignore_merges);
  void encode_plain(std::string_view text, std::vector<int32_t>& out) const;
};

}  // namespace rlx::text
