#include "rlx/models/check.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include "rlx/core/error.h"
#include "rlx/io/gguf.h"
#include "rlx/io/model_files.h"
#include "rlx/models/families.h"
#include "rlx/models/registry.h"

namespace rlx::models {
namespace fs = std::filesystem;

namespace {

nlohmann::json read_config(const std::string& dir) {
  fs::path p = fs::path(dir) / "config.json";
  std::ifstream in(p);
  RLX_CHECK(in.good(), "{}: config.json not found next to the safetensors weights", dir);
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail("{}: invalid JSON: {}", p.string(), e.what());
  }
}

}  // namespace

std::string detect_architecture(const std::string& path, const std::string& prefer) {
  io::ModelFiles files = io::resolve_model_files(path, prefer);
  if (files.format == io::WeightFormat::Gguf)
    return io::GgufFile::open(files.files.front()).architecture();
  nlohmann::json c = read_config(files.dir);
  std::string mt = c.value("model_type", "");
  if (mt.empty() && c.contains("architectures") && c["architectures"].is_array() &&
      !c["architectures"].empty())
    mt = c["architectures"][0].get<std::string>();
  return mt;
}

CheckReport check_model(const std::string& path, const std::string& prefer) {
  CheckReport r;
  io::ModelFiles files = io::resolve_model_files(path, prefer);
  if (files.format == io::WeightFormat::Gguf) {
    r.format = "gguf";
    io::GgufFile g = io::GgufFile::open(files.files.front());
    r.architecture = g.architecture();
    // The keys llama.cpp's loader requires.
    std::vector<std::string> keys = {"general.architecture"};
    if (!r.architecture.empty())
      for (const char* k : {".context_length", ".embedding_length", ".block_count"})
        keys.push_back(r.architecture + k);
    keys.push_back("tokenizer.ggml.model");
    keys.push_back("tokenizer.ggml.tokens");
    for (auto& k : keys)
      if (!g.has(k)) r.missing.push_back(k);
  } else {
    r.format = "safetensors";
    nlohmann::json c = read_config(files.dir);
    r.architecture = detect_architecture(path, prefer);
    for (const char* k : {"model_type", "hidden_size", "num_hidden_layers", "num_attention_heads",
                          "vocab_size", "intermediate_size"})
      if (!c.contains(k)) r.missing.push_back(std::string("config.json:") + k);
    if (!fs::exists(fs::path(files.dir) / "tokenizer.json"))
      r.problems.push_back("no tokenizer.json: rlx run needs --prompt-ids or --tokenizer");
  }
  if (auto f = family_for_arch(r.architecture))
    r.family = f->name;
  else
    r.problems.push_back(r.architecture.empty()
                             ? "the file declares no architecture"
                             : "rlx has no family for architecture '" + r.architecture + "'");
  return r;
}

}  // namespace rlx::models
