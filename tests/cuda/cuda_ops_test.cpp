// Op conformance on CUDA: every op the CUDA backend has, against the CPU kernels (which
// tests/ops checks against double-precision references), with odd sizes and strided views.
#include "cuda/cuda_test_util.h"
#include "rlx/core/quant.h"

namespace rlx::test {
namespace {

using ir::GraphBuilder;
using ir::OpKind;
using ir::Value;
using V = std::vector<Value>;

TEST(CudaRuntime, MissingDeviceIsAClearError) {
  ir::Graph g;
  GraphBuilder b(g);
  b.output("y", b.silu(b.input("x", DType::F32, {4})));
  CompileOptions opt;
  opt.device = Device::cuda(97);
  try {
    Program::compile(g, opt);
    FAIL() << "compiling for cuda:97 should throw";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("CUDA device 97 is not available"), std::string::npos)
        << e.what();
  }
}

TEST(CudaRuntime, DeviceInfo) {
  RLX_REQUIRE_CUDA_DEVICE();
  cuda::DeviceInfo d = cuda::device_info(0);
  EXPECT_FALSE(d.name.empty());
  EXPECT_GE(d.sm_major, 8);
  EXPECT_GT(d.free_bytes, 0);
  std::printf("device 0: %s, sm_%d%d, %d SMs, %.1f GiB\n", d.name.c_str(), d.sm_major, d.sm_minor,
              d.multiprocessors, double(d.total_bytes) / double(1 << 30));
}

TEST(CudaOps, BinaryBroadcastAndStrided) {
  RLX_REQUIRE_CUDA_DEVICE();
  Tensor a = random_tensor({3, 5, 7}, 1), b = random_tensor({5, 1}, 2, 0.5f, 2.f),
         c = random_tensor({7, 5, 3}, 3);
  for (OpKind op : {OpKind::Add, OpKind::Sub, OpKind::Mul, OpKind::Div}) {
    expect_cuda_matches_cpu(
        {{"a", a}, {"b", b}}, {},
        [&](GraphBuilder& g, V& in, V&) {
          switch (op) {
            case OpKind::Add:
              return g.add(in[0], in[1]);
            case OpKind::Sub:
              return g.sub(in[0], in[1]);
            case OpKind::Mul:
              return g.mul(in[0], in[1]);
            default:
              return g.div(in[0], in[1]);
          }
        },
        1e-6, std::string("broadcast ") + ir::op_name(op));
  }
  // A permuted (strided) operand is read in place by the elementwise kernels.
  expect_cuda_matches_cpu(
      {{"a", a}, {"c", c}}, {},
      [](GraphBuilder& g, V& in, V&) {
        return g.mul(in[0], g.permute(in[1], {2, 1, 0}));
      },
      1e-6, "strided mul");
}

TEST(CudaOps, Unary) {
  RLX_REQUIRE_CUDA_DEVICE();
  Tensor x = random_tensor({4, 33}, 4, -4.f, 4.f), pos = random_tensor({4, 33}, 5, 0.1f, 4.f);
  for (OpKind op : {OpKind::Silu, OpKind::GeluErf, OpKind::GeluTanh, OpKind::Relu, OpKind::Sigmoid,
                    OpKind::Tanh, OpKind::Exp, OpKind::Softplus, OpKind::Abs, OpKind::Neg})
    expect_cuda_matches_cpu(
        {{"x", x}}, {}, [&](GraphBuilder& g, V& in, V&) { return g.unary(op, in[0]); }, 1e-5,
        ir::op_name(op), 1e-6);
  for (OpKind op : {OpKind::Log, OpKind::Sqrt})
    expect_cuda_matches_cpu(
        {{"x", pos}}, {}, [&](GraphBuilder& g, V& in, V&) { return g.unary(op, in[0]); }, 1e-6,
        ir::op_name(op));
  expect_cuda_matches_cpu(
      {{"x", x}}, {}, [](GraphBuilder& g, V& in, V&) { return g.scale(in[0], 0.3f, -1.5f); }, 1e-6,
      "scale");
  for (float e : {2.f, 3.f})
    expect_cuda_matches_cpu(
        {{"x", pos}}, {}, [&](GraphBuilder& g, V& in, V&) { return g.pow(in[0], e); }, 1e-5, "pow",
        1e-6);
  expect_cuda_matches_cpu(
      {{"x", x}}, {}, [](GraphBuilder& g, V& in, V&) { return g.tanh(g.transpose(in[0], 0, 1)); },
      1e-6, "strided tanh");
}

TEST(CudaOps, CastCopyConcatPadSlice) {
  RLX_REQUIRE_CUDA_DEVICE();
  Tensor x = random_tensor({3, 4, 5}, 6, -50.f, 50.f), y = random_tensor({3, 2, 5}, 7);
  for (DType t : {DType::F16, DType::BF16, DType::I32, DType::F64})
    expect_cuda_matches_cpu(
        {{"x", x}}, {},
        [&](GraphBuilder& g, V& in, V&) {
          return g.cast(g.permute(in[0], {2, 0, 1}), t);
        },
        0, std::string("cast to ") + dtype_name(t));
  expect_cuda_matches_cpu(
      {{"x", x}}, {},
      [](GraphBuilder& g, V& in, V&) {
        return g.reshape(g.permute(in[0], {1, 2, 0}), {4, 15});
      },
      0, "copy of a permuted view");
  expect_cuda_matches_cpu(
      {{"x", x}, {"y", y}}, {},
      [](GraphBuilder& g, V& in, V&) {
        return g.concat({in[0], in[1], in[0]}, 1);
      },
      0, "concat");
  for (auto mode : {ir::PadMode::Zero, ir::PadMode::Reflect})
    expect_cuda_matches_cpu(
        {{"x", x}}, {}, [&](GraphBuilder& g, V& in, V&) { return g.pad(in[0], 2, 2, 3, mode); }, 0,
        "pad");
  expect_cuda_matches_cpu(
      {{"x", x}}, {}, [](GraphBuilder& g, V& in, V&) { return g.copy(g.slice(in[0], 2, 1, 5, 2)); },
      0, "strided slice as an output");
  expect_cuda_matches_cpu(
      {{"x", x}}, {}, [](GraphBuilder& g, V& in, V&) { return g.slice(in[0], 1, 1, 3); }, 0,
      "slice view downloaded");
}

TEST(CudaOps, EmbeddingEveryTableType) {
  RLX_REQUIRE_CUDA_DEVICE();
  Tensor table = random_tensor({50, 256}, 8), ids = random_ids({2, 3}, 50, 9);
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::Q8_0, DType::Q4_K, DType::Q6_K}) {
    Tensor w = t == DType::F32 ? table : converted(table, t);
    // Quantized tables stay quantized on the device (exact rows; cuda_quant_test checks every
    // native type at tolerance 1e-6); 2e-3 also covers types expanded to F16 on upload.
    const double tol = is_quantized(t) ? 2e-3 : 0;
    expect_cuda_matches_cpu(
        {{"ids", ids}}, {{"table", w}},
        [](GraphBuilder& g, V& in, V& p) { return g.embedding(p[0], in[0]); }, tol,
        std::string("embedding ") + dtype_name(t));
  }
}

