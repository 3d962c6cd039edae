// Pages of a read-only file mapping go back to the OS on release_pages (resident memory drops)
// and the bytes read the same afterwards; other memory is left alone.
#include <gtest/gtest.h>

#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include "rlx/core/page_release.h"
#include "rlx/io/mmap_file.h"
#include "support/test_data.h"

namespace rlx::test {
namespace {

int64_t resident_pages() {
  std::ifstream statm("/proc/self/statm");
  int64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident;
}

uint64_t checksum(const uint8_t* p, size_t n) {
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

TEST(PageRelease, MappedFilePagesGoBackAndReadTheSame) {
  const std::string path = repo_dir() + "/tests/fixtures/qwen3/tied/model.safetensors";
  auto f = io::MappedFile::open(path);
  ASSERT_GT(f->size(), size_t(256) << 10);
  const uint64_t before = checksum(f->data(), f->size());  // every page read
  const int64_t touched = resident_pages();
  const size_t released = release_pages(f->data(), f->size());
  const int64_t page = 4096, file_pages = int64_t(f->size()) / page;
  EXPECT_GE(int64_t(released), (file_pages - 1) * page);
  EXPECT_LE(resident_pages(), touched - file_pages * 8 / 10)
      << "resident pages did not drop by the file's " << file_pages;
  EXPECT_EQ(checksum(f->data(), f->size()), before);  // faulted in again from the file
  // A range inside the mapping: only its whole pages.
  EXPECT_EQ(release_pages(f->data() + 10, 100), 0u);
}

TEST(PageRelease, OtherMemoryIsLeftAlone) {
  std::vector<uint8_t> heap(size_t(1) << 20, 7);
  EXPECT_EQ(release_pages(heap.data(), heap.size()), 0u);
  EXPECT_EQ(heap[heap.size() / 2], 7);
  EXPECT_EQ(release_pages(nullptr, 100), 0u);
}

}  // namespace
}  // namespace rlx::test
