// WeightStore: every tensor of a checkpoint (GGUF or safetensors, sharded or not) by name,
// as zero-copy views into the mapped files; plus prefix-scoped, shape-checked binding.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "rlx/core/tensor.h"
#include "rlx/io/gguf.h"
#include "rlx/io/model_files.h"

namespace rlx::io {

class WeightScope;

class WeightStore {
 public:
  // Resolves `path` (file, directory, index, split GGUF) and maps every shard.
  static std::shared_ptr<WeightStore> open(const std::string& path, const std::string& prefer = "");
  static std::shared_ptr<WeightStore> open(const ModelFiles& files);
  // A safetensors image held in memory (e.g. weights embedded in the binary).
  static std::shared_ptr<WeightStore> from_safetensors_bytes(const std::string& name,
                                                             const void* data, size_t size);

  WeightFormat format() const { return files_.format; }
  const ModelFiles& files() const { return files_; }
  // The GGUF holding the model metadata (first shard), or null for safetensors.
  const GgufFile* gguf() const { return ggufs_.empty() ? nullptr : &ggufs_.front(); }
  // See GgufFile::drop_large_arrays; for every GGUF shard.
  void drop_large_gguf_arrays(size_t max_elements) {
    for (auto& g : ggufs_) g.drop_large_arrays(max_elements);
  }
  const std::map<std::string, std::string>& safetensors_metadata() const { return st_metadata_; }

  // Maps the names model code asks for (HF names) to the names in the file (e.g. GGUF's
  // "blk.0.attn_q.weight"). Set by the family; identity when unset.
  void set_name_map(std::function<std::string(const std::string&)> map) {
    name_map_ = std::move(map);
  }
  std::string file_name(const std::string& model_name) const;

  bool contains(const std::string& model_name) const;
  // Throws rlx::Error naming the tensor and listing the closest existing names.
  TensorView get(const std::string& model_name) const;
  std::optional<TensorView> find(const std::string& model_name) const;
  const std::vector<std::string>& names() const { return order_; }  // file names
  std::vector<std::string> unused() const;
  int64_t total_bytes() const;
  // Reads every tensor's pages once (so the first forward pass does not stall on disk),
  // reporting progress as (bytes done, bytes total).
  void prefetch(const std::function<void(int64_t, int64_t)>& progress) const;
  // Keeps the mapped files alive for as long as a view is used.
  std::shared_ptr<const void> keep_alive() const { return keep_; }
  std::vector<std::string> closest_names(const std::string& name, size_t n = 3) const;

  WeightScope root();

 private:
  ModelFiles files_;
  std::vector<GgufFile> ggufs_;
  std::map<std::string, std::string> st_metadata_;
  std::map<std::string, TensorView> tensors_;
  std::vector<std::string> order_;
  mutable std::set<std::string> used_;
  std::function<std::string(const std::string&)> name_map_;
  std::shared_ptr<const void> keep_;
};

// A prefix into the store: root.sub("model.layers").sub(3).get("self_attn.q_proj.weight", {o, i}).
class WeightScope {
 public:
  WeightScope(const WeightStore* store, std::string prefix)
      : store_(store), prefix_(std::move(prefix)) {}
  WeightScope sub(const std::string& name) const;
  WeightScope sub(int64_t index) const { return sub(std::to_string(index)); }
  std::string path(const std::string& name) const;
  bool contains(const std::string& name) const { return store_->contains(path(name)); }
  // Shape-checked lookup; the error names the full path, expected vs actual shape.
  TensorView get(const std::string& name, const Shape& expected) const;
  std::optional<TensorView> maybe(const std::string& name, const Shape& expected) const;
  const WeightStore& store() const { return *store_; }

 private:
  const WeightStore* store_;
  std::string prefix_;
};

}  // namespace rlx::io
