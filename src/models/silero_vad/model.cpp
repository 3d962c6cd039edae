// Silero VAD graph for one 512-sample window (see models/silero_vad/README.md for the spec):
// reflect pad → STFT conv → magnitude → 4× (conv + ReLU) → LSTM cell → ReLU → conv → sigmoid.
#include <cstring>
#include <filesystem>

#include "models/silero_vad/embedded.h"
#include "rlx/core/error.h"
#include "rlx/io/weights.h"
#include "rlx/ir/builder.h"
#include "rlx/models/silero_vad/vad.h"

namespace rlx::models::silero_vad {
namespace {

using ir::GraphBuilder;
using ir::Value;

struct EncoderLayer {
  int64_t in, out, stride;
};
constexpr EncoderLayer kEncoder[] = {{129, 128, 1}, {128, 64, 2}, {64, 64, 2}, {64, 128, 1}};

ir::Graph build_graph(io::WeightStore& ws) {
  ir::Graph g;
  GraphBuilder b(g);
  io::WeightScope w = ws.root();
  auto param = [&](const io::WeightScope& s, const std::string& name, const Shape& shape) {
    return b.param(s.path(name), s.get(name, shape));
  };
  Value x = b.input("x", DType::F32, {1, 1, kContext + kWindow});
  Value h = b.input("h", DType::F32, {1, kHidden});
  Value c = b.input("c", DType::F32, {1, kHidden});

  Value padded = b.pad(x, 2, 0, 64, ir::PadMode::Reflect);
  Value spec =
      b.conv1d(padded, param(w, "stft.forward_basis_buffer", {258, 1, 256}), std::nullopt, 128);
  Value re = b.slice(spec, 1, 0, 129), im = b.slice(spec, 1, 129, 258);
  Value feat = b.sqrt(b.add(b.mul(re, re), b.mul(im, im)));
  for (int i = 0; i < 4; ++i) {
    io::WeightScope l = w.sub("encoder").sub(i).sub("reparam_conv");
    const auto& e = kEncoder[i];
    feat = b.relu(b.conv1d(feat, param(l, "weight", {e.out, e.in, 3}), param(l, "bias", {e.out}),
                           e.stride, 1));
  }
  Value in = b.reshape(feat, {1, 128});
  io::WeightScope rnn = w.sub("decoder").sub("rnn");
  Value gates = b.add(b.linear(in, param(rnn, "weight_ih", {4 * kHidden, 128}),
                               param(rnn, "bias_ih", {4 * kHidden})),
                      b.linear(h, param(rnn, "weight_hh", {4 * kHidden, kHidden}),
                               param(rnn, "bias_hh", {4 * kHidden})));
  // PyTorch LSTMCell gate order: input, forget, cell, output.
  Value ig = b.sigmoid(b.slice(gates, 1, 0, kHidden));
  Value fg = b.sigmoid(b.slice(gates, 1, kHidden, 2 * kHidden));
  Value gg = b.tanh(b.slice(gates, 1, 2 * kHidden, 3 * kHidden));
  Value og = b.sigmoid(b.slice(gates, 1, 3 * kHidden, 4 * kHidden));
  Value c_new = b.add(b.mul(fg, c), b.mul(ig, gg));
  Value h_new = b.mul(og, b.tanh(c_new));
  io::WeightScope head = w.sub("decoder").sub("decoder").sub(2);
  Value logit = b.conv1d(b.reshape(b.relu(h_new), {1, kHidden, 1}),
                         param(head, "weight", {1, kHidden, 1}), param(head, "bias", {1}));
  b.output("prob", b.sigmoid(logit));
  b.output("h", h_new);
  b.output("c", c_new);
  return g;
}

}  // namespace

std::shared_ptr<Model> Model::load(const std::string& name_or_path, int threads) {
  auto m = std::make_shared<Model>();
  if (auto emb = embedded_weights(name_or_path)) {
    m->weights_ = io::WeightStore::from_safetensors_bytes("<embedded silero " + name_or_path + ">",
                                                          emb->data, emb->size);
    m->name_ = name_or_path;
  } else {
    RLX_CHECK(std::filesystem::exists(name_or_path),
              "VAD model '{}' is neither a built-in model (v5, v6) nor an existing file",
              name_or_path);
    m->weights_ = io::WeightStore::open(name_or_path);
    m->name_ = name_or_path;
  }
  CompileOptions opt;
  opt.threads = threads > 0 ? threads : 1;  // one window is too small to split across threads
  m->program_ = std::make_unique<Program>(Program::compile(build_graph(*m->weights_), opt));
  auto unused = m->weights_->unused();
  RLX_CHECK(unused.empty(), "{}: unexpected tensors for Silero VAD: {}", name_or_path,
            fmt::join(unused, ", "));
  return m;
}

Stream::Stream(std::shared_ptr<Model> model) : model_(std::move(model)) {
  reset();
}

void Stream::reset() {
  input_.assign(kContext + kWindow, 0.f);
  h_ = Tensor::zeros(DType::F32, {1, kHidden});
  c_ = Tensor::zeros(DType::F32, {1, kHidden});
}

float Stream::process(std::span<const float> window) {
  RLX_CHECK(window.size() == size_t(kWindow), "VAD windows must have {} samples, got {}", kWindow,
            window.size());
  std::memcpy(input_.data() + kContext, window.data(), sizeof(float) * kWindow);
  TensorView x(input_.data(), DType::F32, {1, 1, kContext + kWindow});
  auto out = model_->program().run({{"x", x}, {"h", h_.view()}, {"c", c_.view()}});
  h_ = out.at("h");
  c_ = out.at("c");
  // The next window's context is the last 64 samples of this one.
  std::memmove(input_.data(), input_.data() + kWindow, sizeof(float) * kContext);
  return out.at("prob").ptr<float>()[0];
}

Result detect(const std::shared_ptr<Model>& model, std::span<const float> samples,
              const audio::VadParams& params) {
  Stream stream(model);
  Result r;
  const size_t full = samples.size() / kWindow;
  for (size_t i = 0; i < full; ++i)
    r.frames.push_back(stream.process(samples.subspan(i * kWindow, kWindow)));
  std::vector<float> scored = r.frames;
  if (samples.size() % kWindow) {
    std::vector<float> tail(kWindow, 0.f);
    std::memcpy(tail.data(), samples.data() + full * kWindow,
                sizeof(float) * (samples.size() % kWindow));
    scored.push_back(stream.process(tail));
  }
  r.segments = audio::speech_segments(scored, int64_t(samples.size()), params);
  return r;
}

}  // namespace rlx::models::silero_vad
