// Elementwise kernels (strided, broadcast inputs; contiguous output), data movement
// (copy, cast, concat, pad), embedding gather and the small helpers of the GEMM path.
#include "backends/cuda/common.cuh"

namespace rlx::cuda {
namespace {

__global__ void k_binary(Binary op, const float* a, Layout la, const float* b, Layout lb,
                         float* out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    const float x = a[strided_offset(la, i)], y = b[strided_offset(lb, i)];
    float r;
    switch (op) {
      case Binary::Add:
        r = x + y;
        break;
      case Binary::Sub:
        r = x - y;
        break;
      case Binary::Mul:
        r = x * y;
        break;
      default:
        r = x / y;
    }
    out[i] = r;
  }
}

__device__ float unary_op(Unary op, float x, float p0, float p1) {
  switch (op) {
    case Unary::Scale:
      return x * p0 + p1;
    case Unary::Silu:
      return x / (1.f + expf(-x));
    case Unary::GeluErf:
      return 0.5f * x * (1.f + erff(x * 0.70710678118654752f));
    case Unary::GeluTanh:
      return 0.5f * x * (1.f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
    case Unary::Relu:
      return x > 0.f ? x : 0.f;
    case Unary::Sigmoid:
      return 1.f / (1.f + expf(-x));
    case Unary::Tanh:
      return tanhf(x);
    case Unary::Exp:
      return expf(x);
    case Unary::Log:
      return logf(x);
    case Unary::Softplus:
      return x > 20.f ? x : log1pf(expf(x));
    case Unary::Sqrt:
      return sqrtf(x);
    case Unary::Abs:
      return fabsf(x);
    case Unary::Neg:
      return -x;
    default:  // Pow
      return p0 == 2.f ? x * x : powf(x, p0);
  }
}

__global__ void k_unary(Unary op, const float* x, Layout lx, float* out, int64_t n, float p0,
                        float p1) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    out[i] = unary_op(op, x[strided_offset(lx, i)], p0, p1);
}

__device__ void store_from_double(void* p, DType t, int64_t i, double v) {
  switch (t) {
    case DType::F32:
      static_cast<float*>(p)[i] = float(v);
      break;
    case DType::F16:
      static_cast<__half*>(p)[i] = __float2half(float(v));
      break;
    case DType::BF16:
      static_cast<__nv_bfloat16*>(p)[i] = __float2bfloat16(float(v));
      break;
    case DType::F64:
      static_cast<double*>(p)[i] = v;
      break;
    case DType::I32:
      static_cast<int32_t*>(p)[i] = int32_t(v);
      break;
    case DType::I64:
      static_cast<int64_t*>(p)[i] = int64_t(v);
      break;
    case DType::I8:
      static_cast<int8_t*>(p)[i] = int8_t(v);
      break;
    case DType::Bool:
      static_cast<uint8_t*>(p)[i] = v != 0;
      break;
    default:  // U8
      static_cast<uint8_t*>(p)[i] = uint8_t(v);
  }
}

__global__ void k_cast(const void* x, DType xt, Layout lx, void* out, DType ot, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    store_from_double(out, ot, i, load_as_double(x, xt, strided_offset(lx, i)));
}

template <class T>
__global__ void k_copy(const T* x, Layout lx, T* out, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x)
    out[i] = x[strided_offset(lx, i)];
}

template <class T>
__global__ void k_concat(const T* x, int64_t outer, int64_t part_inner, T* out, int64_t out_inner,
                         int64_t at) {
  const int64_t n = outer * part_inner;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t o = i / part_inner, j = i % part_inner;
    out[o * out_inner + at + j] = x[i];
  }
}

template <class T>
__global__ void k_pad(const T* x, int64_t outer, int64_t n, int64_t inner, T* out, int64_t m,
                      int64_t before, bool reflect) {
  const int64_t total = outer * m * inner;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t c = e % inner, j = (e / inner) % m, o = e / (inner * m);
    int64_t i = j - before;
    if (i < 0 || i >= n) {
      if (!reflect) {
        out[e] = T(0);
        continue;
      }
      i = i < 0 ? -i : 2 * (n - 1) - i;  // reflect without repeating the edge
    }
    out[e] = x[(o * n + i) * inner + c];
  }
}

__global__ void k_embedding(const void* table, DType tt, int64_t V, int64_t D, const void* ids,
                            bool ids64, int64_t T, float* out, int* err) {
  allow_next_kernel();  // the decode linears after it start early (PDL)
  const int64_t n = T * D;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n;
       e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t t = e / D, d = e % D;
    const int64_t id =
        ids64 ? static_cast<const int64_t*>(ids)[t] : static_cast<const int32_t*>(ids)[t];
    if (id < 0 || id >= V) {
      out[e] = 0.f;
      atomicExch(err, kErrTokenRange);
      continue;
    }
    out[e] = float(load_as_double(table, tt, id * D + d));
  }
}

__global__ void k_to_half(const float* x, void* out, bool bf16, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n;
       i += int64_t(gridDim.x) * blockDim.x) {
    if (bf16)
      static_cast<__nv_bfloat16*>(out)[i] = __float2bfloat16(x[i]);
    else
      static_cast<__half*>(out)[i] = __float2half(x[i]);
  }
}

__global__ void k_add_bias(float* y, const float* bias, int64_t rows, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < rows * n;
       i += int64_t(gridDim.x) * blockDim.x)
    y[i] += bias[i % n];
}

}  // namespace

