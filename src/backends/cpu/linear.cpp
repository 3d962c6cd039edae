// Linear (y = x·Wᵀ + b) over F32/F16/BF16/block-quantized weights, embedding lookup, matmul.
// Weights are read in their own dtype: 16-bit rows are converted one row at a time into a
// per-thread buffer; quantized rows go through the dtype's dot kernel against activations
// quantized once per call (as llama.cpp does), or are dequantized per row when the type has
// no dot kernel.
#include <algorithm>
#include <vector>

#include "backends/cpu/gemm.h"
#include "backends/cpu/kernel.h"
#include "backends/cpu/simd.h"
#include "rlx/core/error.h"
#include "rlx/core/half.h"
#include "rlx/core/quant.h"

namespace rlx::cpu {
namespace {

using ir::OpKind;

// Rows of W per work item: enough to amortize scheduling, small enough to balance threads.
constexpr int64_t kRowGrain = 16;
// Weight rows per tile when a few activation rows share them (64 rows of K = 3072 Q4_K: 108 KiB).
constexpr int64_t kWeightTile = 64;
// From this many activation rows on, weights are expanded to floats 16 rows at a time and
// multiplied by the packed GEMM: the expansion is paid once per call, not once per token.
constexpr int64_t kGemmMinRows = 16;

std::vector<float>& thread_buffer(size_t n) {
  thread_local std::vector<float> buf;
  if (buf.size() < n) buf.resize(n);
  return buf;
}

std::vector<uint8_t>& thread_bytes(size_t n) {
  thread_local std::vector<uint8_t> buf;
  if (buf.size() < n) buf.resize(n);
  return buf;
}

// The many-row path. Activations first take the rounding the dot kernels would give them
// (Q8_K, Q8_0, F16... per the weight type), so prefill and decode compute the same products
// and results still match llama.cpp's; only the summation order differs.
void linear_gemm(const float* px, int64_t M, int64_t K, int64_t N, DType wt, const char* pw,
                 int64_t row_bytes, float* py, ThreadPool& pool) {
  const QuantTraits& qt = quant_traits(wt);
  const bool round = qt.vec_dot && qt.vec_dot_type != DType::F32;
  const DType at = qt.vec_dot_type;
  gemm_f32_bt(
      [&](int64_t m, int64_t k0, int64_t kc, float* scratch) -> const float* {
        if (!round) return px + m * K + k0;
        std::vector<uint8_t>& q = thread_bytes(size_t(dtype_bytes(at, kc)));
        quantize_activation_row(at, px + m * K + k0, q.data(), kc);
        dequantize_row(at, q.data(), scratch, kc);
        return scratch;
      },
      M, K, N,
      [&](int64_t n0, int64_t rows, int64_t k0, int64_t kc, float* dst) {
        const int64_t skip = dtype_bytes(wt, k0);
        for (int64_t r = 0; r < rows; ++r)
          dequantize_row(wt, pw + (n0 + r) * row_bytes + skip, dst + r * kc, kc);
      },
      [&](int64_t n0, int64_t rows, int64_t k0, int64_t kc) {
        const int64_t skip = dtype_bytes(wt, k0), bytes = dtype_bytes(wt, kc);
        for (int64_t r = 0; r < rows; ++r) {
          const char* p = pw + (n0 + r) * row_bytes + skip;
          for (int64_t b = 0; b < bytes; b += 64) __builtin_prefetch(p + b);
        }
      },
      py, pool,
      wt == DType::F16 && row_bytes == 2 * K ? reinterpret_cast<const uint16_t*>(pw) : nullptr);
}

void k_linear(const KernelArgs& a) {
  const TensorView& x = a.in[0];
  const TensorView& w = a.in[1];
  const float* bias = nullptr;
  if (a.in.size() > 2) {
    RLX_CHECK(a.in[2].dtype == DType::F32, "linear bias must be F32 (got {})",
              dtype_name(a.in[2].dtype));
    bias = a.in[2].ptr<float>();
  }
  const int64_t K = w.shape[1], N = w.shape[0], M = x.numel() / K;
  const float* px = x.ptr<float>();
  float* py = a.out.ptr<float>();
  const char* pw = static_cast<const char*>(w.data);
  const int64_t row_bytes = dtype_bytes(w.dtype, K);
  const DType wt = w.dtype;

  auto finish = [&](int64_t n0, int64_t n1) {
    if (!bias) return;
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = n0; n < n1; ++n) py[m * N + n] += bias[n];
  };