TEST(CudaOps, LinearAndMatMul) {
  RLX_REQUIRE_CUDA_DEVICE();
  Tensor x = random_tensor({2, 7, 64}, 10), w = random_tensor({37, 64}, 11),
         bias = random_tensor({37}, 12);
  expect_cuda_matches_cpu(
      {{"x", x}}, {{"w", w}, {"b", bias}},
      [](GraphBuilder& g, V& in, V& p) { return g.linear(in[0], p[0], p[1]); }, 1e-5,
      "linear F32 + bias");
  for (DType t : {DType::F16, DType::BF16})
    expect_cuda_matches_cpu(
        {{"x", x}}, {{"w", converted(w, t)}},
        [](GraphBuilder& g, V& in, V& p) { return g.linear(in[0], p[0]); }, 1e-4,
        std::string("linear ") + dtype_name(t));
  // Quantized weights: F32 activations on the device (matrix-vector kernel) vs the CPU's 8-bit
  // activation rounding (cuda_quant_test compares against the weights' to_f32).
  for (DType t : {DType::Q8_0, DType::Q4_K, DType::Q6_K}) {
    Tensor wk = random_tensor({37, 256}, 13), xk = random_tensor({3, 256}, 14);
    expect_cuda_matches_cpu(
        {{"x", xk}}, {{"w", converted(wk, t)}},
        [](GraphBuilder& g, V& in, V& p) { return g.linear(in[0], p[0]); }, 0,
        std::string("linear ") + dtype_name(t), 2e-2);
  }
  Tensor a = random_tensor({2, 3, 5, 8}, 15), bn = random_tensor({2, 3, 8, 6}, 16),
         bt = random_tensor({2, 3, 6, 8}, 17), shared = random_tensor({8, 6}, 18);
  expect_cuda_matches_cpu(
      {{"a", a}, {"b", bn}}, {}, [](GraphBuilder& g, V& in, V&) { return g.matmul(in[0], in[1]); },
      1e-5, "matmul");
  expect_cuda_matches_cpu(
      {{"a", a}, {"b", bt}}, {},
      [](GraphBuilder& g, V& in, V&) { return g.matmul(in[0], in[1], true); }, 1e-5,
      "matmul transpose_b");
  expect_cuda_matches_cpu(
      {{"a", a}, {"b", shared}}, {},
      [](GraphBuilder& g, V& in, V&) { return g.matmul(in[0], in[1]); }, 1e-5, "matmul shared b");
}

