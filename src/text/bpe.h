// Byte-level BPE merges over raw bytes, with a per-word result cache.
#pragma once
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "text/string_id_map.h"

namespace rlx::text::detail {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

struct Merge {
  int32_t left, right, merged;  // token ids
};

class BpeModel {
 public:
  BpeModel() = default;
  // raw_bytes_by_id: the byte string of each token the model may produce ("" for none);
  // merges in rank order (rank = index); ignore_merges: a word that is itself a token is emitted
  // whole (Llama-3's tokenizer.json flag).
  BpeModel(const std::vector<std::string>& raw_bytes_by_id, const std::vector<Merge>& merges,
           bool ignore_merges);
  BpeModel(BpeModel&&) noexcept;
  BpeModel& operator=(BpeModel&&) noexcept;

  // Appends the ids of one pre-token (raw bytes). Thread-safe.
  void encode_word(std::string_view word, std::vector<int32_t>& out) const;
  // SentencePiece-style BPE (HF `byte_fallback`): the initial symbols are the UTF-8 characters of
  // `word`, looked up as pieces (raw_bytes_by_id then holds the pieces as written); a character
  // without a piece becomes the byte tokens byte_fallback[b] (dropped where -1). Thread-safe.
  void encode_chars(std::string_view word, const int32_t (&byte_fallback)[256],
                    std::vector<int32_t>& out) const;

 private:
  void merge_word(std::string_view word, std::vector<int32_t>& out) const;
  void merge_ids(const std::vector<int32_t>& ids, std::vector<int32_t>& out) const;
  bool cache_get(std::string_view word, std::vector<int32_t>& out) const;
  void cache_put(std::string_view word, const int32_t* ids, size_t n) const;

  StringIdMap bytes_to_id_;
  int32_t byte_id_[256] = {};
  // Merges keyed by (left id, right id): an open-addressing table, since pair lookups dominate
  // encoding of unseen words and node-based maps cost a cache miss per probe.
  struct MergeSlot {
    uint64_t key;  // kEmptyKey when unused
    int32_t rank, merged;
  };
  static constexpr uint64_t kEmptyKey = ~uint64_t{0};
  const MergeSlot* find_merge(int32_t left, int32_t right) const;
  std::vector<MergeSlot> merge_slots_;
  uint64_t merge_mask_ = 0;
  bool ignore_merges_ = false;

  // Results per distinct word: natural text repeats words, so most lookups hit.
  struct Cache {
    std::shared_mutex mu;
    std::unordered_map<std::string, std::vector<int32_t>, StringHash, std::equal_to<>> map;
  };
  std::unique_ptr<Cache> cache_ = std::make_unique<Cache>();
};

}  // namespace rlx::text::detail
