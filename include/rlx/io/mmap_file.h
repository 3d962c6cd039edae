// Read-only memory mapping of a whole file; tensors loaded from it are views that keep it alive.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

namespace rlx::io {

class MappedFile {
 public:
  // Throws rlx::Error naming the path when it cannot be opened or mapped.
  static std::shared_ptr<MappedFile> open(const std::string& path);
  // Wraps bytes owned by the caller (tests, fuzzing); `name` is used in error messages.
  static std::shared_ptr<MappedFile> from_memory(const std::string& name, const void* data,
                                                 size_t size);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
  bool owned_ = true;
};

// Writes `bytes` to `path` atomically (temp file + rename): never leaves a partial file.
class AtomicFileWriter {
 public:
  explicit AtomicFileWriter(std::string path);
  ~AtomicFileWriter();  // removes the temp file unless commit() succeeded
  void write(const void* data, size_t n);
  void pad_to(size_t alignment, uint8_t fill = 0);
  size_t offset() const { return offset_; }
  void commit();

 private:
  std::string path_, tmp_;
  std::FILE* f_ = nullptr;
  size_t offset_ = 0;
  bool done_ = false;
};

}  // namespace rlx::io