TEST(CudaOps, NormsSoftmaxRope) {
  RLX_REQUIRE_CUDA_DEVICE();
  Tensor x = random_tensor({3, 5, 67}, 19, -3.f, 5.f), w = random_tensor({67}, 20),
         bias = random_tensor({67}, 21), big = random_tensor({2, 1000}, 22, -20.f, 20.f);
  for (bool offset : {false, true})
    expect_cuda_matches_cpu(
        {{"x", x}, {"w", w}}, {},
        [&](GraphBuilder& g, V& in, V&) { return g.rms_norm(in[0], in[1], 1e-6f, offset); }, 1e-5,
        "rms_norm");
  expect_cuda_matches_cpu(
      {{"x", x}}, {},
      [](GraphBuilder& g, V& in, V&) { return g.rms_norm(in[0], std::nullopt, 1e-6f); }, 1e-5,
      "rms_norm without weight");
  expect_cuda_matches_cpu(
      {{"x", x}, {"w", w}, {"b", bias}}, {},
      [](GraphBuilder& g, V& in, V&) { return g.layer_norm(in[0], in[1], in[2], 1e-5f); }, 1e-5,
      "layer_norm");
  for (float cap : {0.f, 5.f})
    expect_cuda_matches_cpu(
        {{"x", big}}, {}, [&](GraphBuilder& g, V& in, V&) { return g.softmax(in[0], 0.7f, cap); },
        1e-6, "softmax");
  Tensor q = random_tensor({2, 5, 3, 16}, 23), inv = random_tensor({6}, 24, 0.01f, 1.f);
  Tensor pos = Tensor::empty(DType::I32, {5});
  for (int i = 0; i < 5; ++i) pos.ptr<int32_t>()[i] = 3 + 7 * i;
  for (auto style : {ir::RopeStyle::NeoX, ir::RopeStyle::Interleaved})
    expect_cuda_matches_cpu(
        {{"q", q}, {"pos", pos}, {"inv", inv}}, {},
        [&](GraphBuilder& g, V& in, V&) { return g.rope(in[0], in[1], in[2], style, 12, 1.2f); },
        2e-5, "rope (partial, attn factor)");
}

