#include "text/string_id_map.h"

#include <functional>

#include "rlx/core/error.h"

namespace rlx::text::detail {
namespace {

size_t hash_of(std::string_view s) {
  return std::hash<std::string_view>{}(s);
}

}  // namespace

void StringIdMap::reserve(size_t n) {
  entries_.reserve(n);
  size_t want = 16;
  while (want * 3 < n * 4) want <<= 1;  // load factor <= 0.75
  if (want > slots_.size()) rehash(want);
}

void StringIdMap::clear() {
  arena_.clear();
  entries_.clear();
  slots_.clear();
}

size_t StringIdMap::probe(std::string_view key, size_t hash) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const int32_t e = slots_[i];
    if (e < 0 || key_of(entries_[size_t(e)]) == key) return i;
  }
}

void StringIdMap::rehash(size_t slots) {
  slots_.assign(slots, -1);
  for (size_t e = 0; e < entries_.size(); ++e) {
    const std::string_view key = key_of(entries_[e]);
    slots_[probe(key, hash_of(key))] = int32_t(e);
  }
}

void StringIdMap::emplace(std::string_view key, int32_t id) {
  RLX_ASSERT(id >= 0, "StringIdMap ids are non-negative (got {})", id);
  if ((entries_.size() + 1) * 4 > slots_.size() * 3)
    rehash(std::max<size_t>(16, slots_.size() * 2));
  const size_t slot = probe(key, hash_of(key));
  if (slots_[slot] >= 0) return;
  RLX_CHECK(arena_.size() + key.size() < (size_t(1) << 32), "vocabulary strings exceed 4 GiB");
  entries_.push_back({uint32_t(arena_.size()), uint32_t(key.size()), id});
  arena_.append(key);
  slots_[slot] = int32_t(entries_.size() - 1);
}

StringIdMap::Hit StringIdMap::find(std::string_view key) const {
  if (slots_.empty()) return end();
  const int32_t e = slots_[probe(key, hash_of(key))];
  return e < 0 ? end() : Hit(entries_[size_t(e)].id);
}

}  // namespace rlx::text::detail
