#include "backends/cuda/cublas_api.h"

#include <dlfcn.h>

#include <string>
#include <type_traits>

#include "rlx/core/error.h"

namespace rlx::cuda {
namespace {

CublasApi load() {
  void* lib = nullptr;
  std::string why;
  for (const char* name : {"libcublas.so.13", "libcublas.so"}) {
    lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (lib) break;
    why += std::string(why.empty() ? "" : "; ") + dlerror();
  }
  RLX_CHECK(lib != nullptr, "cuBLAS (libcublas.so.13) could not be loaded: {}", why);
  auto sym = [&](auto& fn, const char* name) {
    fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, name));
    RLX_CHECK(fn != nullptr, "cuBLAS: function {} not found in libcublas", name);
  };
  CublasApi api;
  sym(api.create, "cublasCreate_v2");
  sym(api.destroy, "cublasDestroy_v2");
  sym(api.set_stream, "cublasSetStream_v2");
  sym(api.set_math_mode, "cublasSetMathMode");
  sym(api.sgemm, "cublasSgemm_v2");
  sym(api.gemm_ex, "cublasGemmEx");
  sym(api.sgemm_strided_batched, "cublasSgemmStridedBatched");
  sym(api.status_string, "cublasGetStatusString");
  sym(api.status_name, "cublasGetStatusName");
  return api;  // the library stays open for the life of the process
}

}  // namespace

const CublasApi& cublas_api() {
  static const CublasApi api = load();
  return api;
}

}  // namespace rlx::cuda
