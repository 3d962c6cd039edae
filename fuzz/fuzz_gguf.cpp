// Any byte string must either parse or raise rlx::Error; never crash, hang or over-allocate.
#include <cstddef>
#include <cstdint>

#include "rlx/core/error.h"
#include "rlx/io/gguf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto f = rlx::io::MappedFile::from_memory("fuzz.gguf", data, size);
    rlx::io::GgufFile g = rlx::io::GgufFile::parse(f);
    for (auto& t : g.tensors()) {
      rlx::TensorView v = g.tensor_view(t);
      if (t.bytes > 0) {
        volatile uint8_t sink = static_cast<const uint8_t*>(v.data)[t.bytes - 1];
        (void)sink;
      }
    }
    (void)g.architecture();
  } catch (const rlx::Error&) {
  }
  return 0;
}
