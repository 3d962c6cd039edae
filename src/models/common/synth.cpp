// rlx synth: random-weight GGUFs with real models' shapes and tokenizers (see synth.h).
#include "rlx/models/synth.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <numbers>
#include <random>

#include "rlx/core/error.h"
#include "rlx/core/quant.h"
#include "rlx/core/thread_pool.h"
#include "rlx/io/gguf.h"
#include "rlx/models/quant_policy.h"

namespace rlx::models {
namespace {

namespace fs = std::filesystem;

std::string lower(std::string s) {
  for (auto& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

struct SynthTensor {
  std::string name;
  Shape shape;  // PyTorch order
  enum Kind { Weight, Norm, Fixed } kind = Weight;
  std::vector<float> fixed;  // Kind::Fixed: the values (rope_freqs)
};

// The tensors convert_hf_to_gguf.py writes for these architectures.
std::vector<SynthTensor> synth_tensors(const SynthShape& s) {
  std::vector<SynthTensor> t;
  auto add = [&](std::string name, Shape shape, SynthTensor::Kind kind = SynthTensor::Weight) {
    SynthTensor x;
    x.name = std::move(name);
    x.shape = shape;
    x.kind = kind;
    t.push_back(std::move(x));
  };
  const int64_t q = s.heads * s.head_dim, kv = s.kv_heads * s.head_dim;
  add("token_embd.weight", Shape{s.vocab, s.hidden});
  if (s.rope_factor > 0) {
    add("rope_freqs.weight", Shape{s.head_dim / 2}, SynthTensor::Fixed);
    t.back().fixed = llama3_rope_freq_factors(s);
  }
  for (int64_t l = 0; l < s.layers; ++l) {
    const std::string b = "blk." + std::to_string(l) + ".";
    add(b + "attn_norm.weight", Shape{s.hidden}, SynthTensor::Norm);
    add(b + "attn_q.weight", Shape{q, s.hidden});
    add(b + "attn_k.weight", Shape{kv, s.hidden});
    add(b + "attn_v.weight", Shape{kv, s.hidden});
    add(b + "attn_output.weight", Shape{s.hidden, q});
    if (s.arch == "qwen3") {
      add(b + "attn_q_norm.weight", Shape{s.head_dim}, SynthTensor::Norm);
      add(b + "attn_k_norm.weight", Shape{s.head_dim}, SynthTensor::Norm);
    }
    add(b + "ffn_norm.weight", Shape{s.hidden}, SynthTensor::Norm);
    add(b + "ffn_gate.weight", Shape{s.ffn, s.hidden});
    add(b + "ffn_up.weight", Shape{s.ffn, s.hidden});
    add(b + "ffn_down.weight", Shape{s.hidden, s.ffn});
  }
  add("output_norm.weight", Shape{s.hidden}, SynthTensor::Norm);
  if (!s.tied) add("output.weight", Shape{s.vocab, s.hidden});
  return t;
}

// Row r of a tensor: seeded per (seed, tensor index, row) so rows can be made in any order.
void fill_row(const SynthTensor& t, uint64_t seed, size_t index, int64_t r, float* x, int64_t n) {
  if (t.kind == SynthTensor::Fixed) {
    std::copy(t.fixed.begin(), t.fixed.end(), x);
    return;
  }
  std::seed_seq seq{uint32_t(seed), uint32_t(seed >> 32), uint32_t(index), uint32_t(r),
                    uint32_t(uint64_t(r) >> 32)};
  std::mt19937 rng(seq);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  if (t.kind == SynthTensor::Norm)
    for (int64_t i = 0; i < n; ++i) x[i] = 1.0f + 0.1f * normal(rng);
  else
    for (int64_t i = 0; i < n; ++i) x[i] = 0.02f * normal(rng);
}

}  // namespace

const std::vector<SynthShape>& synth_shapes() {
  static const std::vector<SynthShape> shapes = [] {
    std::vector<SynthShape> v;
    SynthShape q;
    q.name = "Qwen3-0.6B";
    q.arch = "qwen3";
    q.hidden = 1024, q.layers = 28, q.heads = 16, q.kv_heads = 8, q.head_dim = 128, q.ffn = 3072;
    q.vocab = 151936, q.tied = true, q.rope_theta = 1e6, q.norm_eps = 1e-6, q.context = 40960;
    q.default_vocab = "ggml-vocab-qwen2.gguf";
    v.push_back(q);
    q.name = "Qwen3-1.7B";
    q.hidden = 2048, q.ffn = 6144;
    v.push_back(q);
    SynthShape l;
    l.name = "Llama-3.2-1B";
    l.arch = "llama";
    l.hidden = 2048, l.layers = 16, l.heads = 32, l.kv_heads = 8, l.head_dim = 64, l.ffn = 8192;
    l.vocab = 128256, l.tied = true, l.rope_theta = 500000, l.norm_eps = 1e-5, l.context = 131072;
    l.rope_factor = 32, l.rope_low = 1, l.rope_high = 4, l.rope_orig_context = 8192;
    l.default_vocab = "ggml-vocab-llama-bpe.gguf";
    v.push_back(l);
    return v;
  }();
  return shapes;
}

const SynthShape& synth_shape(const std::string& like) {
  std::vector<std::string> names;
  for (auto& s : synth_shapes()) {
    if (lower(s.name) == lower(like)) return s;
    names.push_back(s.name);
  }
  fail("--like {}: unknown model (one of: {})", like, join(names));
}

std::vector<float> llama3_rope_freq_factors(const SynthShape& s) {
  // convert_hf_to_gguf.py (LlamaModel, rope_type "llama3"): per frequency, 1 for short
  // wavelengths, `factor` for long ones, a smooth blend between.
  const double orig = double(s.rope_orig_context);
  const double low_wavelen = orig / s.rope_low, high_wavelen = orig / s.rope_high;
  std::vector<float> f;
  for (int64_t i = 0; i < s.head_dim; i += 2) {
    const double freq = 1.0 / std::pow(s.rope_theta, double(i) / double(s.head_dim));
    const double wavelen = 2 * std::numbers::pi / freq;
    if (wavelen < high_wavelen)
      f.push_back(1.0f);
    else if (wavelen > low_wavelen)
      f.push_back(float(s.rope_factor));
    else {
      const double smooth = (orig / wavelen - s.rope_low) / (s.rope_high - s.rope_low);
      f.push_back(float(1.0 / ((1 - smooth) / s.rope_factor + smooth)));
    }
  }
  return f;
}

SynthResult synth_model(const SynthOptions& opt) {
  auto t0 = std::chrono::steady_clock::now();
  SynthShape s = synth_shape(opt.like);
  RLX_CHECK(opt.layers >= 0 && opt.layers <= s.layers, "--layers {}: {} has {} layers", opt.layers,
            s.name, s.layers);
  if (opt.layers > 0) s.layers = opt.layers;
  RLX_CHECK(opt.arch.empty() || lower(opt.arch) == s.arch,
            "--arch {}: {} is a {} model (pass --arch {} or leave --arch out)", opt.arch, s.name,
            s.arch, s.arch);
  auto type = quant_file_type(opt.type);
  RLX_CHECK(type, "--type {}: unknown type (one of: {})", opt.type, join(quant_file_type_names()));
  RLX_CHECK(!opt.output.empty(), "synth: no output path");
  RLX_CHECK(opt.overwrite || !fs::exists(opt.output),
            "{}: the output file exists (pass --overwrite to replace it)", opt.output);

  SynthResult res;
  res.vocab = opt.vocab;
  if (res.vocab.empty()) {
    const char* d = std::getenv("RLX_DATA_DIR");
    const char* home = std::getenv("HOME");
    const fs::path data = d && *d ? fs::path(d) : fs::path(home ? home : ".") / ".cache/rlx-data";
    res.vocab = (data / "llama.cpp" / "models" / s.default_vocab).string();
    RLX_CHECK(fs::exists(res.vocab),
              "{}: the default vocab GGUF for {} is missing (run scripts/fetch-test-data or pass "
              "--vocab PATH.gguf)",
              res.vocab, s.name);
  }
  RLX_CHECK(fs::exists(res.vocab), "--vocab {}: no such file", res.vocab);
  io::GgufFile vocab = io::GgufFile::open(res.vocab);
  RLX_CHECK(vocab.has("tokenizer.ggml.tokens"), "--vocab {}: no tokenizer.ggml.tokens", res.vocab);
  const int64_t n_tokens = int64_t(vocab.get_string_array("tokenizer.ggml.tokens").size());
  RLX_CHECK(n_tokens == s.vocab, "--vocab {}: {} tokens, but {} has a vocabulary of {}", res.vocab,
            n_tokens, s.name, s.vocab);

  // Metadata as convert_hf_to_gguf.py writes it, then the vocab file's tokenizer.* keys.
  io::GgufWriter w;
  const std::string& a = s.arch;
  w.set_string("general.architecture", a);
  w.set_string("general.type", "model");
  w.set_string("general.name", s.name + " (rlx synth, random weights)");
  w.set_u32(a + ".block_count", uint32_t(s.layers));
  w.set_u32(a + ".context_length", uint32_t(s.context));
  w.set_u32(a + ".embedding_length", uint32_t(s.hidden));
  w.set_u32(a + ".feed_forward_length", uint32_t(s.ffn));
  w.set_u32(a + ".attention.head_count", uint32_t(s.heads));
  w.set_u32(a + ".attention.head_count_kv", uint32_t(s.kv_heads));
  w.set_f32(a + ".rope.freq_base", float(s.rope_theta));
  w.set_f32(a + ".attention.layer_norm_rms_epsilon", float(s.norm_eps));
  w.set_u32(a + ".attention.key_length", uint32_t(s.head_dim));
  w.set_u32(a + ".attention.value_length", uint32_t(s.head_dim));
  if (a == "llama") {
    w.set_u32(a + ".vocab_size", uint32_t(s.vocab));
    w.set_u32(a + ".rope.dimension_count", uint32_t(s.head_dim));
  }
  w.set_u32("general.quantization_version", 2);
  w.set_u32("general.file_type", uint32_t(type->ftype));
  for (auto& [k, v] : vocab.metadata())
    if (k.rfind("tokenizer.", 0) == 0) w.set(k, v);

  // Types: llama-quantize's order and choices, as if from an F32 conversion.
  std::vector<SynthTensor> all = synth_tensors(s);
  std::vector<std::string> names;
  for (auto& t : all) names.push_back(t.name);
  std::vector<SynthTensor> ordered;
  for (size_t i : quantize_order(names)) ordered.push_back(std::move(all[i]));
  std::vector<QuantTensor> qt;
  for (auto& t : ordered) qt.push_back({t.name, t.shape, DType::F32});
  std::vector<DType> types = choose_tensor_types(*type, qt, {s.layers, s.heads, s.kv_heads});

  // Rows are generated and quantized per tensor; only the output bytes stay in memory.
  ThreadPool pool(opt.threads > 0 ? opt.threads : physical_core_count());
  std::vector<std::vector<uint8_t>> buffers(ordered.size());
  for (size_t i = 0; i < ordered.size(); ++i) {
    const SynthTensor& t = ordered[i];
    const DType to = types[i];
    const int64_t row = t.shape.back(), rows = t.shape.numel() / row;
    RLX_CHECK(to == DType::F32 || row % block_size(to) == 0,
              "synth: tensor {} has rows of {} values, not a multiple of {}'s block size {}",
              t.name, row, dtype_name(to), block_size(to));
    if (opt.verbose)
      std::fprintf(stderr, "[%4zu/%4zu] %-32s %-14s -> %s\n", i + 1, ordered.size(), t.name.c_str(),
                   t.shape.str().c_str(), dtype_name(to));
    const int64_t out_row = row_bytes(to, row);
    buffers[i].resize(size_t(rows * out_row));
    uint8_t* out = buffers[i].data();
    const int64_t grain = std::max<int64_t>(1, 16384 / row);
    pool.parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
      std::vector<float> x(static_cast<size_t>(row));
      for (int64_t r = r0; r < r1; ++r) {
        float* dst = to == DType::F32 ? reinterpret_cast<float*>(out + r * out_row) : x.data();
        fill_row(t, opt.seed, i, r, dst, row);
        if (to != DType::F32) quantize_row(to, dst, out + r * out_row, row, t.name.c_str());
      }
    });
    w.add_tensor(t.name, to, t.shape, out);
    res.bytes += rows * out_row;
  }
  res.tensors = int64_t(ordered.size());
  w.write(opt.output);
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace rlx::models
