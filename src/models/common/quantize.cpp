// rlx quantize: F32/F16/BF16 GGUF or HF safetensors → GGUF of a llama.cpp file type.
#include "rlx/models/quantize.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "rlx/core/error.h"
#include "rlx/core/quant.h"
#include "rlx/core/thread_pool.h"
#include "rlx/io/gguf.h"
#include "rlx/io/weights.h"
#include "rlx/models/families.h"
#include "rlx/models/quant_policy.h"

namespace rlx::models {
namespace {

namespace fs = std::filesystem;

struct Source {
  std::string name;  // GGUF name
  TensorView view;   // in the input file
  DType dtype;       // the input type the policy sees (safetensors: F32, as after an F32 convert)
};

io::GgufValue u32_value(uint32_t v) {
  io::GgufValue g;
  g.type = io::GgufType::U32;
  g.i = v;
  return g;
}

// GGUF metadata for a safetensors checkpoint, as convert_hf_to_gguf.py writes it for the
// families whose tensors need no transform (Qwen2, Qwen3).
std::vector<std::pair<std::string, io::GgufValue>> hf_metadata(const nlohmann::json& config,
                                                               const DecoderFamily& family,
                                                               const std::string& arch,
                                                               const std::string& dir,
                                                               QuantModelInfo& info) {
  nn::DecoderSpec s = family.from_hf(config);
  RLX_CHECK(s.rope_scaling.type == "default" || s.rope_scaling.type.empty(),
            "{}/config.json: RoPE scaling '{}' is not written to GGUF by rlx quantize yet; convert "
            "with convert_hf_to_gguf.py first",
            dir, s.rope_scaling.type);
  RLX_CHECK(
      std::find(s.layer_sliding.begin(), s.layer_sliding.end(), true) == s.layer_sliding.end(),
      "{}/config.json: sliding-window attention is not written to GGUF by rlx quantize yet", dir);
  info = {s.layers, s.heads, s.kv_heads};
  std::vector<std::pair<std::string, io::GgufValue>> kv;
  auto str = [&](const std::string& k, const std::string& v) {
    io::GgufValue g;
    g.type = io::GgufType::String;
    g.s = v;
    kv.emplace_back(k, g);
  };
  auto u32 = [&](const std::string& k, int64_t v) { kv.emplace_back(k, u32_value(uint32_t(v))); };
  auto f32 = [&](const std::string& k, double v) {
    io::GgufValue g;
    g.type = io::GgufType::F32;
    g.f = float(v);
    kv.emplace_back(k, g);
  };
  str("general.architecture", arch);
  str("general.type", "model");
  str("general.name", fs::path(dir).filename().string());
  u32(arch + ".block_count", s.layers);
  u32(arch + ".context_length", s.max_positions);
  u32(arch + ".embedding_length", s.hidden);
  u32(arch + ".feed_forward_length", s.ffn);
  u32(arch + ".attention.head_count", s.heads);
  u32(arch + ".attention.head_count_kv", s.kv_heads);
  f32(arch + ".rope.freq_base", s.rope_theta);
  f32(arch + ".attention.layer_norm_rms_epsilon", s.norm_eps);
  u32(arch + ".attention.key_length", s.head_dim);
  u32(arch + ".attention.value_length", s.head_dim);
  return kv;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

}  // namespace

QuantizeResult quantize_model(const QuantizeOptions& opt) {
  auto t0 = std::chrono::steady_clock::now();
  auto type = quant_file_type(opt.type);
  RLX_CHECK(type, "--type {}: unknown type (one of: {})", opt.type, join(quant_file_type_names()));
  RLX_CHECK(opt.imatrix.empty(),
            "--imatrix {}: importance matrices are not supported yet (quantize without one)",
            opt.imatrix);
  RLX_CHECK(!opt.output.empty(), "quantize: no output path");
  RLX_CHECK(opt.overwrite || !fs::exists(opt.output),
            "{}: the output file exists (pass --overwrite to replace it)", opt.output);
  RLX_CHECK(
      !fs::exists(opt.input) || !fs::exists(opt.output) || !fs::equivalent(opt.input, opt.output),
      "{}: the output would overwrite the input", opt.output);

  auto store = io::WeightStore::open(opt.input);
  std::vector<std::pair<std::string, io::GgufValue>> kv;
  std::vector<Source> src;
  QuantModelInfo info;
  if (const io::GgufFile* g = store->gguf()) {
    const std::string arch = g->architecture();
    RLX_CHECK(!arch.empty(), "{}: no general.architecture", opt.input);
    info.layers = g->int_or(arch + ".block_count").value_or(0);
    info.heads = g->int_or(arch + ".attention.head_count").value_or(0);
    info.kv_heads = g->int_or(arch + ".attention.head_count_kv").value_or(info.heads);
    for (auto& [k, v] : g->metadata())
      if (k != "general.quantization_version" && k != "general.file_type" &&
          k.rfind("split.", 0) != 0)
        kv.emplace_back(k, v);
    for (auto& n : store->names()) {
      TensorView v = store->get(n);
      src.push_back({n, v, v.dtype});
    }
  } else {
    const fs::path cfg = fs::path(store->files().dir) / "config.json";
    std::ifstream in(cfg);
    RLX_CHECK(in, "{}: a safetensors checkpoint needs config.json beside it ({} is missing)",
              opt.input, cfg.string());
    nlohmann::json config;
    try {
      config = nlohmann::json::parse(in);
    } catch (const nlohmann::json::exception& e) {
      fail("{}: {}", cfg.string(), e.what());
    }
    const std::string model_type = config.value("model_type", "");
    const DecoderFamily& family = decoder_family(model_type);
    RLX_CHECK(family.name == "qwen3" || family.name == "qwen2",
              "{}: quantizing {} safetensors directly is not supported yet (its GGUF tensors need "
              "converter transforms); convert with convert_hf_to_gguf.py to F16/F32 first and "
              "quantize that GGUF",
              opt.input, family.name);
    kv = hf_metadata(config, family, family.name, store->files().dir, info);
    for (auto& n : store->names()) {
      TensorView v = store->get(n);
      RLX_CHECK(v.dtype == DType::F32 || v.dtype == DType::F16 || v.dtype == DType::BF16,
                "{}: tensor {} is {}; only F32/F16/BF16 checkpoints can be quantized", opt.input, n,
                dtype_name(v.dtype));
      src.push_back({family.gguf_name(n), v, DType::F32});
    }
  }
  kv.emplace_back("general.quantization_version", u32_value(2));
  kv.emplace_back("general.file_type", u32_value(uint32_t(type->ftype)));

  // llama-quantize's order, then its type choices.
  std::vector<std::string> names;
  for (auto& s : src) names.push_back(s.name);
  std::vector<Source> ordered;
  for (size_t i : quantize_order(names)) ordered.push_back(src[i]);
  std::vector<QuantTensor> qt;
  for (auto& s : ordered) qt.push_back({s.name, s.view.shape, s.dtype});
  QuantPolicyOptions popt;
  popt.pure = opt.pure;
  std::vector<DType> types = choose_tensor_types(*type, qt, info, popt);

  io::GgufWriter writer;
  for (auto& [k, v] : kv) writer.set(k, v);
  ThreadPool pool(opt.threads > 0 ? opt.threads : physical_core_count());
  std::vector<std::vector<uint8_t>> buffers(ordered.size());
  QuantizeResult res;
  res.file_type = type->name;
  res.ftype = type->ftype;
  const size_t n = ordered.size();
  for (size_t i = 0; i < n; ++i) {
    const Source& s = ordered[i];
    const DType from = s.view.dtype, to = types[i];
    const Shape& shape = s.view.shape;
    const int64_t row = shape.rank() ? shape.back() : 1;
    const int64_t rows = row ? shape.numel() / row : 0;
    if (opt.verbose)
      std::fprintf(stderr, "[%4zu/%4zu] %-36s %-14s %6s -> %-6s\n", i + 1, n, s.name.c_str(),
                   shape.str().c_str(), dtype_name(from), dtype_name(to));
    QuantizedTensor rec{s.name, shape, from, to, s.view.nbytes(), 0};
    if (from == to) {
      writer.add_tensor(s.name, to, shape, s.view.data);  // copied as is
      rec.bytes_out = rec.bytes_in;
    } else {
      RLX_CHECK(!is_quantized(from),
                "{}: tensor {} is {}; requantizing is not supported (start "
                "from an F32/F16/BF16 file)",
                opt.input, s.name, dtype_name(from));
      RLX_CHECK(row % block_size(to) == 0,
                "{}: tensor {} has rows of {} values, not a multiple of "
                "{}'s block size {}",
                opt.input, s.name, row, dtype_name(to), block_size(to));
      RLX_CHECK(s.view.is_contiguous(), "{}: tensor {} is not contiguous", opt.input, s.name);
      const int64_t in_row = row_bytes(from, row), out_row = row_bytes(to, row);
      buffers[i].resize(size_t(rows * out_row));
      const auto* in = static_cast<const uint8_t*>(s.view.data);
      uint8_t* out = buffers[i].data();
      const int64_t grain = std::max<int64_t>(1, 16384 / std::max<int64_t>(row, 1));
      pool.parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
        std::vector<float> tmp(from == DType::F32 ? 0 : size_t(row));
        for (int64_t r = r0; r < r1; ++r) {
          const float* x = reinterpret_cast<const float*>(in + r * in_row);
          if (from != DType::F32) {
            dequantize_row(from, in + r * in_row, tmp.data(), row, s.name.c_str());
            x = tmp.data();
          }
          quantize_row(to, x, out + r * out_row, row, s.name.c_str());
        }
      });
      writer.add_tensor(s.name, to, shape, out);
      rec.bytes_out = rows * out_row;
    }
    res.bytes_in += rec.bytes_in;
    res.bytes_out += rec.bytes_out;
    res.tensors.push_back(std::move(rec));
  }
  writer.write(opt.output);
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

}  // namespace rlx::models