void launch_binary(Binary op, const float* a, Layout la, const float* b, Layout lb, float* out,
                   int64_t n, cudaStream_t s) {
  if (n == 0) return;
  k_binary<<<grid_for(n), kThreads, 0, s>>>(op, a, la, b, lb, out, n);
  RLX_CUDA_LAUNCHED();
}

void launch_unary(Unary op, const float* x, Layout lx, float* out, int64_t n, float p0, float p1,
                  cudaStream_t s) {
  if (n == 0) return;
  k_unary<<<grid_for(n), kThreads, 0, s>>>(op, x, lx, out, n, p0, p1);
  RLX_CUDA_LAUNCHED();
}

void launch_cast(const void* x, DType xt, Layout lx, void* out, DType ot, int64_t n,
                 cudaStream_t s) {
  if (n == 0) return;
  k_cast<<<grid_for(n), kThreads, 0, s>>>(x, xt, lx, out, ot, n);
  RLX_CUDA_LAUNCHED();
}

void launch_copy(const void* x, Layout lx, int64_t elem_bytes, void* out, int64_t n,
                 cudaStream_t s) {
  if (n == 0) return;
  const unsigned g = grid_for(n);
  switch (elem_bytes) {
    case 1:
      k_copy<<<g, kThreads, 0, s>>>(static_cast<const uint8_t*>(x), lx, static_cast<uint8_t*>(out),
                                    n);
      break;
    case 2:
      k_copy<<<g, kThreads, 0, s>>>(static_cast<const uint16_t*>(x), lx,
                                    static_cast<uint16_t*>(out), n);
      break;
    case 4:
      k_copy<<<g, kThreads, 0, s>>>(static_cast<const uint32_t*>(x), lx,
                                    static_cast<uint32_t*>(out), n);
      break;
    default:
      k_copy<<<g, kThreads, 0, s>>>(static_cast<const uint64_t*>(x), lx,
                                    static_cast<uint64_t*>(out), n);
  }
  RLX_CUDA_LAUNCHED();
}

void launch_concat_part(const void* x, int64_t outer, int64_t part_inner, void* out,
                        int64_t out_inner, int64_t at, int64_t elem_bytes, cudaStream_t s) {
  const int64_t n = outer * part_inner;
  if (n == 0) return;
  const unsigned g = grid_for(n);
  switch (elem_bytes) {
    case 1:
      k_concat<<<g, kThreads, 0, s>>>(static_cast<const uint8_t*>(x), outer, part_inner,
                                      static_cast<uint8_t*>(out), out_inner, at);
      break;
    case 2:
      k_concat<<<g, kThreads, 0, s>>>(static_cast<const uint16_t*>(x), outer, part_inner,
                                      static_cast<uint16_t*>(out), out_inner, at);
      break;
    case 4:
      k_concat<<<g, kThreads, 0, s>>>(static_cast<const uint32_t*>(x), outer, part_inner,
                                      static_cast<uint32_t*>(out), out_inner, at);
      break;
    default:
      k_concat<<<g, kThreads, 0, s>>>(static_cast<const uint64_t*>(x), outer, part_inner,
                                      static_cast<uint64_t*>(out), out_inner, at);
  }
  RLX_CUDA_LAUNCHED();
}

void launch_pad(const void* x, int64_t outer, int64_t n, int64_t inner, void* out, int64_t m,
                int64_t before, bool reflect, int64_t elem_bytes, cudaStream_t s) {
  const int64_t total = outer * m * inner;
  if (total == 0) return;
  const unsigned g = grid_for(total);
  switch (elem_bytes) {
    case 1:
      k_pad<<<g, kThreads, 0, s>>>(static_cast<const uint8_t*>(x), outer, n, inner,
                                   static_cast<uint8_t*>(out), m, before, reflect);
      break;
    case 2:
      k_pad<<<g, kThreads, 0, s>>>(static_cast<const uint16_t*>(x), outer, n, inner,
                                   static_cast<uint16_t*>(out), m, before, reflect);
      break;
    case 4:
      k_pad<<<g, kThreads, 0, s>>>(static_cast<const uint32_t*>(x), outer, n, inner,
                                   static_cast<uint32_t*>(out), m, before, reflect);
      break;
    default:
      k_pad<<<g, kThreads, 0, s>>>(static_cast<const uint64_t*>(x), outer, n, inner,
                                   static_cast<uint64_t*>(out), m, before, reflect);
  }
  RLX_CUDA_LAUNCHED();
}

void launch_embedding(const void* table, DType tt, int64_t V, int64_t D, const void* ids,
                      bool ids64, int64_t T, float* out, int* err, cudaStream_t s) {
  if (T * D == 0) return;
  k_embedding<<<grid_for(T * D), kThreads, 0, s>>>(table, tt, V, D, ids, ids64, T, out, err);
  RLX_CUDA_LAUNCHED();
}

void launch_to_half(const float* x, void* out, DType ot, int64_t n, cudaStream_t s) {
  if (n == 0) return;
  k_to_half<<<grid_for(n), kThreads, 0, s>>>(x, out, ot == DType::BF16, n);
  RLX_CUDA_LAUNCHED();
}

void launch_add_bias(float* y, const float* bias, int64_t rows, int64_t n, cudaStream_t s) {
  if (rows * n == 0) return;
  k_add_bias<<<grid_for(rows * n), kThreads, 0, s>>>(y, bias, rows, n);
  RLX_CUDA_LAUNCHED();
}

}  // namespace rlx::cuda
