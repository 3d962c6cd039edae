#include "text/bpe.h"

#include <algorithm>
#include <mutex>
#include <queue>

namespace rlx::text::detail {

namespace {

constexpr size_t kMaxCachedWords = 1 << 18;
constexpr size_t kMaxCachedWordBytes = 256;  // long runs (whitespace, digits) are rare repeats

uint64_t pair_key(int32_t a, int32_t b) {
  return (static_cast<uint64_t>(static_cast<uint32_t>(a)) << 32) | static_cast<uint32_t>(b);
}

uint64_t mix(uint64_t k) {  // Fibonacci hashing: spreads sequential ids over the table
  return (k ^ (k >> 29)) * 0x9E3779B97F4A7C15ull;
}

}  // namespace

BpeModel::BpeModel(const std::vector<std::string>& raw_bytes_by_id,
                   const std::vector<Merge>& merges, bool ignore_merges)
    : ignore_merges_(ignore_merges) {
  bytes_to_id_.reserve(raw_bytes_by_id.size());
  for (size_t id = 0; id < raw_bytes_by_id.size(); ++id) {
    const std::string& b = raw_bytes_by_id[id];
    if (!b.empty()) bytes_to_id_.emplace(b, static_cast<int32_t>(id));
  }
  for (int b = 0; b < 256; ++b) {
    auto it = bytes_to_id_.find(std::string_view(reinterpret_cast<const char*>(&b), 1));
    byte_id_[b] = it == bytes_to_id_.end() ? -1 : it->second;
  }
  size_t cap = 16;
  while (cap * 3 < merges.size() * 4) cap <<= 1;  // load factor <= 0.75
  merge_slots_.assign(cap, MergeSlot{kEmptyKey, 0, 0});
  merge_mask_ = cap - 1;
  for (size_t r = 0; r < merges.size(); ++r) {
    const Merge& m = merges[r];
    const uint64_t key = pair_key(m.left, m.right);
    for (uint64_t i = mix(key) & merge_mask_;; i = (i + 1) & merge_mask_) {
      MergeSlot& slot = merge_slots_[i];
      if (slot.key == key) break;  // duplicate pair: the first (lowest) rank wins
      if (slot.key == kEmptyKey) {
        slot = {key, static_cast<int32_t>(r), m.merged};
        break;
      }
    }
  }
}

const BpeModel::MergeSlot* BpeModel::find_merge(int32_t left, int32_t right) const {
  const uint64_t key = pair_key(left, right);
  for (uint64_t i = mix(key) & merge_mask_;; i = (i + 1) & merge_mask_) {
    const MergeSlot& slot = merge_slots_[i];
    if (slot.key == key) return &slot;
    if (slot.key == kEmptyKey) return nullptr;
  }
}

BpeModel::BpeModel(BpeModel&&) noexcept = default;
BpeModel& BpeModel::operator=(BpeModel&&) noexcept = default;

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (word.size() == 1) {
    int32_t id = byte_id_[static_cast<unsigned char>(word[0])];
    if (id >= 0) out.push_back(id);
    return;
  }
  if (ignore_merges_) {
    auto it = bytes_to_id_.find(word);
    if (it != bytes_to_id_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  if (cache_get(word, out)) return;
  const size_t start = out.size();
  merge_word(word, out);
  cache_put(word, out.data() + start, out.size() - start);
}

bool BpeModel::cache_get(std::string_view word, std::vector<int32_t>& out) const {
  if (word.size() > kMaxCachedWordBytes) return false;
  std::shared_lock lock(cache_->mu);
  auto it = cache_->map.find(word);
  if (it == cache_->map.end()) return false;
  out.insert(out.end(), it->second.begin(), it->second.end());
  return true;
}

void BpeModel::cache_put(std::string_view word, const int32_t* ids, size_t n) const {
  if (word.size() > kMaxCachedWordBytes) return;
  std::unique_lock lock(cache_->mu);
  if (cache_->map.size() < kMaxCachedWords) {
    cache_->map.emplace(std::string(word), std::vector<int32_t>(ids, ids + n));
  }
}

void BpeModel::encode_chars(std::string_view word, const int32_t (&byte_fallback)[256],
                            std::vector<int32_t>& out) const {
  if (word.empty()) return;
  if (ignore_merges_) {
    auto it = bytes_to_id_.find(word);
    if (it != bytes_to_id_.end()) {
      out.push_back(it->second);
      return;
    }
  }
  if (cache_get(word, out)) return;
  std::vector<int32_t> ids;
  ids.reserve(word.size());
  for (size_t off = 0; off < word.size();) {
    const unsigned char c = static_cast<unsigned char>(word[off]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 1;
    len = std::min(len, word.size() - off);
    const std::string_view ch = word.substr(off, len);
    if (auto it = bytes_to_id_.find(ch); it != bytes_to_id_.end()) {
      ids.push_back(it->second);
    } else {
      for (unsigned char b : ch) {
        if (byte_fallback[b] >= 0) ids.push_back(byte_fallback[b]);
      }
    }
    off += len;
  }
  const size_t start = out.size();
  merge_ids(ids, out);
  cache_put(word, out.data() + start, out.size() - start);
}

// Classic BPE: repeatedly apply the lowest-ranked merge present, leftmost first. Symbols form a
// linked list; candidate pairs sit in a min-heap and are re-validated when popped, which keeps
// long words O(n log n) instead of O(n^2).
void BpeModel::merge_word(std::string_view word, std::vector<int32_t>& out) const {
  std::vector<int32_t> ids;
  ids.reserve(word.size());
  for (unsigned char c : word) {
    // A byte without a token is dropped, as HF does without unk_token.
    if (byte_id_[c] >= 0) ids.push_back(byte_id_[c]);
  }
  merge_ids(ids, out);
}

void BpeModel::merge_ids(const std::vector<int32_t>& ids, std::vector<int32_t>& out) const {
  struct Sym {
    int32_t id;
    int32_t prev, next;  // indices into syms, -1 at the ends
  };
  struct Cand {
    int32_t rank, pos, left, right, merged;
    bool operator>(const Cand& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::vector<Sym> syms;
  syms.reserve(ids.size());
  for (int32_t id : ids) {
    int32_t idx = static_cast<int32_t>(syms.size());
    syms.push_back({id, idx - 1, -1});
    if (idx > 0) syms[idx - 1].next = idx;
  }
  std::priority_queue<Cand, std::vector<Cand>, std::greater<>> heap;
  auto push_pair = [&](int32_t l) {
    if (l < 0) return;
    int32_t r = syms[l].next;
    if (r < 0) return;
    if (const MergeSlot* m = find_merge(syms[l].id, syms[r].id)) {
      heap.push({m->rank, l, syms[l].id, syms[r].id, m->merged});
    }
  };
  for (int32_t i = 0; i + 1 < static_cast<int32_t>(syms.size()); ++i) push_pair(i);
  while (!heap.empty()) {
    Cand c = heap.top();
    heap.pop();
    Sym& l = syms[c.pos];
    // Stale entry: the left symbol was merged away or either side changed since the push.
    if (l.id != c.left || l.next < 0 || syms[l.next].id != c.right) continue;
    int32_t r = l.next;
    l.id = c.merged;
    l.next = syms[r].next;
    if (l.next >= 0) syms[l.next].prev = c.pos;
    syms[r].id = -1;  // dead
    push_pair(l.prev);
    push_pair(c.pos);
  }
  for (int32_t i = syms.empty() ? -1 : 0; i >= 0; i = syms[i].next) out.push_back(syms[i].id);
}

}  // namespace rlx::text::detail
