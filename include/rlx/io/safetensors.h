// Memory-mapped safetensors files: single files and sharded sets (model.safetensors.index.json).
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "rlx/core/tensor.h"
#include "rlx/io/mmap_file.h"

namespace rlx::io {

struct SafetensorsTensorInfo {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t begin, end;  // byte offsets relative to the data section
};

class SafetensorsFile {
 public:
  // Parses and validates the header; throws rlx::Error naming the file and the problem.
  static SafetensorsFile open(const std::string& path);
  static SafetensorsFile parse(std::shared_ptr<MappedFile> file);

  const std::string& path() const { return file_->path(); }
  const std::shared_ptr<MappedFile>& file() const { return file_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::vector<SafetensorsTensorInfo>& tensors() const { return tensors_; }
  uint64_t data_offset() const { return data_offset_; }
  TensorView tensor_view(const SafetensorsTensorInfo& t) const;

 private:
  std::shared_ptr<MappedFile> file_;
  uint64_t data_offset_ = 0;
  std::map<std::string, std::string> metadata_;
  std::vector<SafetensorsTensorInfo> tensors_;
};

// Reads a model.safetensors.index.json and returns the shard file paths it names (in order
// of first appearance), checking that each exists.
std::vector<std::string> safetensors_index_shards(const std::string& index_path);

}  // namespace rlx::io
