// Internal: per-format row functions, registered into the traits table.
#pragma once
#include <cstdint>
#include <cstring>

#include "rlx/core/quant.h"

namespace rlx::quant {

// Fills the entries of the block formats rlx implements.
void register_formats(QuantTraits* table);

// Q8_0: blocks of 32 int8 with an f16 scale.
void dequantize_q8_0(const void* src, float* dst, int64_t n);
void quantize_q8_0(const float* src, void* dst, int64_t n);

}  // namespace rlx::quant
