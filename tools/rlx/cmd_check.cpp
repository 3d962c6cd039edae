// rlx check PATH [--json]: which family runs a checkpoint and what it lacks.
#include <nlohmann/json.hpp>

#include <cstdio>

#include "commands.h"
#include "rlx/models/check.h"

namespace rlx::cli {

Runner add_check(CLI::App& app) {
  auto path = std::make_shared<std::string>();
  auto prefer = std::make_shared<std::string>();
  auto as_json = std::make_shared<bool>(false);
  auto* cmd =
      app.add_subcommand("check", "Check that a checkpoint can be run, and by which family");
  cmd->add_option("path", *path, "GGUF / safetensors file or model directory")->required();
  cmd->add_option("--prefer", *prefer, "In a directory with several GGUF files, pick this quant");
  cmd->add_flag("--json", *as_json, "Print one JSON object");
  return [=]() {
    models::CheckReport r = models::check_model(*path, *prefer);
    if (*as_json) {
      nlohmann::ordered_json j;
      j["format"] = r.format;
      j["architecture"] = r.architecture;
      j["family"] = r.family ? nlohmann::ordered_json(*r.family) : nlohmann::ordered_json(nullptr);
      j["ok"] = r.ok();
      j["missing"] = r.missing;
      j["problems"] = r.problems;
      std::printf("%s\n", j.dump(2).c_str());
    } else {
      std::printf("format:        %s\narchitecture:  %s\nfamily:        %s\n", r.format.c_str(),
                  r.architecture.empty() ? "(none)" : r.architecture.c_str(),
                  r.family ? r.family->c_str() : "(none)");
      for (auto& m : r.missing) std::printf("missing:       %s\n", m.c_str());
      for (auto& p : r.problems) std::printf("problem:       %s\n", p.c_str());
      if (r.ok())
        std::printf("ok:            rlx run %s --weights %s\n", r.family->c_str(), path->c_str());
    }
    return r.ok() ? 0 : 1;
  };
}

}  // namespace rlx::cli
