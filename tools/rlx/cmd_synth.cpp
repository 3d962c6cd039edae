// rlx synth --like Qwen3-0.6B --type Q4_K_M OUT.gguf: a random-weight GGUF with a real model's
// shapes and tokenizer, for benchmarks without downloads.
#include <cstdio>

#include "commands.h"
#include "rlx/models/quant_policy.h"
#include "rlx/models/synth.h"

namespace rlx::cli {

Runner add_synth(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "synth", "Write a random-weight GGUF with the shapes and tokenizer of a named real model");
  auto o = std::make_shared<models::SynthOptions>();
  auto quiet = std::make_shared<bool>(false);
  std::string types, likes;
  for (auto& n : models::quant_file_type_names()) types += (types.empty() ? "" : ", ") + n;
  for (auto& s : models::synth_shapes())
    likes += (likes.empty() ? "" : ", ") + s.name + " (" + s.arch + ")";
  cmd->add_option("output", o->output, "The .gguf file to write")->required();
  cmd->add_option("--like", o->like, "The model whose shapes to copy: " + likes)->required();
  cmd->add_option("--arch", o->arch, "Architecture (checked against --like's)");
  cmd->add_option("--type", o->type, "File type (llama-quantize names): " + types)->required();
  cmd->add_option("--vocab", o->vocab,
                  "Vocab-only GGUF whose tokenizer.* metadata to copy (default: llama.cpp's "
                  "models/ggml-vocab-*.gguf under $RLX_DATA_DIR or ~/.cache/rlx-data)");
  cmd->add_option("--seed", o->seed, "Random seed (default 0)");
  cmd->add_option("--layers", o->layers,
                  "Keep only the first N layers (small files for tests; default: all)");
  cmd->add_flag("--overwrite", o->overwrite, "Replace the output file when it exists");
  add_threads_flag(*cmd, o->threads);
  cmd->add_flag("-q,--quiet", *quiet, "No per-tensor progress on stderr");
  return [=]() {
    o->verbose = !*quiet;
    models::SynthResult r = models::synth_model(*o);
    if (!*quiet)
      std::fprintf(stderr, "%s: %s like %s, %lld tensors, %.2f MiB, vocab from %s, %.2f s\n",
                   o->output.c_str(), o->type.c_str(), o->like.c_str(),
                   static_cast<long long>(r.tensors), double(r.bytes) / 1048576.0, r.vocab.c_str(),
                   r.seconds);
    return 0;
  };
}

}  // namespace rlx::cli
