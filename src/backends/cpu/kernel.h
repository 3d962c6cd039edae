// The CPU kernel interface. Kernels are registered explicitly (register_cpu_kernels), never
// through static initializers, so static linking cannot drop them.
#pragma once
#include <array>
#include <span>

#include "rlx/core/tensor.h"
#include "rlx/core/thread_pool.h"
#include "rlx/ir/graph.h"

namespace rlx::cpu {

struct KernelArgs {
  const ir::Node& node;
  std::span<const TensorView> in;  // views of the node's inputs (contiguous unless elementwise)
  const TensorView& out;           // contiguous output buffer
  ThreadPool& pool;
};

using KernelFn = void (*)(const KernelArgs&);

using KernelRegistry = ir::OpTable<KernelFn>;

// The registry with every CPU kernel (built on first use).
const KernelRegistry& cpu_kernels();

// Per-family registration functions (one per kernel file).
void register_elementwise_kernels(KernelRegistry& r);
void register_linear_kernels(KernelRegistry& r);
void register_norm_kernels(KernelRegistry& r);
void register_attention_kernels(KernelRegistry& r);
void register_shape_kernels(KernelRegistry& r);
void register_conv_kernels(KernelRegistry& r);
void register_reduce_kernels(KernelRegistry& r);

}  // namespace rlx::cpu
