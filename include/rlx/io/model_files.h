// Resolves what a user points at (a file or a directory) into the weight files to load.
#pragma once
#include <string>
#include <vector>

namespace rlx::io {

enum class WeightFormat { Gguf, Safetensors };

struct ModelFiles {
  WeightFormat format;
  std::vector<std::string> files;  // every shard, in order
  std::string dir;                 // where config.json / tokenizer.json are looked up
};

// path: a .gguf or .safetensors file, a model.safetensors.index.json, or a directory.
// In a directory: model.safetensors.index.json, model.safetensors, a single *.safetensors,
// or *.gguf files (several → the one whose name contains `prefer`, e.g. "Q4_K_M"; a split
// series counts as one). Split GGUF files (split.count > 1) expand to all their shards, and a
// missing shard is an error that lists them. Throws rlx::Error with the candidates on ambiguity.
ModelFiles resolve_model_files(const std::string& path, const std::string& prefer = "");

// For a split GGUF file name "<stem>-00001-of-00003.gguf": all shard names; empty otherwise.
std::vector<std::string> split_gguf_names(const std::string& path);

}  // namespace rlx::io
