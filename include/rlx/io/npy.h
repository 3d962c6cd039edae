// NumPy .npy files (C order, little-endian): the array format rlx exchanges with other tools.
#pragma once
#include <string>

#include "rlx/core/tensor.h"

namespace rlx::io {

// Writes a plain-dtype view (F32, F16, F64, I32, I64, U8, Bool ...) atomically.
void write_npy(const std::string& path, const TensorView& v);
// Reads an .npy file into a tensor of the matching dtype. Throws rlx::Error on malformed files.
Tensor read_npy(const std::string& path);

}  // namespace rlx::io
