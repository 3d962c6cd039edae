// Memory whose pages can go back to the OS and be read again on demand: read-only file mappings
// (io::MappedFile registers each one). Code that has copied such data elsewhere, e.g. weights
// uploaded to a GPU, releases the pages it read so that they stop counting in the process's
// resident memory; a later read of the same bytes faults them in from the file again.
#pragma once
#include <cstddef>

namespace rlx {

void register_releasable(const void* begin, size_t bytes);
void unregister_releasable(const void* begin);
// Gives back the whole pages of [p, p + n) that lie in a registered range (a no-op for any
// other memory); returns how many bytes that covered.
size_t release_pages(const void* p, size_t n);

}  // namespace rlx
