#include "rlx/core/page_release.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <map>
#include <mutex>

namespace rlx {
namespace {

struct Ranges {
  std::mutex mu;
  std::map<uintptr_t, uintptr_t> by_begin;  // begin -> end
};

Ranges& ranges() {
  static Ranges r;
  return r;
}

}  // namespace

void register_releasable(const void* begin, size_t bytes) {
  if (!begin || bytes == 0) return;
  Ranges& r = ranges();
  std::lock_guard<std::mutex> lock(r.mu);
  const auto b = reinterpret_cast<uintptr_t>(begin);
  r.by_begin[b] = b + bytes;
}

void unregister_releasable(const void* begin) {
  Ranges& r = ranges();
  std::lock_guard<std::mutex> lock(r.mu);
  r.by_begin.erase(reinterpret_cast<uintptr_t>(begin));
}

size_t release_pages(const void* p, size_t n) {
  if (!p || n == 0) return 0;
  static const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
  uintptr_t lo = reinterpret_cast<uintptr_t>(p), hi = lo + n;
  Ranges& r = ranges();
  std::lock_guard<std::mutex> lock(r.mu);
  auto it = r.by_begin.upper_bound(lo);  // the range that starts at or before p
  if (it == r.by_begin.begin()) return 0;
  --it;
  if (lo >= it->second) return 0;
  if (hi > it->second) hi = it->second;
  lo = (lo + page - 1) / page * page;  // whole pages only: the neighbours' bytes stay put
  hi = hi / page * page;
  if (hi <= lo) return 0;
  if (madvise(reinterpret_cast<void*>(lo), hi - lo, MADV_DONTNEED) != 0) return 0;
  return size_t(hi - lo);
}

}  // namespace rlx
