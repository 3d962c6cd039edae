#include "backends/cuda/kernel.h"

namespace rlx::cuda {

const KernelRegistry& cuda_kernels() {
  static const KernelRegistry r = [] {
    KernelRegistry k;
    register_basic_kernels(k);
    register_linear_kernels(k);
    return k;
  }();
  return r;
}

}  // namespace rlx::cuda
