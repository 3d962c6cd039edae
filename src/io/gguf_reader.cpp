// GGUF parsing with bounds checks on every read: counts and lengths are validated against the
// bytes that remain, so a hostile file can neither crash the reader nor make it allocate
// unboundedly.
#include <algorithm>
#include <cstring>

#include "rlx/core/error.h"
#include "rlx/io/gguf.h"

namespace rlx::io {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" little-endian
constexpr int kMaxArrayDepth = 8;

class Cursor {
 public:
  Cursor(const uint8_t* data, size_t size, const std::string& path)
      : p_(data), size_(size), path_(path) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return size_ - pos_; }

  template <class T>
  T read(const char* what) {
    need(sizeof(T), what);
    T v;
    std::memcpy(&v, p_ + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }

  std::string read_string(const char* what) {
    uint64_t n = read<uint64_t>(what);
    need(n, what);
    std::string s(reinterpret_cast<const char*>(p_ + pos_), size_t(n));
    pos_ += size_t(n);
    return s;
  }

  void need(uint64_t n, const char* what) const {
    if (n > remaining())
      fail("{}: truncated GGUF file: {} needs {} bytes at offset {}, only {} remain", path_, what,
           n, pos_, remaining());
  }

  const std::string& path() const { return path_; }

 private:
  const uint8_t* p_;
  size_t size_;
  size_t pos_ = 0;
  const std::string& path_;
};

size_t min_value_bytes(GgufType t) {
  switch (t) {
    case GgufType::U8:
    case GgufType::I8:
    case GgufType::Bool:
      return 1;
    case GgufType::U16:
    case GgufType::I16:
      return 2;
    case GgufType::U32:
    case GgufType::I32:
    case GgufType::F32:
      return 4;
    case GgufType::U64:
    case GgufType::I64:
    case GgufType::F64:
      return 8;
    case GgufType::String:
      return 8;
    case GgufType::Array:
      return 12;
  }
  return 1;
}

bool valid_type(uint32_t t) {
  return t <= 12;
}

GgufValue read_value(Cursor& c, GgufType type, const std::string& key, int depth);

void read_scalar(Cursor& c, GgufType type, GgufValue& v, const char* what) {
  switch (type) {
    case GgufType::U8:
      v.i = c.read<uint8_t>(what);
      break;
    case GgufType::I8:
      v.i = c.read<int8_t>(what);
      break;
    case GgufType::U16:
      v.i = c.read<uint16_t>(what);
      break;
    case GgufType::I16:
      v.i = c.read<int16_t>(what);
      break;
    case GgufType::U32:
      v.i = c.read<uint32_t>(what);
      break;
    case GgufType::I32:
      v.i = c.read<int32_t>(what);
      break;
    case GgufType::U64:
      v.i = int64_t(c.read<uint64_t>(what));
      break;
    case GgufType::I64:
      v.i = c.read<int64_t>(what);
      break;
    case GgufType::F32:
      v.f = c.read<float>(what);
      break;
    case GgufType::F64:
      v.f = c.read<double>(what);
      break;
    case GgufType::Bool: {
      uint8_t b = c.read<uint8_t>(what);
      if (b > 1) fail("{}: metadata '{}' has bool value {}", c.path(), what, int(b));
      v.i = b;
      break;
    }
    case GgufType::String:
      v.s = c.read_string(what);
      break;
    case GgufType::Array:
      break;
  }
}

GgufValue read_value(Cursor& c, GgufType type, const std::string& key, int depth) {
  GgufValue v;
  v.type = type;
  if (type != GgufType::Array) {
    read_scalar(c, type, v, key.c_str());
    return v;
  }
  if (depth >= kMaxArrayDepth) fail("{}: metadata '{}' nests arrays too deeply", c.path(), key);
  uint32_t et = c.read<uint32_t>(key.c_str());
  if (!valid_type(et))
    fail("{}: metadata '{}' has unknown array element type {}", c.path(), key, et);
  v.elem_type = GgufType(et);
  uint64_t n = c.read<uint64_t>(key.c_str());
  if (n > c.remaining() / min_value_bytes(v.elem_type))
    fail("{}: metadata '{}' claims {} array elements but only {} bytes remain", c.path(), key, n,
         c.remaining());
  switch (v.elem_type) {
    case GgufType::String:
      v.strings.reserve(size_t(n));
      for (uint64_t i = 0; i < n; ++i) v.strings.push_back(c.read_string(key.c_str()));
      break;
    case GgufType::Array:
      v.arrays.reserve(size_t(n));
      for (uint64_t i = 0; i < n; ++i)
        v.arrays.push_back(read_value(c, GgufType::Array, key, depth + 1));
      break;
    case GgufType::F32:
    case GgufType::F64: {
      v.floats.resize(size_t(n));
      GgufValue tmp;
      for (uint64_t i = 0; i < n; ++i) {
        read_scalar(c, v.elem_type, tmp, key.c_str());
        v.floats[i] = tmp.f;
      }
      break;
    }
    default: {
      v.ints.resize(size_t(n));
      GgufValue tmp;
      for (uint64_t i = 0; i < n; ++i) {
        read_scalar(c, v.elem_type, tmp, key.c_str());
        v.ints[i] = tmp.i;
      }
    }
  }
  return v;
}

}  // namespace

