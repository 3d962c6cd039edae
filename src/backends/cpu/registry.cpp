#include "backends/cpu/kernel.h"

namespace rlx::cpu {

const KernelRegistry& cpu_kernels() {
  static const KernelRegistry r = [] {
    KernelRegistry k;
    register_elementwise_kernels(k);
    register_linear_kernels(k);
    register_norm_kernels(k);
    register_attention_kernels(k);
    register_shape_kernels(k);
    register_conv_kernels(k);
    register_reduce_kernels(k);
    return k;
  }();
  return r;
}

}  // namespace rlx::cpu
