// GGUF v2/v3 reader and writer. Shapes are reported outermost-first (PyTorch order): the
// reader reverses ggml's innermost-first ne[] and nothing else in rlx ever sees ne[].
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rlx/core/tensor.h"
#include "rlx/io/mmap_file.h"

namespace rlx::io {

enum class GgufType : uint32_t {
  U8 = 0,
  I8 = 1,
  U16 = 2,
  I16 = 3,
  U32 = 4,
  I32 = 5,
  F32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  U64 = 10,
  I64 = 11,
  F64 = 12,
};
const char* gguf_type_name(GgufType t);
bool is_int_type(GgufType t);

// One metadata value. Arrays keep their elements by kind: integers (and bools) in `ints`,
// floats in `floats`, strings in `strings`, nested arrays in `arrays`.
struct GgufValue {
  GgufType type = GgufType::U8;
  GgufType elem_type = GgufType::U8;  // for arrays
  int64_t i = 0;                      // integer and bool scalars (U64 stored bit-cast)
  double f = 0;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::vector<std::string> strings;
  std::vector<GgufValue> arrays;

  bool is_int() const;
  bool is_float() const { return type == GgufType::F32 || type == GgufType::F64; }
  size_t array_size() const;
};

struct GgufTensorInfo {
  std::string name;
  DType dtype;
  Shape shape;      // PyTorch order
  uint64_t offset;  // relative to the data section
  uint64_t bytes;
};

class GgufFile {
 public:
  // Parses and validates the whole header; throws rlx::Error naming the file and the field.
  static GgufFile open(const std::string& path);
  static GgufFile parse(std::shared_ptr<MappedFile> file);

  uint32_t version() const { return version_; }
  const std::string& path() const { return file_->path(); }
  uint32_t alignment() const { return alignment_; }
  uint64_t data_offset() const { return data_offset_; }
  const std::shared_ptr<MappedFile>& file() const { return file_; }

  // Metadata in file order.
  const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return kv_; }
  const GgufValue* find(const std::string& key) const;
  bool has(const std::string& key) const { return find(key) != nullptr; }
  // Typed getters: throw rlx::Error naming the key when it is missing or of another type.
  std::string get_string(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  double get_float(const std::string& key) const;  // accepts integer values too
  bool get_bool(const std::string& key) const;
  const std::vector<std::string>& get_string_array(const std::string& key) const;
  const std::vector<int64_t>& get_int_array(const std::string& key) const;
  const std::vector<double>& get_float_array(const std::string& key) const;
  std::optional<std::string> string_or(const std::string& key) const;
  std::optional<int64_t> int_or(const std::string& key) const;
  std::optional<double> float_or(const std::string& key) const;

  std::string architecture() const;  // general.architecture or ""
  // Forgets array metadata with more than `max_elements` entries (vocabularies, merges) once
  // it has been consumed, so a loaded model does not keep a second copy of its tokenizer.
  // Later lookups of those keys find nothing.
  void drop_large_arrays(size_t max_elements);

  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(const std::string& name) const;
  // Zero-copy view of a tensor's data inside the mapping.
  TensorView tensor_view(const GgufTensorInfo& info) const;

 private:
  std::shared_ptr<MappedFile> file_;
  uint32_t version_ = 0;
  uint32_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::map<std::string, size_t> kv_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::map<std::string, size_t> tensor_index_;
};

// Writes GGUF v3 files. Metadata keeps insertion order; tensors are written aligned.
class GgufWriter {
 public:
  explicit GgufWriter(uint32_t alignment = 32) : alignment_(alignment) {}
  void set(const std::string& key, GgufValue value);
  void set_string(const std::string& key, std::string v);
  void set_u32(const std::string& key, uint32_t v);
  void set_i32(const std::string& key, int32_t v);
  void set_u64(const std::string& key, uint64_t v);
  void set_f32(const std::string& key, float v);
  void set_bool(const std::string& key, bool v);
  void set_string_array(const std::string& key, std::vector<std::string> v);
  void set_i32_array(const std::string& key, std::vector<int32_t> v);
  void set_f32_array(const std::string& key, std::vector<float> v);
  // `data` must stay valid until write(); shape in PyTorch order.
  void add_tensor(const std::string& name, DType dtype, const Shape& shape, const void* data);
  // Writes to a temp file and renames it into place.
  void write(const std::string& path) const;

 private:
  struct PendingTensor {
    std::string name;
    DType dtype;
    Shape shape;
    const void* data;
  };
  uint32_t alignment_;
  std::vector<std::pair<std::string, GgufValue>> kv_;
  std::vector<PendingTensor> tensors_;
};

}  // namespace rlx::io
