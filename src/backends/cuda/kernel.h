// The CUDA kernel interface, mirroring the CPU one: tensor views hold device pointers, and a
// kernel enqueues its work on the context's stream (it does not synchronize).
#pragma once
#include <array>
#include <span>

#include "backends/cuda/runtime.h"
#include "rlx/core/tensor.h"
#include "rlx/ir/graph.h"

namespace rlx::cuda {

struct KernelArgs {
  const ir::Node& node;
  std::span<const TensorView> in;  // device views (contiguous unless the op is elementwise)
  const TensorView& out;           // contiguous device output
  Context& ctx;
};

using KernelFn = void (*)(const KernelArgs&);

using KernelRegistry = ir::OpTable<KernelFn>;

// Every CUDA kernel (built on first use; registered explicitly, as on the CPU).
const KernelRegistry& cuda_kernels();

void register_basic_kernels(KernelRegistry& r);   // kernels.cpp
void register_linear_kernels(KernelRegistry& r);  // linear.cpp

}  // namespace rlx::cuda
