// Which rlx family runs which checkpoint architecture. Families register here explicitly
// (models/registry.cpp), so `rlx inspect`/`rlx check` can name the command that loads a file.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace rlx::models {

struct FamilyInfo {
  std::string name;                // `rlx run <name>`
  std::vector<std::string> archs;  // GGUF general.architecture values and HF model_type values
  std::string description;
};

const std::vector<FamilyInfo>& families();
// Family for a GGUF architecture or HF model_type, if rlx has one.
std::optional<FamilyInfo> family_for_arch(const std::string& arch);

}  // namespace rlx::models