const char* gguf_type_name(GgufType t) {
  static const char* names[] = {"u8",   "i8",     "u16",   "i16", "u32", "i32", "f32",
                                "bool", "string", "array", "u64", "i64", "f64"};
  return uint32_t(t) <= 12 ? names[uint32_t(t)] : "?";
}

bool is_int_type(GgufType type) {
  switch (type) {
    case GgufType::U8:
    case GgufType::I8:
    case GgufType::U16:
    case GgufType::I16:
    case GgufType::U32:
    case GgufType::I32:
    case GgufType::U64:
    case GgufType::I64:
      return true;
    default:
      return false;
  }
}

bool GgufValue::is_int() const {
  return is_int_type(type);
}

size_t GgufValue::array_size() const {
  return ints.size() + floats.size() + strings.size() + arrays.size();
}

GgufFile GgufFile::open(const std::string& path) {
  return parse(MappedFile::open(path));
}

GgufFile GgufFile::parse(std::shared_ptr<MappedFile> file) {
  GgufFile g;
  g.file_ = file;
  const std::string& path = file->path();
  Cursor c(file->data(), file->size(), path);
  if (file->size() < 4) fail("{}: not a GGUF file (only {} bytes)", path, file->size());
  uint32_t magic = c.read<uint32_t>("magic");
  if (magic != kMagic)
    fail("{}: not a GGUF file (bad magic 0x{:08x}, expected 'GGUF')", path, magic);
  g.version_ = c.read<uint32_t>("version");
  if (g.version_ != 2 && g.version_ != 3)
    fail("{}: unsupported GGUF version {} (rlx reads versions 2 and 3)", path, g.version_);
  uint64_t n_tensors = c.read<uint64_t>("tensor count");
  uint64_t n_kv = c.read<uint64_t>("metadata count");
  // Each KV needs >= 8 (key len) + 4 (type) + 1 bytes; each tensor info >= 8 + 4 + 4 + 8.
  if (n_kv > c.remaining() / 13)
    fail("{}: metadata count {} is impossible for a file of {} bytes", path, n_kv, file->size());
  if (n_tensors > c.remaining() / 24)
    fail("{}: tensor count {} is impossible for a file of {} bytes", path, n_tensors, file->size());

  for (uint64_t i = 0; i < n_kv; ++i) {
    std::string key = c.read_string("metadata key");
    uint32_t t = c.read<uint32_t>(key.c_str());
    if (!valid_type(t)) fail("{}: metadata '{}' has unknown value type {}", path, key, t);
    GgufValue v = read_value(c, GgufType(t), key, 0);
    if (g.kv_index_.count(key)) fail("{}: duplicate metadata key '{}'", path, key);
    g.kv_index_[key] = g.kv_.size();
    g.kv_.emplace_back(std::move(key), std::move(v));
  }

  if (const GgufValue* a = g.find("general.alignment")) {
    if (!a->is_int() || a->i <= 0 || (a->i & (a->i - 1)) != 0 || a->i > (1 << 20))
      fail("{}: general.alignment must be a power of two, got {}", path, a->i);
    g.alignment_ = uint32_t(a->i);
  }

  for (uint64_t i = 0; i < n_tensors; ++i) {
    GgufTensorInfo info;
    info.name = c.read_string("tensor name");
    uint32_t n_dims = c.read<uint32_t>(info.name.c_str());
    if (n_dims > uint32_t(kMaxDims))
      fail("{}: tensor '{}' has {} dimensions (at most {} supported)", path, info.name, n_dims,
           kMaxDims);
    std::vector<int64_t> ne(n_dims);
    int64_t numel = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      uint64_t v = c.read<uint64_t>(info.name.c_str());
      if (v > (uint64_t(1) << 40))
        fail("{}: tensor '{}' dimension {} is absurd ({})", path, info.name, d, v);
      ne[d] = int64_t(v);
      if (v != 0 && numel > (int64_t(1) << 50) / int64_t(v))
        fail("{}: tensor '{}' has too many elements", path, info.name);
      numel *= int64_t(v);
    }
    uint32_t type = c.read<uint32_t>(info.name.c_str());
    auto dt = dtype_from_ggml_id(type);
    if (!dt) fail("{}: tensor '{}' has unknown or removed ggml type id {}", path, info.name, type);
    info.dtype = *dt;
    info.offset = c.read<uint64_t>(info.name.c_str());
    std::reverse(ne.begin(), ne.end());
    info.shape = Shape(std::span<const int64_t>(ne));
    int64_t bs = block_size(info.dtype);
    int64_t row = n_dims ? ne.back() : 1;
    if (row % bs != 0)
      fail(
          "{}: tensor '{}' of type {} has a row of {} elements, not a multiple of the block size "
          "{}",
          path, info.name, dtype_name(info.dtype), row, bs);
    info.bytes = uint64_t(dtype_bytes(info.dtype, numel));
    if (info.offset % g.alignment_ != 0)
      fail("{}: tensor '{}' data offset {} is not aligned to {}", path, info.name, info.offset,
           g.alignment_);
    if (g.tensor_index_.count(info.name)) fail("{}: duplicate tensor name '{}'", path, info.name);
    g.tensor_index_[info.name] = g.tensors_.size();
    g.tensors_.push_back(std::move(info));
  }

  uint64_t pos = c.pos();
  g.data_offset_ = (pos + g.alignment_ - 1) / g.alignment_ * g.alignment_;
  uint64_t data_size = file->size() >= g.data_offset_ ? file->size() - g.data_offset_ : 0;
  if (!g.tensors_.empty() && file->size() < g.data_offset_)
    fail("{}: truncated GGUF file: the tensor data section is missing", path);

  // Bounds and overlap checks on the data section.
  std::vector<const GgufTensorInfo*> by_off;
  for (auto& t : g.tensors_) {
    if (t.offset > data_size || t.bytes > data_size - t.offset)
      fail(
          "{}: tensor '{}' data [{}, {}) lies outside the data section of {} bytes (truncated "
          "file?)",
          path, t.name, t.offset, t.offset + t.bytes, data_size);
    by_off.push_back(&t);
  }
  std::sort(by_off.begin(), by_off.end(), [](auto* a, auto* b) {
    // Ties by end: an empty tensor shares its offset with the next one.
    return a->offset != b->offset ? a->offset < b->offset : a->bytes < b->bytes;
  });
  for (size_t i = 1; i < by_off.size(); ++i)
    if (by_off[i - 1]->offset + by_off[i - 1]->bytes > by_off[i]->offset)
      fail("{}: tensors '{}' and '{}' overlap in the data section", path, by_off[i - 1]->name,
           by_off[i]->name);
  return g;
}

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = kv_index_.find(key);
  return it == kv_index_.end() ? nullptr : &kv_[it->second].second;
}

