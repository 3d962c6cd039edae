// Included first by every quant source. Bit-exactness with ggml needs each float multiply
// and add rounded on its own: keep the compiler from fusing them into FMAs under
// -march=native (GCC contracts across statements by default, even in C++; clang within an
// expression). SIMD code that wants FMA uses the intrinsics, which this does not affect.
#pragma once

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
