#include "silero_reference.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace rlx::test::silero {
namespace {

float sigmoid(double x) {
  return float(1.0 / (1.0 + std::exp(-x)));
}

// 1-D convolution, PyTorch/ONNX semantics: x [cin, len], w [cout, cin, k], zero padding
// `pad` on both sides, stride `stride`. Accumulates in double so the reference is more
// precise than the implementations it judges.
std::vector<float> conv1d(const std::vector<float>& x, int cin, int len,
                          const std::vector<float>& w, const std::vector<float>* b, int cout, int k,
                          int stride, int pad, int* out_len) {
  const int lout = (len + 2 * pad - k) / stride + 1;
  std::vector<float> y(size_t(cout) * size_t(lout));
  for (int o = 0; o < cout; ++o) {
    for (int t = 0; t < lout; ++t) {
      double acc = b ? (*b)[size_t(o)] : 0.0;
      for (int i = 0; i < cin; ++i) {
        for (int j = 0; j < k; ++j) {
          int p = t * stride + j - pad;
          if (p < 0 || p >= len) continue;
          acc += double(w[(size_t(o) * cin + i) * k + j]) * x[size_t(i) * len + p];
        }
      }
      y[size_t(o) * lout + t] = float(acc);
    }
  }
  *out_len = lout;
  return y;
}

void relu(std::vector<float>& v) {
  for (float& x : v) x = x > 0 ? x : 0;
}

}  // namespace

Weights load_safetensors(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot open " + path);
  uint64_t n = 0;
  f.read(reinterpret_cast<char*>(&n), 8);
  std::string header(n, '\0');
  f.read(header.data(), std::streamsize(n));
  auto j = nlohmann::json::parse(header);
  std::vector<char> data((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  Weights out;
  for (auto& [name, info] : j.items()) {
    if (name == "__metadata__") continue;
    if (info["dtype"] != "F32") throw std::runtime_error(name + ": not F32");
    Weight w;
    w.shape = info["shape"].get<std::vector<int64_t>>();
    auto off = info["data_offsets"].get<std::vector<uint64_t>>();
    if (off[1] > data.size() || off[0] > off[1]) throw std::runtime_error(name + ": bad offsets");
    w.data.resize((off[1] - off[0]) / 4);
    std::memcpy(w.data.data(), data.data() + off[0], off[1] - off[0]);
    out[name] = std::move(w);
  }
  return out;
}

SileroReference::SileroReference(Weights w) : weights_(std::move(w)) {
  reset();
}

void SileroReference::reset() {
  h_.assign(kHidden, 0.0f);
  c_.assign(kHidden, 0.0f);
  context_.assign(kContext, 0.0f);
}

const std::vector<float>& SileroReference::w(const std::string& name) const {
  auto it = weights_.find(name);
  if (it == weights_.end()) throw std::runtime_error("missing weight " + name);
  return it->second.data;
}

float SileroReference::step(std::span<const float> window) {
  if (window.size() != size_t(kWindow)) throw std::runtime_error("window must be 512 samples");
  // 1. [context | window] = 576 samples; the next context is this input's last 64.
  std::vector<float> x(context_);
  x.insert(x.end(), window.begin(), window.end());
  context_.assign(x.end() - kContext, x.end());
  // 2. Reflect-pad 64 on the right only (edge not repeated): 640 samples.
  const int n = int(x.size());
  for (int k = 1; k <= 64; ++k) x.push_back(x[size_t(n - 1 - k)]);
  // 3. STFT as a strided conv: 258 filters (129 real, 129 imag) of 256 taps, stride 128,
  //    no padding -> 4 frames; magnitude sqrt(re^2 + im^2) -> [129, 4].
  int len = 0;
  std::vector<float> spec =
      conv1d(x, 1, int(x.size()), w("stft.forward_basis_buffer"), nullptr, 258, 256, 128, 0, &len);
  std::vector<float> mag(size_t(129) * len);
  for (int f = 0; f < 129; ++f) {
    for (int t = 0; t < len; ++t) {
      double re = spec[size_t(f) * len + t], im = spec[size_t(f + 129) * len + t];
      mag[size_t(f) * len + t] = float(std::sqrt(re * re + im * im));
    }
  }
  // 4. Encoder: 4 x (conv1d k3 pad1 + ReLU); strides 1, 2, 2, 1; 129->128->64->64->128.
  struct Layer {
    int cin, cout, stride;
  };
  const Layer layers[] = {{129, 128, 1}, {128, 64, 2}, {64, 64, 2}, {64, 128, 1}};
  std::vector<float> e = mag;
  for (int i = 0; i < 4; ++i) {
    std::string p = "encoder." + std::to_string(i) + ".reparam_conv.";
    int lout = 0;
    e = conv1d(e, layers[i].cin, len, w(p + "weight"), &w(p + "bias"), layers[i].cout, 3,
               layers[i].stride, 1, &lout);
    relu(e);
    len = lout;
  }
  if (len != 1) throw std::runtime_error("encoder output length is not 1");
  // 5. LSTMCell(128, 128), PyTorch gate order i, f, g, o.
  const auto& wih = w("decoder.rnn.weight_ih");
  const auto& whh = w("decoder.rnn.weight_hh");
  const auto& bih = w("decoder.rnn.bias_ih");
  const auto& bhh = w("decoder.rnn.bias_hh");
  std::vector<double> g(4 * kHidden);
  for (int r = 0; r < 4 * kHidden; ++r) {
    double acc = double(bih[size_t(r)]) + bhh[size_t(r)];
    for (int k = 0; k < kHidden; ++k) {
      acc += double(wih[size_t(r) * kHidden + k]) * e[size_t(k)];
      acc += double(whh[size_t(r) * kHidden + k]) * h_[size_t(k)];
    }
    g[size_t(r)] = acc;
  }
  for (int k = 0; k < kHidden; ++k) {
    double ig = sigmoid(g[size_t(k)]);
    double fg = sigmoid(g[size_t(kHidden + k)]);
    double gg = std::tanh(g[size_t(2 * kHidden + k)]);
    double og = sigmoid(g[size_t(3 * kHidden + k)]);
    double c = fg * c_[size_t(k)] + ig * gg;
    c_[size_t(k)] = float(c);
    h_[size_t(k)] = float(og * std::tanh(c));
  }
  // 6. Head: ReLU(h) -> conv1d 128->1 k1 -> sigmoid. (The state keeps h before the ReLU.)
  const auto& dw = w("decoder.decoder.2.weight");
  double acc = w("decoder.decoder.2.bias")[0];
  for (int k = 0; k < kHidden; ++k) acc += double(dw[size_t(k)]) * std::max(h_[size_t(k)], 0.0f);
  return sigmoid(acc);
}

std::vector<float> SileroReference::run(std::span<const float> samples) {
  std::vector<float> out;
  for (size_t i = 0; i + kWindow <= samples.size(); i += kWindow) {
    out.push_back(step(samples.subspan(i, kWindow)));
  }
  return out;
}

}  // namespace rlx::test::silero
