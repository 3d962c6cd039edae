// Native quantized weights on CUDA (Q4_0, Q8_0, Q4_K, Q5_K, Q6_K): the matrix-vector kernel
// (M <= 8), the dequantize-to-F16 + GEMM path (larger M) and quantized embedding tables,
// against the CPU running the same graph on the weight's to_f32 (the reference dequantizer).
#include "cuda/cuda_test_util.h"

namespace rlx::test {
namespace {

using ir::GraphBuilder;
using V = std::vector<ir::Value>;

constexpr DType kNative[] = {DType::Q4_0, DType::Q8_0, DType::Q4_K, DType::Q5_K, DType::Q6_K};

// `build` on the CPU with `ref` as the parameter and on CUDA with `dev`; max |Δ| <= tol +
// rel * max |cpu|.
void expect_param_variant(const Tensor& input, const Tensor& ref, const Tensor& dev,
                          const BuildFn& build, double tol, double rel, const std::string& what) {
  auto graph_with = [&](const Tensor& param, ir::Graph& g) {
    GraphBuilder b(g);
    V in{b.input("x", input.dtype(), input.shape())}, ps{b.param("w", param.view())};
    b.output("y", build(b, in, ps));
  };
  ir::Graph gc, gg;
  graph_with(ref, gc);
  graph_with(dev, gg);
  std::map<std::string, TensorView> feed{{"x", input.view()}};
  CompileOptions cpu;
  cpu.threads = 2;
  CompileOptions gpu = cpu;
  gpu.device = Device::cuda(0);
  Tensor want = Program::compile(gc, cpu).run(feed).at("y");
  Tensor got = Program::compile(gg, gpu).run(feed).at("y");
  Diff d = compare_tensors(want, got, what);
  EXPECT_LE(d.max_abs, tol + rel * d.max_ref) << what << " (max |cpu| " << d.max_ref << ")";
}

ir::Value linear(GraphBuilder& g, V& in, V& p) {
  return g.linear(in[0], p[0]);
}

TEST(CudaQuant, MatvecEveryTypeAndM) {
  RLX_REQUIRE_CUDA_DEVICE();
  for (DType t : kNative) {
    const int64_t K = block_size(t) == 256 ? 768 : 96;  // 3 blocks / super-blocks per row
    for (int64_t N : {37, 130}) {
      Tensor w = converted(random_tensor({N, K}, 40 + uint32_t(N)), t);
      Tensor ref = to_f32(w.view());
      for (int64_t M = 1; M <= 9; ++M) {  // M = 9 takes the GEMM path
        Tensor x = random_tensor({M, K}, 60 + uint32_t(M));
        // matvec: F32 activations and weights (summation order only); GEMM: F16 rounding.
        const double rel = M <= 8 ? 1e-5 : 4e-3;
        expect_param_variant(x, ref, w, linear, 1e-5, rel,
                             std::string("linear ") + dtype_name(t) + " N=" + std::to_string(N) +
                                 " M=" + std::to_string(M));
      }
    }
  }
}

TEST(CudaQuant, GemmLargerMAndBatchedInput) {
  RLX_REQUIRE_CUDA_DEVICE();
  for (DType t : kNative) {
    const int64_t K = 512, N = 75;
    Tensor w = converted(random_tensor({N, K}, 80), t);
    Tensor ref = to_f32(w.view());
    for (Shape s : {Shape{67, K}, Shape{2, 33, K}, Shape{2, 3, K}}) {
      Tensor x = random_tensor(s, 81);
      expect_param_variant(x, ref, w, linear, 1e-5, 4e-3,
                           std::string("linear ") + dtype_name(t) + " x " + s.str());
    }
  }
}

TEST(CudaQuant, F16MatvecMatchesCpu) {
  RLX_REQUIRE_CUDA_DEVICE();
  Tensor w = converted(random_tensor({45, 200}, 90), DType::F16);
  for (int64_t M : {1, 3, 8}) {
    Tensor x = random_tensor({M, 200}, 91 + uint32_t(M));
    // Both round the activations to F16 and accumulate in F32.
    expect_param_variant(x, w, w, linear, 1e-5, 2e-6, "linear F16 matvec M=" + std::to_string(M));
  }
}

TEST(CudaQuant, EmbeddingQuantizedTables) {
  RLX_REQUIRE_CUDA_DEVICE();
  Tensor table = random_tensor({50, 512}, 95), ids = random_ids({2, 3}, 50, 96);
  auto embed = [](GraphBuilder& g, V& in, V& p) { return g.embedding(p[0], in[0]); };
  for (DType t : kNative) {
    Tensor q = converted(table, t);
    expect_param_variant(ids, to_f32(q.view()), q, embed, 1e-6, 0,
                         std::string("embedding ") + dtype_name(t));
  }
  // Not native: expanded to F16 at upload.
  Tensor q = converted(table, DType::Q5_0);
  expect_param_variant(ids, to_f32(q.view()), q, embed, 2e-3, 0, "embedding Q5_0 (as F16)");
}

TEST(CudaQuant, NonNativeTypeStillRuns) {
  RLX_REQUIRE_CUDA_DEVICE();
  Tensor w = converted(random_tensor({21, 256}, 97), DType::Q3_K);
  for (int64_t M : {1, 12}) {
    Tensor x = random_tensor({M, 256}, 98);
    expect_param_variant(x, to_f32(w.view()), w, linear, 1e-5, 4e-3,
                         "linear Q3_K (as F16) M=" + std::to_string(M));
  }
}

}  // namespace
}  // namespace rlx::test
