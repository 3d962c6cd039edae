// rlx inspect PATH [--json] [--prefer TYPE]: what a checkpoint holds.
#include <nlohmann/json.hpp>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "commands.h"
#include "rlx/core/error.h"
#include "rlx/core/quant.h"
#include "rlx/io/gguf.h"
#include "rlx/io/model_files.h"
#include "rlx/io/npy.h"
#include "rlx/io/safetensors.h"
#include "rlx/io/weights.h"
#include "rlx/models/registry.h"

namespace rlx::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr size_t kArraySummary = 16;  // arrays longer than this are summarized

json value_json(const io::GgufValue& v, bool summarize) {
  using io::GgufType;
  switch (v.type) {
    case GgufType::String:
      return v.s;
    case GgufType::Bool:
      return v.i != 0;
    case GgufType::F32:
    case GgufType::F64:
      return v.f;
    case GgufType::U64:
      return uint64_t(v.i);
    case GgufType::Array: {
      size_t n = v.array_size();
      json arr = json::array();
      size_t shown = summarize ? std::min(n, kArraySummary) : n;
      for (size_t i = 0; i < shown; ++i) {
        if (i < v.ints.size())
          arr.push_back(v.elem_type == GgufType::Bool ? json(v.ints[i] != 0) : json(v.ints[i]));
        else if (i < v.floats.size())
          arr.push_back(v.floats[i]);
        else if (i < v.strings.size())
          arr.push_back(v.strings[i]);
        else if (i < v.arrays.size())
          arr.push_back(value_json(v.arrays[i], summarize));
      }
      if (shown == n) return arr;
      return json{{"type", std::string("array[") + io::gguf_type_name(v.elem_type) + "]"},
                  {"count", n},
                  {"head", arr}};
    }
    default:
      return v.i;
  }
}

struct TensorRow {
  std::string name;
  DType dtype;
  Shape shape;
  uint64_t offset, bytes;
  std::string file;
};

std::string human_bytes(double b) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  while (b >= 1024 && u < 4) b /= 1024, ++u;
  return fmt::format("{:.2f} {}", b, units[u]);
}

std::string hf_architecture(const std::string& dir) {
  std::ifstream in(fs::path(dir) / "config.json");
  if (!in) return "";
  try {
    json c = json::parse(in);
    if (c.contains("model_type") && c["model_type"].is_string()) return c["model_type"];
  } catch (const json::exception&) {
  }
  return "";
}

