#include "core/quant/quant_formats.h"
namespace rlx::quant {
VecDotFn avx2_vec_dot(DType) { return nullptr; }
}  // namespace rlx::quant
