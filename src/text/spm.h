// SentencePiece-style tokenization over "▁"-escaped text:
//  - SpmModel: llama.cpp's scores-based merging for GGUF tokenizer.ggml.model = "llama"
//    (pieces + scores, no merges list), with <0xNN> byte fallback.
// (The merges-based variant used by HF byte_fallback BPE lives in BpeModel::encode_chars.)
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "text/bpe.h"

namespace rlx::text::detail {

// "▁" (U+2581), SentencePiece's visible space.
inline constexpr std::string_view kMetaSpace = "\xE2\x96\x81";

// Byte of a "<0xNN>" piece, or -1.
int byte_piece_value(std::string_view piece);

class SpmModel {
 public:
  SpmModel() = default;
  // pieces: every token as written in the vocabulary (all types, like llama.cpp's text_to_token);
  // scores: per id (merge priority, higher first); byte_ids: token of each byte (-1 if none).
  SpmModel(const std::vector<std::string>& pieces, std::vector<float> scores,
           const int32_t (&byte_ids)[256]);

  // Appends the ids of `text` (already "▁"-escaped). Thread-safe.
  void encode(std::string_view text, std::vector<int32_t>& out) const;

 private:
  StringIdMap piece_to_id_;
  std::vector<float> scores_;
  int32_t byte_ids_[256] = {};
};

}  // namespace rlx::text::detail
