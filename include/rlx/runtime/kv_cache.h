// The KV cache of one sequence: a K and V tensor per layer, [1, kv_heads, capacity, head_dim],
// plus the token ids it holds (so a chat can reuse the shared prefix). Several caches can
// exist at once; each is an explicit object passed to the runner, never hidden state.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "rlx/core/tensor.h"

namespace rlx {

class KvCache {
 public:
  KvCache() = default;
  KvCache(int64_t layers, int64_t kv_heads, int64_t capacity, int64_t head_dim, DType dtype);

  int64_t size() const { return int64_t(tokens_.size()); }  // tokens cached
  int64_t capacity() const { return capacity_; }
  DType dtype() const { return dtype_; }
  const std::vector<int32_t>& tokens() const { return tokens_; }
  void clear() { tokens_.clear(); }
  // Forgets everything after the first n tokens (their K/V rows will be overwritten).
  void truncate(int64_t n);
  void append(const std::vector<int32_t>& ids) {
    tokens_.insert(tokens_.end(), ids.begin(), ids.end());
  }
  // State bindings "k.<layer>" / "v.<layer>" for a program run.
  const std::map<std::string, TensorView>& bindings() const { return bindings_; }
  int64_t bytes() const;

 private:
  int64_t capacity_ = 0;
  DType dtype_ = DType::F32;
  std::vector<Tensor> tensors_;
  std::map<std::string, TensorView> bindings_;
  std::vector<int32_t> tokens_;
  // Drops the device mirrors of the tensors (CUDA programs keep States on the device) when
  // the last copy of this cache goes away.
  std::shared_ptr<void> device_release_;
};

}  // namespace rlx