namespace {
[[noreturn]] void wrong_type(const std::string& path, const std::string& key, const char* want,
                             const GgufValue& v) {
  fail("{}: metadata '{}' should be {} but is {}", path, key, want, gguf_type_name(v.type));
}
const GgufValue& need(const GgufFile& g, const std::string& key) {
  const GgufValue* v = g.find(key);
  if (!v) fail("{}: required metadata key '{}' is missing", g.path(), key);
  return *v;
}
}  // namespace

std::string GgufFile::get_string(const std::string& key) const {
  const auto& v = need(*this, key);
  if (v.type != GgufType::String) wrong_type(path(), key, "a string", v);
  return v.s;
}

int64_t GgufFile::get_int(const std::string& key) const {
  const auto& v = need(*this, key);
  if (!v.is_int()) wrong_type(path(), key, "an integer", v);
  return v.i;
}

double GgufFile::get_float(const std::string& key) const {
  const auto& v = need(*this, key);
  if (v.is_int()) return double(v.i);
  if (!v.is_float()) wrong_type(path(), key, "a number", v);
  return v.f;
}

bool GgufFile::get_bool(const std::string& key) const {
  const auto& v = need(*this, key);
  if (v.type != GgufType::Bool) wrong_type(path(), key, "a bool", v);
  return v.i != 0;
}

