// The v5 and v6 weights (models/silero_vad/*.safetensors, MIT/ISC) linked into the binary, so
// `rlx vad` needs no file at run time.
#include "models/silero_vad/embedded.h"

#define RLX_STR2(x) #x
#define RLX_STR(x) RLX_STR2(x)

#define RLX_EMBED(sym, file)                                                              \
  __asm__(".section .rodata\n.balign 64\n.global " #sym "_begin\n" #sym                   \
          "_begin:\n"                                                                     \
          ".incbin \"" RLX_STR(RLX_SILERO_DIR) "/" file "\"\n.global " #sym "_end\n" #sym \
                                               "_end:\n.byte 0\n.previous\n");            \
  extern "C" const unsigned char sym##_begin[];                                           \
  extern "C" const unsigned char sym##_end[];

RLX_EMBED(rlx_silero_v5, "silero_vad_v5_16k.safetensors")
RLX_EMBED(rlx_silero_v6, "silero_vad_v6_16k.safetensors")

namespace rlx::models::silero_vad {

std::optional<EmbeddedWeights> embedded_weights(const std::string& name) {
  if (name == "v5")
    return EmbeddedWeights{rlx_silero_v5_begin, size_t(rlx_silero_v5_end - rlx_silero_v5_begin)};
  if (name == "v6")
    return EmbeddedWeights{rlx_silero_v6_begin, size_t(rlx_silero_v6_end - rlx_silero_v6_begin)};
  return std::nullopt;
}

}  // namespace rlx::models::silero_vad
