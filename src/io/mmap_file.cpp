#include "rlx/io/mmap_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "rlx/core/error.h"
#include "rlx/core/page_release.h"

namespace rlx::io {

std::shared_ptr<MappedFile> MappedFile::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  RLX_CHECK(fd >= 0, "cannot open '{}': {}", path, std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail("'{}' is not a regular file", path);
  }
  std::shared_ptr<MappedFile> f(new MappedFile());
  f->path_ = path;
  f->size_ = size_t(st.st_size);
  if (f->size_ > 0) {
    void* p = mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, fd, 0);
    int err = errno;
    ::close(fd);
    RLX_CHECK(p != MAP_FAILED, "cannot map '{}': {}", path, std::strerror(err));
    f->data_ = static_cast<const uint8_t*>(p);
    register_releasable(p, f->size_);  // read-only and file-backed: pages can be re-read
  } else {
    ::close(fd);
  }
  return f;
}

std::shared_ptr<MappedFile> MappedFile::from_memory(const std::string& name, const void* data,
                                                    size_t size) {
  std::shared_ptr<MappedFile> f(new MappedFile());
  f->path_ = name;
  f->data_ = static_cast<const uint8_t*>(data);
  f->size_ = size;
  f->owned_ = false;
  return f;
}

const uint8_t* MappedFile::aligned(size_t offset, size_t n, size_t align) const {
  const uint8_t* p = data_ + offset;
  if (reinterpret_cast<uintptr_t>(p) % align == 0) return p;
  size_t bytes = (n + align - 1) / align * align;
  auto* copy = static_cast<uint8_t*>(std::aligned_alloc(align, bytes == 0 ? align : bytes));
  RLX_CHECK(copy != nullptr, "out of memory copying {} unaligned bytes of '{}'", n, path_);
  std::memcpy(copy, p, n);
  std::lock_guard<std::mutex> lk(copies_mu_);
  copies_.emplace_back(copy, std::free);
  return copy;
}

MappedFile::~MappedFile() {
  if (data_ && owned_) {
    unregister_releasable(data_);
    munmap(const_cast<uint8_t*>(data_), size_);
  }
}

AtomicFileWriter::AtomicFileWriter(std::string path) : path_(std::move(path)) {
  tmp_ = path_ + ".rlx-tmp";
  f_ = std::fopen(tmp_.c_str(), "wb");
  RLX_CHECK(f_ != nullptr, "cannot write '{}': {}", tmp_, std::strerror(errno));
}

AtomicFileWriter::~AtomicFileWriter() {
  if (f_) std::fclose(f_);
  if (!done_) std::remove(tmp_.c_str());
}

void AtomicFileWriter::write(const void* data, size_t n) {
  if (n == 0) return;
  RLX_CHECK(std::fwrite(data, 1, n, f_) == n, "write to '{}' failed: {}", tmp_,
            std::strerror(errno));
  offset_ += n;
}

void AtomicFileWriter::pad_to(size_t alignment, uint8_t fill) {
  static const uint8_t zeros[256] = {};
  size_t pad = (alignment - offset_ % alignment) % alignment;
  RLX_ASSERT(fill == 0);
  while (pad > 0) {
    size_t n = pad < sizeof(zeros) ? pad : sizeof(zeros);
    write(zeros, n);
    pad -= n;
  }
}

void AtomicFileWriter::commit() {
  RLX_CHECK(std::fflush(f_) == 0 && fsync(fileno(f_)) == 0, "flushing '{}' failed: {}", tmp_,
            std::strerror(errno));
  std::fclose(f_);
  f_ = nullptr;
  RLX_CHECK(std::rename(tmp_.c_str(), path_.c_str()) == 0, "cannot rename '{}' to '{}': {}", tmp_,
            path_, std::strerror(errno));
  done_ = true;
}

}  // namespace rlx::io