  if (M >= kGemmMinRows && can_dequantize(wt)) {
    linear_gemm(px, M, K, N, wt, pw, row_bytes, py, a.pool);
    for (int64_t m = 0; bias && m < M; ++m)
      for (int64_t n = 0; n < N; ++n) py[m * N + n] += bias[n];
    return;
  }
  if (wt == DType::F32) {
    a.pool.parallel_for(N, kRowGrain, [&](int64_t n0, int64_t n1) {
      for (int64_t n = n0; n < n1; ++n) {
        const float* wr = reinterpret_cast<const float*>(pw) + n * K;
        for (int64_t m = 0; m < M; ++m) py[m * N + n] = dot_f32(px + m * K, wr, K);
      }
      finish(n0, n1);
    });
    return;
  }
  const QuantTraits& qt = quant_traits(wt);
  if (qt.vec_dot) {
    // F16/BF16/block weights (few activation rows: decode): activations converted once to the
    // dot kernel's format (as ggml does), shared by every thread. The multi-row kernel walks a
    // tile of weight rows per activation row; the tile stays in L2 for the next activation row.
    const int64_t act_row_bytes = dtype_bytes(qt.vec_dot_type, K);
    thread_local std::vector<uint8_t> act;
    act.resize(size_t(act_row_bytes * M));
    for (int64_t m = 0; m < M; ++m)
      quantize_activation_row(qt.vec_dot_type, px + m * K, act.data() + m * act_row_bytes, K);
    const uint8_t* pact = act.data();
    a.pool.parallel_for(N, kRowGrain, [&](int64_t n0, int64_t n1) {
      const int64_t tile = M == 1 ? n1 - n0 : kWeightTile;
      for (int64_t t0 = n0; t0 < n1; t0 += tile) {
        const int64_t t1 = std::min(n1, t0 + tile);
        for (int64_t m = 0; m < M; ++m)
          qt.vec_dot_rows(pw + t0 * row_bytes, size_t(row_bytes), int(t1 - t0),
                          pact + m * act_row_bytes, K, py + m * N + t0);
      }
      finish(n0, n1);
    });
    return;
  }
  RLX_CHECK(qt.dequantize != nullptr, "linear: weight type {} is not supported", dtype_name(wt));
  a.pool.parallel_for(N, kRowGrain, [&](int64_t n0, int64_t n1) {
    std::vector<float>& row = thread_buffer(size_t(K));
    for (int64_t n = n0; n < n1; ++n) {
      qt.dequantize(pw + n * row_bytes, row.data(), K);
      for (int64_t m = 0; m < M; ++m) py[m * N + n] = dot_f32(px + m * K, row.data(), K);
    }
    finish(n0, n1);
  });
}

void k_embedding(const KernelArgs& a) {
  const TensorView& table = a.in[0];
  const TensorView& ids = a.in[1];
  const int64_t V = table.shape[0], D = table.shape[1], T = ids.numel();
  std::vector<int64_t> rows(static_cast<size_t>(T));
  for (int64_t t = 0; t < T; ++t) {
    int64_t id = ids.dtype == DType::I32 ? ids.ptr<int32_t>()[t] : ids.ptr<int64_t>()[t];
    RLX_CHECK(id >= 0 && id < V, "token id {} is out of range for a vocabulary of {}", id, V);
    rows[size_t(t)] = id;
  }
  RLX_CHECK(can_dequantize(table.dtype), "embedding table type {} is not supported",
            dtype_name(table.dtype));
  const char* pt = static_cast<const char*>(table.data);
  const int64_t row_bytes = dtype_bytes(table.dtype, D);
  float* out = a.out.ptr<float>();
  a.pool.parallel_for(T, 4, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t)
      dequantize_row(table.dtype, pt + rows[size_t(t)] * row_bytes, out + t * D, D, "embedding");
  });
}

void k_matmul(const KernelArgs& a) {
  const TensorView& A = a.in[0];
  const TensorView& B = a.in[1];
  RLX_CHECK(A.dtype == DType::F32 && B.dtype == DType::F32, "matmul supports F32 only on CPU");
  const bool tb = a.node.attrs.transpose_b;
  const int64_t M = A.shape.at(-2), K = A.shape.at(-1), N = a.out.shape.at(-1);
  const int64_t batch = A.numel() / (M * K);
  const bool b_batched = B.rank() == A.rank() && B.rank() > 2;
  const float* pa = A.ptr<float>();
  const float* pb = B.ptr<float>();
  float* po = a.out.ptr<float>();
  a.pool.parallel_for(batch * M, 1, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t bi = r / M;
      const float* arow = pa + r * K;
      const float* bm = pb + (b_batched ? bi * K * N : 0);
      float* orow = po + r * N;
      if (tb) {
        for (int64_t n = 0; n < N; ++n) orow[n] = dot_f32(arow, bm + n * K, K);
      } else {
        for (int64_t n = 0; n < N; ++n) orow[n] = 0.f;
        for (int64_t k = 0; k < K; ++k) axpy_f32(arow[k], bm + k * N, orow, N);
      }
    }
  });
}

}  // namespace

void register_linear_kernels(KernelRegistry& r) {
  r.add(OpKind::Linear, k_linear);
  r.add(OpKind::Embedding, k_embedding);
  r.add(OpKind::MatMul, k_matmul);
}

}  // namespace rlx::cpu
