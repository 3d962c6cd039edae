// rlx quantize IN OUT --type TYPE [--pure] [--overwrite]: writes a GGUF of a llama.cpp file type.
#include <cstdio>

#include "commands.h"
#include "rlx/models/quant_policy.h"
#include "rlx/models/quantize.h"

namespace rlx::cli {

Runner add_quantize(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "quantize", "Quantize an F32/F16/BF16 GGUF or a safetensors checkpoint to a GGUF file type");
  auto o = std::make_shared<models::QuantizeOptions>();
  auto quiet = std::make_shared<bool>(false);
  std::string types;
  for (auto& n : models::quant_file_type_names()) types += (types.empty() ? "" : ", ") + n;
  cmd->add_option("input", o->input,
                  "An F32/F16/BF16 .gguf (split: the first shard), a .safetensors file or a "
                  "Hugging Face model directory")
      ->required();
  cmd->add_option("output", o->output, "The .gguf file to write")->required();
  cmd->add_option("--type", o->type, "File type (llama-quantize names): " + types)->required();
  cmd->add_flag("--pure", o->pure,
                "Every quantizable tensor gets the type's default type (no mix rules, as "
                "llama-quantize --pure)");
  cmd->add_flag("--overwrite", o->overwrite, "Replace the output file when it exists");
  cmd->add_option("--imatrix", o->imatrix, "Importance matrix (not supported yet)");
  add_threads_flag(*cmd, o->threads);
  cmd->add_flag("-q,--quiet", *quiet, "No per-tensor progress on stderr");
  return [=]() {
    o->verbose = !*quiet;
    models::QuantizeResult r = models::quantize_model(*o);
    if (!*quiet)
      std::fprintf(stderr, "%s: %s (file type %d), %.2f MiB -> %.2f MiB in %.2f s\n",
                   o->output.c_str(), r.file_type.c_str(), r.ftype, double(r.bytes_in) / 1048576.0,
                   double(r.bytes_out) / 1048576.0, r.seconds);
    return 0;
  };
}

}  // namespace rlx::cli
