// A compact string -> token id index for vocabularies of ~150k entries: the strings live in one
// arena and an open-addressing table holds entry numbers, about a third of the memory of an
// unordered_map<std::string, int32_t> (whose nodes and strings are separate allocations).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rlx::text::detail {

class StringIdMap {
 public:
  // find() result, used like a map iterator: `it != map.end()`, `it->second`.
  struct Value {
    int32_t second = -1;
  };
  class Hit {
   public:
    Hit() = default;
    explicit Hit(int32_t id) : v_{id} {}
    const Value* operator->() const { return &v_; }
    bool operator==(const Hit& o) const { return v_.second == o.v_.second; }

   private:
    Value v_;
  };

  void reserve(size_t n);
  void clear();
  // Adds key -> id (id >= 0) unless key is present: the first id given for a string stays.
  void emplace(std::string_view key, int32_t id);
  Hit find(std::string_view key) const;
  Hit end() const { return Hit(); }
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    uint32_t offset, length;
    int32_t id;
  };
  std::string_view key_of(const Entry& e) const { return {arena_.data() + e.offset, e.length}; }
  // Slot holding key, or the empty slot where it would go.
  size_t probe(std::string_view key, size_t hash) const;
  void rehash(size_t slots);

  std::string arena_;
  std::vector<Entry> entries_;
  std::vector<int32_t> slots_;  // entry number, -1 when empty; size is a power of two
};

}  // namespace rlx::text::detail
