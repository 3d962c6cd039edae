#include "rlx/core/device.h"

#include "rlx/core/error.h"

namespace rlx {

Device Device::parse(const std::string& s) {
  if (s == "cpu") return cpu();
  if (s == "cuda") return cuda(0);
  if (s.rfind("cuda:", 0) == 0) {
    std::string n = s.substr(5);
    RLX_CHECK(!n.empty() && n.size() < 4 && n.find_first_not_of("0123456789") == std::string::npos,
              "invalid device '{}': expected cpu, cuda or cuda:N", s);
    return cuda(std::stoi(n));
  }
  fail("invalid device '{}': expected cpu, cuda or cuda:N", s);
}

std::string Device::str() const {
  return kind == Kind::Cpu ? "cpu" : "cuda:" + std::to_string(index);
}

}  // namespace rlx