const std::vector<std::string>& GgufFile::get_string_array(const std::string& key) const {
  const auto& v = need(*this, key);
  if (v.type != GgufType::Array || v.elem_type != GgufType::String)
    wrong_type(path(), key, "an array of strings", v);
  return v.strings;
}

const std::vector<int64_t>& GgufFile::get_int_array(const std::string& key) const {
  const auto& v = need(*this, key);
  if (v.type != GgufType::Array || !(is_int_type(v.elem_type) || v.elem_type == GgufType::Bool))
    wrong_type(path(), key, "an array of integers", v);
  return v.ints;
}

const std::vector<double>& GgufFile::get_float_array(const std::string& key) const {
  const auto& v = need(*this, key);
  if (v.type != GgufType::Array || (v.elem_type != GgufType::F32 && v.elem_type != GgufType::F64))
    wrong_type(path(), key, "an array of floats", v);
  return v.floats;
}

std::optional<std::string> GgufFile::string_or(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return get_string(key);
}
std::optional<int64_t> GgufFile::int_or(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return get_int(key);
}
std::optional<double> GgufFile::float_or(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return get_float(key);
}

std::string GgufFile::architecture() const {
  auto a = find("general.architecture");
  return a && a->type == GgufType::String ? a->s : "";
}

void GgufFile::drop_large_arrays(size_t max_elements) {
  std::erase_if(kv_, [&](const auto& kv) {
    return kv.second.type == GgufType::Array && kv.second.array_size() > max_elements;
  });
  kv_index_.clear();
  for (size_t i = 0; i < kv_.size(); ++i) kv_index_[kv_[i].first] = i;
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

TensorView GgufFile::tensor_view(const GgufTensorInfo& info) const {
  // Aligned in every file written with the default alignment (32); a file declaring a smaller
  // general.alignment gets a copy where the kernels would otherwise read misaligned elements.
  auto* p = const_cast<uint8_t*>(file_->aligned(data_offset_ + info.offset, info.bytes, 16));
  return TensorView(p, info.dtype, info.shape);
}

}  // namespace rlx::io
