#include "rlx/runtime/kv_cache.h"

#include "rlx/core/error.h"
#include "runtime/device_state.h"

namespace rlx {

KvCache::KvCache(int64_t layers, int64_t kv_heads, int64_t capacity, int64_t head_dim, DType dtype)
    : capacity_(capacity), dtype_(dtype) {
  RLX_CHECK(dtype == DType::F32 || dtype == DType::F16, "KV cache type must be f32 or f16, got {}",
            dtype_name(dtype));
  for (int64_t i = 0; i < layers; ++i)
    for (const char* kind : {"k.", "v."}) {
      // Zeroed so that nothing uninitialized is ever read, even by masked lanes.
      Tensor t = Tensor::zeros(dtype, {1, kv_heads, capacity, head_dim});
      bindings_[kind + std::to_string(i)] = t.view();
      tensors_.push_back(std::move(t));
    }
  std::vector<const void*> ptrs;
  for (auto& t : tensors_) ptrs.push_back(t.data());
  device_release_ = std::shared_ptr<void>(nullptr, [ptrs](void*) {
    for (const void* p : ptrs) detail::forget_device_state(p);
  });
}

void KvCache::truncate(int64_t n) {
  RLX_CHECK(n >= 0 && n <= size(), "cannot truncate a KV cache of {} tokens to {}", size(), n);
  tokens_.resize(size_t(n));
}

int64_t KvCache::bytes() const {
  int64_t b = 0;
  for (auto& t : tensors_) b += t.nbytes();
  return b;
}

}  // namespace rlx
