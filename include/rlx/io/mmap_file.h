// Read-only memory mapping of a whole file; tensors loaded from it are views that keep it alive.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

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
  // Bytes [offset, offset + n) at an address aligned to `align`: the mapping itself when it
  // already is, else an aligned copy owned by this object (formats such as safetensors do not
  // promise aligned tensor data, and kernels read elements in place).
  const uint8_t* aligned(size_t offset, size_t n, size_t align) const;
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }

 private:
  MappedFile() = default;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
  bool owned_ = true;
  mutable std::mutex copies_mu_;
  mutable std::vector<std::unique_ptr<uint8_t, void (*)(void*)>> copies_;
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