TEST(CudaOps, AttentionMasksGqaSoftcap) {
  RLX_REQUIRE_CUDA_DEVICE();
  Tensor q = random_tensor({2, 9, 6, 16}, 25), k = random_tensor({2, 9, 2, 16}, 26),
         v = random_tensor({2, 9, 2, 24}, 27);
  struct C {
    ir::MaskKind mask;
    int64_t window;
    float softcap;
  };
  for (C c : {C{ir::MaskKind::Causal, 0, 0.f}, C{ir::MaskKind::None, 0, 0.f},
              C{ir::MaskKind::SlidingWindow, 3, 0.f}, C{ir::MaskKind::Causal, 0, 2.f}}) {
    GraphBuilder::AttentionOptions o;
    o.scale = 0.25f, o.mask = c.mask, o.window = c.window, o.softcap = c.softcap;
    expect_cuda_matches_cpu(
        {{"q", q}, {"k", k}, {"v", v}}, {},
        [&](GraphBuilder& g, V& in, V&) { return g.attention(in[0], in[1], in[2], o); }, 1e-5,
        "attention");
  }
  // Prefix queries (Tq < Tk) and a key-padding mask, including a fully masked batch row.
  Tensor q4 = random_tensor({2, 4, 6, 16}, 28);
  Tensor mask = Tensor::zeros(DType::F32, {2, 9});
  for (int j = 0; j < 9; ++j) mask.ptr<float>()[j] = j % 3 != 1;
  GraphBuilder::AttentionOptions o;
  o.scale = 0.25f, o.mask = ir::MaskKind::None;
  expect_cuda_matches_cpu(
      {{"q", q4}, {"k", k}, {"v", v}, {"m", mask}}, {},
      [&](GraphBuilder& g, V& in, V&) { return g.attention_masked(in[0], in[1], in[2], in[3], o); },
      1e-5, "attention with key mask");
}

// The KV cache lives on the device across runs: prefill 6 tokens, then two decode steps,
// each compared with the same sequence on the CPU (F32 and F16 caches).
TEST(CudaOps, AttentionWithCacheAcrossRuns) {
  RLX_REQUIRE_CUDA_DEVICE();
  for (DType kv : {DType::F32, DType::F16}) {
    const int64_t S = 300, Hq = 4, Hkv = 2, D = 32;
    auto build = [&](int64_t T) {
      ir::Graph g;
      GraphBuilder b(g);
      Value q = b.input("q", DType::F32, {1, T, Hq, D});
      Value k = b.input("k", DType::F32, {1, T, Hkv, D});
      Value v = b.input("v", DType::F32, {1, T, Hkv, D});
      Value kp = b.input("kv_pos", DType::I32, {1});
      Value kc = b.state("k.0", kv, {1, Hkv, S, D});
      Value vc = b.state("v.0", kv, {1, Hkv, S, D});
      GraphBuilder::AttentionOptions o;
      o.scale = 0.2f;
      b.output("y", b.attention_cached(q, k, v, kc, vc, kp, o));
      return g;
    };
    CompileOptions cpu;
    cpu.threads = 2;
    CompileOptions gpu = cpu;
    gpu.device = Device::cuda(0);
    Tensor kc_cpu = Tensor::zeros(kv, {1, Hkv, S, D}), vc_cpu = Tensor::zeros(kv, {1, Hkv, S, D});
    Tensor kc_gpu = Tensor::zeros(kv, {1, Hkv, S, D}), vc_gpu = Tensor::zeros(kv, {1, Hkv, S, D});
    std::map<std::string, Program> cpu_p, gpu_p;
    int32_t at = 0;
    uint32_t seed = 40;
    for (int64_t T : {260, 1, 1}) {  // > one 256-key chunk
      ir::Graph g = build(T);
      Program pc = Program::compile(g, cpu), pg = Program::compile(g, gpu);
      Tensor pos = Tensor::empty(DType::I32, {1});
      pos.ptr<int32_t>()[0] = at;
      // The inputs live for both runs (views of temporaries would dangle).
      Tensor q = random_tensor({1, T, Hq, D}, seed++), k = random_tensor({1, T, Hkv, D}, seed++),
             v = random_tensor({1, T, Hkv, D}, seed++);
      std::map<std::string, TensorView> feed = {
          {"q", q.view()}, {"k", k.view()}, {"v", v.view()}, {"kv_pos", pos.view()}};
      Tensor want = pc.run(feed, {{"k.0", kc_cpu.view()}, {"v.0", vc_cpu.view()}}).at("y");
      Tensor got = pg.run(feed, {{"k.0", kc_gpu.view()}, {"v.0", vc_gpu.view()}}).at("y");
      Diff d = compare_tensors(want, got, "cached attention");
      EXPECT_LE(d.max_abs, 1e-5) << "cached attention, " << dtype_name(kv) << " cache, T=" << T;
      at += int32_t(T);
    }
    cuda::forget_state_everywhere(kc_gpu.data());
    cuda::forget_state_everywhere(vc_gpu.data());
  }
}

