// Internal: ggml block layouts and the per-format row functions registered into the traits
// table. Layouts are ggml's (ggml-common.h); every struct is packed by construction (no
// padding), which the static_asserts check against dtype_info's block sizes.
#pragma once
#include <cstdint>
#include <cstring>

#include "rlx/core/quant.h"

namespace rlx::quant {

constexpr int kQK = 256;  // K-quant super-block
constexpr int kQ32 = 32;  // legacy/IQ4_NL/MXFP4 block

struct BlockQ4_0 {
  uint16_t d;
  uint8_t qs[16];  // element j in the low nibble of qs[j], element j+16 in the high one
};
struct BlockQ4_1 {
  uint16_t d, m;
  uint8_t qs[16];
};
struct BlockQ5_0 {
  uint16_t d;
  uint8_t qh[4];  // 5th bit of element j at bit j
  uint8_t qs[16];
};
struct BlockQ5_1 {
  uint16_t d, m;
  uint8_t qh[4];
  uint8_t qs[16];
};
struct BlockQ8_0 {
  uint16_t d;
  int8_t qs[32];
};
struct BlockQ8_1 {
  uint16_t d, s;  // s = d * sum(qs)
  int8_t qs[32];
};
struct BlockQ2_K {
  uint8_t scales[16];  // low nibble scale, high nibble min, per 16 elements
  uint8_t qs[64];
  uint16_t d, dmin;
};
struct BlockQ3_K {
  uint8_t hmask[32];
  uint8_t qs[64];
  uint8_t scales[12];  // 16 6-bit scales
  uint16_t d;
};
struct BlockQ4_K {
  uint16_t d, dmin;
  uint8_t scales[12];  // 8 6-bit scales + 8 6-bit mins
  uint8_t qs[128];
};
struct BlockQ5_K {
  uint16_t d, dmin;
  uint8_t scales[12];
  uint8_t qh[32];
  uint8_t qs[128];
};
struct BlockQ6_K {
  uint8_t ql[128];
  uint8_t qh[64];
  int8_t scales[16];
  uint16_t d;
};
struct BlockQ8_K {
  float d;
  int8_t qs[256];
  int16_t bsums[16];  // sums of groups of 16 qs
};
// Fills b.bsums from b.qs (the K-quant dot kernels use them for the weights' offsets).
inline void fill_q8_k_bsums(BlockQ8_K& b) {
  for (int j = 0; j < 16; ++j) {
    int sum = 0;
    for (int i = 0; i < 16; ++i) sum += b.qs[16 * j + i];
    b.bsums[j] = int16_t(sum);
  }
}
struct BlockIQ4_NL {
  uint16_t d;
  uint8_t qs[16];
};
struct BlockIQ4_XS {
  uint16_t d;
  uint16_t scales_h;
  uint8_t scales_l[4];
  uint8_t qs[128];
};
struct BlockMXFP4 {
  uint8_t e;  // E8M0 shared exponent
  uint8_t qs[16];
};

static_assert(sizeof(BlockQ4_0) == 18 && sizeof(BlockQ4_1) == 20 && sizeof(BlockQ5_0) == 22);
static_assert(sizeof(BlockQ5_1) == 24 && sizeof(BlockQ8_0) == 34 && sizeof(BlockQ8_1) == 36);
static_assert(sizeof(BlockQ2_K) == 84 && sizeof(BlockQ3_K) == 110 && sizeof(BlockQ4_K) == 144);
static_assert(sizeof(BlockQ5_K) == 176 && sizeof(BlockQ6_K) == 210 && sizeof(BlockQ8_K) == 292);
static_assert(sizeof(BlockIQ4_NL) == 18 && sizeof(BlockIQ4_XS) == 136 && sizeof(BlockMXFP4) == 17);

// Non-linear 4-bit codebooks (ggml-common.h); kMxfp4Values are E2M1 values doubled.
inline constexpr int8_t kIq4nlValues[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                            1,    13,   25,  38,  53,  69,  89,  113};
inline constexpr int8_t kMxfp4Values[16] = {0, 1,  2,  3,  4,  6,  8,  12,
                                            0, -1, -2, -3, -4, -6, -8, -12};

// Round to nearest, ties to even, via the 1.5*2^23 trick ggml uses (|x| < 2^22).
inline int nearest_int(float x) {
  float v = x + 12582912.f;
  int32_t i;
  std::memcpy(&i, &v, 4);
  return (i & 0x007fffff) - 0x00400000;
}

// E8M0 exponent to 0.5 * 2^(e-127) (the MXFP4 codebook is doubled).
inline float e8m0_to_f32_half(uint8_t e) {
  uint32_t bits = e < 2 ? 0x00200000u << e : uint32_t(e - 1) << 23;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// 6-bit scale/min j of a Q4_K/Q5_K block.
inline void scale_min_k4(int j, const uint8_t* q, uint8_t* sc, uint8_t* m) {
  if (j < 4) {
    *sc = q[j] & 63;
    *m = q[j + 4] & 63;
  } else {
    *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
    *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
  }
}

// 16 signed 6-bit scales of a Q3_K block (value - 32).
void unpack_q3_k_scales(const uint8_t* packed, int8_t* out);

// Fills the entries of the block formats rlx implements (dequantize/quantize/vec_dot).
void register_formats(QuantTraits* table);
void register_legacy(QuantTraits* table);  // quant_legacy.cpp
void register_k(QuantTraits* table);       // quant_k.cpp
void register_iq4(QuantTraits* table);     // quant_iq4.cpp

// Activation quantizers as ggml's x86 CPU backend runs them (round half to even, id=127/amax).
void quantize_act_q8_0(const float* src, void* dst, int64_t n);
void quantize_act_q8_1(const float* src, void* dst, int64_t n);

// Dot kernels: scalar references (dot_scalar.cpp) and AVX2 versions (dot_avx2.cpp,
// dot_k_avx2.cpp; null where the build has no AVX2). A null `rows` means no multi-row kernel:
// the traits table then loops over `one`.
struct DotKernels {
  VecDotFn one = nullptr;
  VecDotRowsFn rows = nullptr;
};
VecDotFn scalar_vec_dot(DType t);
DotKernels avx2_dot_kernels(DType t);
// SIMD row conversions, bit-identical to the scalar ones; null members where none exists.
struct Converters {
  DequantizeRowFn dequantize = nullptr;
  QuantizeRowFn quantize = nullptr;
};
Converters avx2_converters(DType t);
DotKernels avx2_k_dot_kernels(DType t);  // the K-quants

}  // namespace rlx::quant
