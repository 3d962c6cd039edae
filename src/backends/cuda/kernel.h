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

// Fused launches (fusion.cpp): consecutive program steps done by one kernel, chosen when a
// program is prepared (see program_device.cpp). Each returns false, having launched nothing,
// when the operands do not fit; the caller then runs the steps one by one.
// Decode linears (decode_linear.cu) with what surrounds them: up to kGemvMaxParts linears of
// one input; RMSNorm then its linears; [RMSNorm,] gate and up linears, SiLU(gate) · up; a
// linear then the residual Add.
bool fused_linears(std::span<const KernelArgs> linears);
bool fused_norm_linears(const KernelArgs& norm, std::span<const KernelArgs> linears);
bool fused_glu_linears(const KernelArgs* norm, std::span<const KernelArgs> gate_up,
                       const KernelArgs& silu, const KernelArgs& mul);
bool fused_linear_add(const KernelArgs& linear, const KernelArgs& add);
bool fused_silu_mul(const KernelArgs& silu, const KernelArgs& mul);
bool fused_add_rms_norm(const KernelArgs& add, const KernelArgs& norm);
// One or two RoPEs of the same positions (q and k), each after its RMSNorm (norms[i]) or not
// (null), in one launch.
bool fused_norm_rope(std::span<const KernelArgs* const> norms, std::span<const KernelArgs> ropes);

void register_basic_kernels(KernelRegistry& r);   // kernels.cpp
void register_linear_kernels(KernelRegistry& r);  // linear.cpp

}  // namespace rlx::cuda