TEST(CudaOps, KvCacheOverflowIsAnError) {
  RLX_REQUIRE_CUDA_DEVICE();
  ir::Graph g;
  GraphBuilder b(g);
  Value q = b.input("q", DType::F32, {1, 2, 1, 8});
  Value kp = b.input("kv_pos", DType::I32, {1});
  Value kc = b.state("k.0", DType::F32, {1, 1, 4, 8});
  Value vc = b.state("v.0", DType::F32, {1, 1, 4, 8});
  b.output("y", b.attention_cached(q, q, q, kc, vc, kp, {}));
  CompileOptions opt;
  opt.device = Device::cuda(0);
  Program p = Program::compile(g, opt);
  Tensor x = random_tensor({1, 2, 1, 8}, 50), pos = Tensor::empty(DType::I32, {1});
  pos.ptr<int32_t>()[0] = 3;
  Tensor kt = Tensor::zeros(DType::F32, {1, 1, 4, 8}), vt = Tensor::zeros(DType::F32, {1, 1, 4, 8});
  EXPECT_THROW(
      p.run({{"q", x.view()}, {"kv_pos", pos.view()}}, {{"k.0", kt.view()}, {"v.0", vt.view()}}),
      Error);
  pos.ptr<int32_t>()[0] = 2;  // the context recovers after the error
  EXPECT_NO_THROW(
      p.run({{"q", x.view()}, {"kv_pos", pos.view()}}, {{"k.0", kt.view()}, {"v.0", vt.view()}}));
  cuda::forget_state_everywhere(kt.data());
  cuda::forget_state_everywhere(vt.data());
}

TEST(CudaOps, ReduceArgmaxConv1d) {
  RLX_REQUIRE_CUDA_DEVICE();
  Tensor x = random_tensor({3, 7, 5}, 29);
  for (OpKind op : {OpKind::ReduceSum, OpKind::ReduceMean, OpKind::ReduceMax})
    for (int axis : {0, 1, 2})
      expect_cuda_matches_cpu(
          {{"x", x}}, {},
          [&](GraphBuilder& g, V& in, V&) { return g.reduce(op, in[0], axis, axis == 1); }, 1e-6,
          ir::op_name(op));
  expect_cuda_matches_cpu(
      {{"x", x}}, {}, [](GraphBuilder& g, V& in, V&) { return g.argmax(in[0], 1); }, 0, "argmax");
  Tensor s = random_tensor({2, 4, 40}, 30), w = random_tensor({6, 2, 5}, 31),
         bias = random_tensor({6}, 32);
  expect_cuda_matches_cpu(
      {{"x", s}}, {{"w", w}, {"b", bias}},
      [](GraphBuilder& g, V& in, V& p) { return g.conv1d(in[0], p[0], p[1], 2, 3, 2, 2); }, 1e-5,
      "conv1d");
}

}  // namespace
}  // namespace rlx::test