int run_inspect(const std::string& path, bool as_json, const std::string& prefer) {
  // A single .gguf file is inspected on its own (a split shard says which set it belongs to);
  // a directory is resolved to its model and every shard is read.
  io::ModelFiles files;
  if (fs::is_regular_file(path) && path.size() > 5 && path.substr(path.size() - 5) == ".gguf")
    files = {io::WeightFormat::Gguf, {path}, fs::path(path).parent_path().string()};
  else
    files = io::resolve_model_files(path, prefer);

  nlohmann::ordered_json out;
  std::vector<TensorRow> rows;
  json metadata = json::object(), metadata_full = json::object();
  std::string arch;
  int version = 0;
  size_t metadata_count = 0;
  std::vector<std::string> plain_meta;
  json shards = json::array();
  if (files.format == io::WeightFormat::Gguf) {
    for (size_t i = 0; i < files.files.size(); ++i) {
      io::GgufFile g = io::GgufFile::open(files.files[i]);
      if (i == 0) {
        version = int(g.version());
        arch = g.architecture();
        metadata_count = g.metadata().size();
        for (auto& [k, v] : g.metadata()) {
          metadata[k] = value_json(v, true);
          std::string s = value_json(v, true).dump();
          if (s.size() > 160) s = s.substr(0, 157) + "...";
          plain_meta.push_back(fmt::format("  {} = {}", k, s));
        }
        auto count = g.int_or("split.count");
        if (count && *count > 1) {
          auto names = io::split_gguf_names(files.files[i]);
          for (auto& n : names) shards.push_back(fs::path(n).filename().string());
          if (files.files.size() == 1)
            out["split"] = {{"no", g.int_or("split.no").value_or(0)},
                            {"count", *count},
                            {"tensors_total", g.int_or("split.tensors.count").value_or(0)}};
        }
      }
      for (auto& t : g.tensors())
        rows.push_back(
            {t.name, t.dtype, t.shape, g.data_offset() + t.offset, t.bytes, files.files[i]});
    }
  } else {
    for (auto& f : files.files) {
      io::SafetensorsFile s = io::SafetensorsFile::open(f);
      for (auto& [k, v] : s.metadata()) {
        metadata[k] = v;
        plain_meta.push_back(fmt::format("  {} = {}", k, v));
      }
      for (auto& t : s.tensors())
        rows.push_back({t.name, t.dtype, t.shape, s.data_offset() + t.begin, t.end - t.begin, f});
      if (files.files.size() > 1) shards.push_back(fs::path(f).filename().string());
    }
    metadata_count = metadata.size();
    arch = hf_architecture(files.dir);
  }

  std::map<std::string, int64_t> dtype_count, dtype_params, dtype_bytes_map;
  int64_t params = 0, bytes = 0;
  for (auto& r : rows) {
    std::string dn = dtype_name(r.dtype);
    dtype_count[dn] += 1;
    dtype_params[dn] += r.shape.numel();
    dtype_bytes_map[dn] += int64_t(r.bytes);
    params += r.shape.numel();
    bytes += int64_t(r.bytes);
  }
  auto family = models::family_for_arch(arch);
  std::string run_cmd = family ? fmt::format("rlx run {} --weights {}", family->name, path) : "";

  if (as_json) {
    out["format"] = files.format == io::WeightFormat::Gguf ? "gguf" : "safetensors";
    out["version"] = version;
    out["architecture"] = arch.empty() ? json(nullptr) : json(arch);
    out["tensor_count"] = rows.size();
    out["metadata_count"] = metadata_count;
    out["metadata"] = metadata;
    out["dtypes"] = dtype_count;
    out["parameters"] = params;
    out["bytes"] = bytes;
    json ts = json::array();
    for (auto& r : rows)
      ts.push_back({{"name", r.name},
                    {"dtype", dtype_name(r.dtype)},
                    {"shape", r.shape.to_vector()},
                    {"offset", r.offset},
                    {"bytes", r.bytes}});
    out["tensors"] = ts;
    out["shards"] = shards;
    out["files"] = files.files;
    out["run_command"] = run_cmd.empty() ? json(nullptr) : json(run_cmd);
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  std::printf("file:          %s\n", path.c_str());
  std::printf("format:        %s%s\n",
              files.format == io::WeightFormat::Gguf ? "GGUF v" : "safetensors",
              files.format == io::WeightFormat::Gguf ? std::to_string(version).c_str() : "");
  std::printf("architecture:  %s\n", arch.empty() ? "(unknown)" : arch.c_str());
  std::printf("tensors:       %zu\n", rows.size());
  std::printf("parameters:    %lld (%.3f M)\n", (long long)params, double(params) / 1e6);
  std::printf("bytes:         %lld (%s)\n", (long long)bytes, human_bytes(double(bytes)).c_str());
  std::printf("dtypes:\n");
  for (auto& [dn, n] : dtype_count)
    std::printf(
        "  %-8s %5lld tensors  %12lld params  %6.2f bits/weight\n", dn.c_str(), (long long)n,
        (long long)dtype_params[dn],
        dtype_params[dn] ? 8.0 * double(dtype_bytes_map[dn]) / double(dtype_params[dn]) : 0.0);
  if (!shards.empty()) {
    std::printf("shards:        %s\n", shards.dump().c_str());
    if (out.contains("split"))
      std::printf(
          "split part:    %lld of %lld (inspect the directory or pass the first shard to "
          "rlx run to load all parts)\n",
          (long long)out["split"]["no"].get<int64_t>() + 1,
          (long long)out["split"]["count"].get<int64_t>());
  }
  std::printf("metadata (%zu):\n", metadata_count);
  for (auto& m : plain_meta) std::printf("%s\n", m.c_str());
  if (!run_cmd.empty())
    std::printf("run with:      %s\n", run_cmd.c_str());
  else if (!arch.empty())
    std::printf("run with:      (no rlx family for architecture '%s' yet)\n", arch.c_str());
  return 0;
}

// --dump NAME OUT.npy: one tensor as float32 in PyTorch dimension order.
int run_dump(const std::string& path, const std::string& prefer, const std::string& name,
             const std::string& out) {
  auto store = io::WeightStore::open(path, prefer);
  if (!store->contains(name)) {
    std::string near;
    for (auto& n : store->closest_names(name)) near += (near.empty() ? "" : ", ") + n;
    fail("--dump {}: no such tensor in {} (closest: {})", name, path, near);
  }
  TensorView v = store->get(name);
  Tensor f;
  if (is_quantized(v.dtype)) {  // dequantize_row's error names the type and the tensor
    f = Tensor::empty(DType::F32, v.shape);
    dequantize_row(v.dtype, v.data, f.ptr<float>(), v.numel(), name.c_str());
  } else {
    f = to_f32(v);
  }
  io::write_npy(out, f.view());
  std::fprintf(stderr, "%s: %s %s -> float32 %s\n", out.c_str(), name.c_str(), dtype_name(v.dtype),
               v.shape.str().c_str());
  return 0;
}

}  // namespace

Runner add_inspect(CLI::App& app) {
  auto* cmd = app.add_subcommand("inspect", "Show what a checkpoint (GGUF / safetensors) holds");
  auto path = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  auto prefer = std::make_shared<std::string>();
  cmd->add_option("path", *path,
                  "A .gguf or .safetensors file, an index.json, or a model directory")
      ->required();
  cmd->add_flag("--json", *as_json, "Print one JSON object (see docs/cli.md)");
  cmd->add_option("--prefer", *prefer,
                  "In a directory with several GGUF files, pick the one whose name contains this "
                  "(e.g. Q4_K_M)");
  auto dump = std::make_shared<std::vector<std::string>>();
  cmd->add_option("--dump", *dump,
                  "NAME OUT.npy: write one tensor dequantized to float32 (PyTorch dimension order)")
      ->expected(2);
  return [=]() {
    if (!dump->empty()) return run_dump(*path, *prefer, (*dump)[0], (*dump)[1]);
    return run_inspect(*path, *as_json, *prefer);
  };
}

void add_threads_flag(CLI::App& cmd, int& threads) {
  cmd.add_option("-t,--threads", threads, "Threads (default: physical cores)")
      ->check(CLI::Range(0, 1024));
}

}  // namespace rlx::cli
