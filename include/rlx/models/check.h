// `rlx check`: which family runs a checkpoint, and whether it has what a loader needs.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace rlx::models {

struct CheckReport {
  std::string format;        // "gguf" | "safetensors"
  std::string architecture;  // general.architecture or config.json model_type ("" if absent)
  std::optional<std::string> family;  // the rlx family that runs it
  std::vector<std::string> missing;   // required keys/fields that are absent
  std::vector<std::string> problems;  // other reasons it will not load
  bool ok() const { return family.has_value() && missing.empty() && problems.empty(); }
};

// Never throws for a readable file: problems go into the report. Unreadable files throw.
CheckReport check_model(const std::string& path, const std::string& prefer = "");
// The architecture name a checkpoint declares (for `rlx run auto`).
std::string detect_architecture(const std::string& path, const std::string& prefer = "");

}  // namespace rlx::models
