#include <cstring>

#include "rlx/core/error.h"
#include "rlx/io/gguf.h"

namespace rlx::io {
namespace {

constexpr uint32_t kMagic = 0x46554747;

class Out {
 public:
  explicit Out(AtomicFileWriter& w) : w_(w) {}
  template <class T>
  void put(T v) {
    w_.write(&v, sizeof(T));
  }
  void str(const std::string& s) {
    put<uint64_t>(s.size());
    w_.write(s.data(), s.size());
  }

 private:
  AtomicFileWriter& w_;
};

void write_scalar(Out& o, GgufType t, int64_t i, double f, const std::string& s) {
  switch (t) {
    case GgufType::U8:
      o.put<uint8_t>(uint8_t(i));
      break;
    case GgufType::I8:
      o.put<int8_t>(int8_t(i));
      break;
    case GgufType::U16:
      o.put<uint16_t>(uint16_t(i));
      break;
    case GgufType::I16:
      o.put<int16_t>(int16_t(i));
      break;
    case GgufType::U32:
      o.put<uint32_t>(uint32_t(i));
      break;
    case GgufType::I32:
      o.put<int32_t>(int32_t(i));
      break;
    case GgufType::U64:
      o.put<uint64_t>(uint64_t(i));
      break;
    case GgufType::I64:
      o.put<int64_t>(i);
      break;
    case GgufType::F32:
      o.put<float>(float(f));
      break;
    case GgufType::F64:
      o.put<double>(f);
      break;
    case GgufType::Bool:
      o.put<uint8_t>(i ? 1 : 0);
      break;
    case GgufType::String:
      o.str(s);
      break;
    case GgufType::Array:
      RLX_ASSERT(false);
      break;
  }
}

void write_value(Out& o, const GgufValue& v) {
  if (v.type != GgufType::Array) {
    write_scalar(o, v.type, v.i, v.f, v.s);
    return;
  }
  o.put<uint32_t>(uint32_t(v.elem_type));
  o.put<uint64_t>(v.array_size());
  static const std::string empty;
  for (auto x : v.ints) write_scalar(o, v.elem_type, x, 0, empty);
  for (auto x : v.floats) write_scalar(o, v.elem_type, 0, x, empty);
  for (auto& x : v.strings) write_scalar(o, v.elem_type, 0, 0, x);
  for (auto& x : v.arrays) write_value(o, x);
}

}  // namespace

void GgufWriter::set(const std::string& key, GgufValue value) {
  for (auto& kv : kv_)
    if (kv.first == key) {
      kv.second = std::move(value);
      return;
    }
  kv_.emplace_back(key, std::move(value));
}

void GgufWriter::set_string(const std::string& key, std::string v) {
  GgufValue g;
  g.type = GgufType::String;
  g.s = std::move(v);
  set(key, std::move(g));
}

#define RLX_GGUF_SET_INT(fn, T, gt)                  \
  void GgufWriter::fn(const std::string& key, T v) { \
    GgufValue g;                                     \
    g.type = gt;                                     \
    g.i = int64_t(v);                                \
    set(key, std::move(g));                          \
  }
RLX_GGUF_SET_INT(set_u32, uint32_t, GgufType::U32)
RLX_GGUF_SET_INT(set_i32, int32_t, GgufType::I32)
RLX_GGUF_SET_INT(set_u64, uint64_t, GgufType::U64)
RLX_GGUF_SET_INT(set_bool, bool, GgufType::Bool)
#undef RLX_GGUF_SET_INT

void GgufWriter::set_f32(const std::string& key, float v) {
  GgufValue g;
  g.type = GgufType::F32;
  g.f = v;
  set(key, std::move(g));
}

void GgufWriter::set_string_array(const std::string& key, std::vector<std::string> v) {
  GgufValue g;
  g.type = GgufType::Array;
  g.elem_type = GgufType::String;
  g.strings = std::move(v);
  set(key, std::move(g));
}

void GgufWriter::set_i32_array(const std::string& key, std::vector<int32_t> v) {
  GgufValue g;
  g.type = GgufType::Array;
  g.elem_type = GgufType::I32;
  g.ints.assign(v.begin(), v.end());
  set(key, std::move(g));
}

void GgufWriter::set_f32_array(const std::string& key, std::vector<float> v) {
  GgufValue g;
  g.type = GgufType::Array;
  g.elem_type = GgufType::F32;
  g.floats.assign(v.begin(), v.end());
  set(key, std::move(g));
}

void GgufWriter::add_tensor(const std::string& name, DType dtype, const Shape& shape,
                            const void* data) {
  RLX_CHECK(dtype_info(dtype).ggml_id >= 0, "GGUF cannot store dtype {} (tensor '{}')",
            dtype_name(dtype), name);
  RLX_CHECK(shape.rank() == 0 || shape.back() % block_size(dtype) == 0,
            "tensor '{}': row of {} elements is not a multiple of {}'s block size {}", name,
            shape.rank() ? shape.back() : 1, dtype_name(dtype), block_size(dtype));
  for (auto& t : tensors_) RLX_CHECK(t.name != name, "duplicate tensor '{}'", name);
  tensors_.push_back({name, dtype, shape, data});
}

void GgufWriter::write(const std::string& path) const {
  AtomicFileWriter w(path);
  Out o(w);
  o.put<uint32_t>(kMagic);
  o.put<uint32_t>(3);
  o.put<uint64_t>(tensors_.size());
  bool has_alignment = false;
  for (auto& kv : kv_) has_alignment |= kv.first == "general.alignment";
  o.put<uint64_t>(kv_.size() + (alignment_ != 32 && !has_alignment ? 1 : 0));
  for (auto& [key, v] : kv_) {
    o.str(key);
    o.put<uint32_t>(uint32_t(v.type));
    write_value(o, v);
  }
  if (alignment_ != 32 && !has_alignment) {
    o.str("general.alignment");
    o.put<uint32_t>(uint32_t(GgufType::U32));
    o.put<uint32_t>(alignment_);
  }
  uint64_t offset = 0;
  std::vector<uint64_t> offsets;
  for (auto& t : tensors_) {
    o.str(t.name);
    o.put<uint32_t>(uint32_t(t.shape.rank()));
    for (int d = t.shape.rank() - 1; d >= 0; --d) o.put<uint64_t>(uint64_t(t.shape[d]));
    o.put<uint32_t>(uint32_t(dtype_info(t.dtype).ggml_id));
    o.put<uint64_t>(offset);
    offsets.push_back(offset);
    uint64_t bytes = uint64_t(dtype_bytes(t.dtype, t.shape.numel()));
    offset += (bytes + alignment_ - 1) / alignment_ * alignment_;
  }
  w.pad_to(alignment_);
  for (auto& t : tensors_) {
    w.write(t.data, size_t(dtype_bytes(t.dtype, t.shape.numel())));
    w.pad_to(alignment_);
  }
  w.commit();
}

}  // namespace rlx::io
