#include "rlx/io/weights.h"

#include <algorithm>

#include "rlx/core/error.h"
#include "rlx/io/safetensors.h"

namespace rlx::io {
namespace {

size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

}  // namespace

std::shared_ptr<WeightStore> WeightStore::open(const std::string& path, const std::string& prefer) {
  return open(resolve_model_files(path, prefer));
}

std::shared_ptr<WeightStore> WeightStore::open(const ModelFiles& files) {
  auto ws = std::make_shared<WeightStore>();
  ws->files_ = files;
  auto keep = std::make_shared<std::vector<std::shared_ptr<MappedFile>>>();
  auto add = [&](const std::string& name, TensorView v, const std::string& file) {
    if (ws->tensors_.count(name)) fail("tensor '{}' appears twice (again in '{}')", name, file);
    ws->tensors_[name] = v;
    ws->order_.push_back(name);
  };
  for (auto& f : files.files) {
    if (files.format == WeightFormat::Gguf) {
      GgufFile g = GgufFile::open(f);
      keep->push_back(g.file());
      for (auto& t : g.tensors()) add(t.name, g.tensor_view(t), f);
      ws->ggufs_.push_back(std::move(g));
    } else {
      SafetensorsFile s = SafetensorsFile::open(f);
      keep->push_back(s.file());
      for (auto& t : s.tensors()) add(t.name, s.tensor_view(t), f);
      for (auto& [k, v] : s.metadata()) ws->st_metadata_[k] = v;
    }
  }
  if (files.format == WeightFormat::Gguf && ws->ggufs_.size() > 1) {
    auto total = ws->ggufs_.front().int_or("split.tensors.count");
    if (total && size_t(*total) != ws->tensors_.size())
      fail("{}: split.tensors.count says {} tensors but the shards hold {}", files.files.front(),
           *total, ws->tensors_.size());
  }
  ws->keep_ = keep;
  return ws;
}

std::shared_ptr<WeightStore> WeightStore::from_safetensors_bytes(const std::string& name,
                                                                 const void* data, size_t size) {
  auto ws = std::make_shared<WeightStore>();
  ws->files_ = {WeightFormat::Safetensors, {name}, ""};
  SafetensorsFile s = SafetensorsFile::parse(MappedFile::from_memory(name, data, size));
  for (auto& t : s.tensors()) {
    ws->tensors_[t.name] = s.tensor_view(t);
    ws->order_.push_back(t.name);
  }
  ws->st_metadata_ = s.metadata();
  ws->keep_ = s.file();
  return ws;
}

std::string WeightStore::file_name(const std::string& model_name) const {
  return name_map_ ? name_map_(model_name) : model_name;
}

bool WeightStore::contains(const std::string& model_name) const {
  return tensors_.count(file_name(model_name)) > 0;
}

std::optional<TensorView> WeightStore::find(const std::string& model_name) const {
  auto it = tensors_.find(file_name(model_name));
  if (it == tensors_.end()) return std::nullopt;
  used_.insert(it->first);
  return it->second;
}

TensorView WeightStore::get(const std::string& model_name) const {
  if (auto v = find(model_name)) return *v;
  std::string fname = file_name(model_name);
  std::string shown = fname == model_name
                          ? "'" + model_name + "'"
                          : fmt::format("'{}' (in the file: '{}')", model_name, fname);
  fail("tensor {} not found in {}; closest names: {}", shown, files_.files.front(),
       fmt::join(closest_names(fname), ", "));
}

std::vector<std::string> WeightStore::closest_names(const std::string& name, size_t n) const {
  std::vector<std::pair<size_t, std::string>> d;
  for (auto& k : order_) d.emplace_back(edit_distance(name, k), k);
  std::sort(d.begin(), d.end());
  std::vector<std::string> out;
  for (size_t i = 0; i < d.size() && i < n; ++i) out.push_back(d[i].second);
  return out;
}

std::vector<std::string> WeightStore::unused() const {
  std::vector<std::string> out;
  for (auto& k : order_)
    if (!used_.count(k)) out.push_back(k);
  return out;
}

int64_t WeightStore::total_bytes() const {
  int64_t b = 0;
  for (auto& [k, v] : tensors_) b += v.nbytes();
  return b;
}

void WeightStore::prefetch(const std::function<void(int64_t, int64_t)>& progress) const {
  const int64_t total = total_bytes();
  constexpr int64_t kPage = 4096, kReport = 64ll << 20;
  int64_t done = 0, next_report = 0;
  volatile uint8_t sink = 0;
  for (auto& [name, v] : tensors_) {
    const auto* p = static_cast<const uint8_t*>(v.data);
    const int64_t n = v.nbytes();
    for (int64_t i = 0; i < n; i += kPage) sink = sink + p[i];
    done += n;
    if (progress && done >= next_report) {
      progress(done, total);
      next_report = done + kReport;
    }
  }
  if (progress) progress(total, total);
}

WeightScope WeightStore::root() {
  return WeightScope(this, "");
}

WeightScope WeightScope::sub(const std::string& name) const {
  return WeightScope(store_, path(name));
}

std::string WeightScope::path(const std::string& name) const {
  return prefix_.empty() ? name : prefix_ + "." + name;
}

TensorView WeightScope::get(const std::string& name, const Shape& expected) const {
  TensorView v = store_->get(path(name));
  if (v.shape != expected)
    fail("tensor '{}' has shape {} but the model config expects {}", path(name), v.shape.str(),
         expected.str());
  return v;
}

std::optional<TensorView> WeightScope::maybe(const std::string& name, const Shape& expected) const {
  if (!contains(name)) return std::nullopt;
  return get(name, expected);
}

}  // namespace rlx::io
