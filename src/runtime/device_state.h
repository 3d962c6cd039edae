// Runtime-internal: lets the owner of State tensors (KvCache) drop their device mirrors when
// it goes away. A no-op in a CPU-only build or when no device context exists.
#pragma once

namespace rlx::detail {

void forget_device_state(const void* host);

}  // namespace rlx::detail
