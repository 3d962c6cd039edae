// Any byte string must either parse or raise rlx::Error; never crash, hang or over-allocate.
#include <cstddef>
#include <cstdint>

#include "rlx/core/error.h"
#include "rlx/io/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    auto f = rlx::io::MappedFile::from_memory("fuzz.safetensors", data, size);
    rlx::io::SafetensorsFile s = rlx::io::SafetensorsFile::parse(f);
    for (auto& t : s.tensors()) {
      rlx::TensorView v = s.tensor_view(t);
      if (t.end > t.begin) {
        volatile uint8_t sink = static_cast<const uint8_t*>(v.data)[t.end - t.begin - 1];
        (void)sink;
      }
    }
  } catch (const rlx::Error&) {
  }
  return 0;
}
