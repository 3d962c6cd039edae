#include "rlx/io/safetensors.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "rlx/core/error.h"

namespace rlx::io {
namespace {
constexpr uint64_t kMaxHeader = 100ull << 20;  // the format's own limit is 100 MB
}

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  return parse(MappedFile::open(path));
}

SafetensorsFile SafetensorsFile::parse(std::shared_ptr<MappedFile> file) {
  SafetensorsFile st;
  st.file_ = file;
  const std::string& path = file->path();
  if (file->size() < 8) fail("{}: not a safetensors file (only {} bytes)", path, file->size());
  uint64_t n;
  std::memcpy(&n, file->data(), 8);
  if (n > kMaxHeader || n > file->size() - 8)
    fail("{}: safetensors header length {} is larger than the file ({} bytes) or the 100 MB limit",
         path, n, file->size());
  st.data_offset_ = 8 + n;
  const char* hdr = reinterpret_cast<const char*>(file->data() + 8);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(hdr, hdr + n);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: invalid safetensors JSON header: {}", path, e.what());
  }
  if (!j.is_object()) fail("{}: safetensors header is not a JSON object", path);
  uint64_t data_size = file->size() - st.data_offset_;
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& name = it.key();
    const nlohmann::json& v = it.value();
    if (name == "__metadata__") {
      if (!v.is_object()) fail("{}: __metadata__ is not an object", path);
      for (auto& [k, mv] : v.items())
        st.metadata_[k] = mv.is_string() ? mv.get<std::string>() : mv.dump();
      continue;
    }
    auto field = [&](const char* key) -> const nlohmann::json& {
      if (!v.is_object() || !v.contains(key))
        fail("{}: tensor '{}' header lacks '{}'", path, name, key);
      return v[key];
    };
    SafetensorsTensorInfo t;
    t.name = name;
    const auto& dt = field("dtype");
    if (!dt.is_string()) fail("{}: tensor '{}' dtype is not a string", path, name);
    auto d = dtype_from_name(dt.get<std::string>());
    if (!d || is_quantized(*d))
      fail("{}: tensor '{}' has unknown dtype '{}'", path, name, dt.get<std::string>());
    t.dtype = *d;
    const auto& shape = field("shape");
    if (!shape.is_array() || shape.size() > size_t(kMaxDims))
      fail("{}: tensor '{}' shape must be an array of at most {} dims", path, name, kMaxDims);
    uint64_t numel = 1;
    for (auto& s : shape) {
      if (!s.is_number_unsigned() || s.get<uint64_t>() > (1ull << 40))
        fail("{}: tensor '{}' has an invalid dimension {}", path, name, s.dump());
      uint64_t dim = s.get<uint64_t>();
      if (dim != 0 && numel > (1ull << 50) / dim) fail("{}: tensor '{}' is too large", path, name);
      numel *= dim;
      t.shape.push_back(int64_t(dim));
    }
    const auto& off = field("data_offsets");
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
        !off[1].is_number_unsigned())
      fail("{}: tensor '{}' data_offsets must be [begin, end]", path, name);
    t.begin = off[0].get<uint64_t>();
    t.end = off[1].get<uint64_t>();
    if (t.begin > t.end || t.end > data_size)
      fail(
          "{}: tensor '{}' data [{}, {}) lies outside the data section of {} bytes (truncated "
          "file?)",
          path, name, t.begin, t.end, data_size);
    uint64_t want = numel * uint64_t(element_size(t.dtype));
    if (t.end - t.begin != want)
      fail("{}: tensor '{}' has {} bytes of data but {} {} needs {}", path, name, t.end - t.begin,
           t.shape.str(), dtype_name(t.dtype), want);
    st.tensors_.push_back(std::move(t));
  }
  std::vector<const SafetensorsTensorInfo*> by_off;
  for (auto& t : st.tensors_) by_off.push_back(&t);
  // Ties by end: an empty tensor shares its offset with the next one.
  std::sort(by_off.begin(), by_off.end(), [](auto* a, auto* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  for (size_t i = 1; i < by_off.size(); ++i)
    if (by_off[i - 1]->end > by_off[i]->begin)
      fail("{}: tensors '{}' and '{}' overlap", path, by_off[i - 1]->name, by_off[i]->name);
  return st;
}

TensorView SafetensorsFile::tensor_view(const SafetensorsTensorInfo& t) const {
  auto* p = const_cast<uint8_t*>(file_->aligned(data_offset_ + t.begin, t.end - t.begin, 16));
  return TensorView(p, t.dtype, t.shape);
}

std::vector<std::string> safetensors_index_shards(const std::string& index_path) {
  std::ifstream in(index_path);
  RLX_CHECK(in.good(), "cannot open '{}'", index_path);
  nlohmann::json j;
  try {
    in >> j;
  } catch (const nlohmann::json::exception& e) {
    fail("{}: invalid JSON: {}", index_path, e.what());
  }
  RLX_CHECK(j.is_object() && j.contains("weight_map") && j["weight_map"].is_object(),
            "{}: missing 'weight_map' object", index_path);
  auto dir = std::filesystem::path(index_path).parent_path();
  std::vector<std::string> shards;
  std::set<std::string> seen;
  std::vector<std::string> missing;
  for (auto& [name, file] : j["weight_map"].items()) {
    RLX_CHECK(file.is_string(), "{}: weight_map['{}'] is not a file name", index_path, name);
    std::string f = file.get<std::string>();
    RLX_CHECK(f.find('/') == std::string::npos && f.find("..") == std::string::npos,
              "{}: shard name '{}' must be a plain file name", index_path, f);
    if (seen.insert(f).second) {
      std::string full = (dir / f).string();
      if (!std::filesystem::exists(full)) missing.push_back(f);
      shards.push_back(full);
    }
  }
  if (!missing.empty())
    fail("{}: {} shard(s) missing: {}", index_path, missing.size(), fmt::join(missing, ", "));
  return shards;
}

}  // namespace rlx::io
