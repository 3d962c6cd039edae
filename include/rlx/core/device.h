// Where a program runs.
#pragma once
#include <string>

namespace rlx {

struct Device {
  enum class Kind { Cpu, Cuda };
  Kind kind = Kind::Cpu;
  int index = 0;

  static Device cpu() { return {}; }
  static Device cuda(int index = 0) { return {Kind::Cuda, index}; }
  // "cpu", "cuda", "cuda:1"; throws rlx::Error otherwise.
  static Device parse(const std::string& s);
  std::string str() const;
};

}  // namespace rlx
