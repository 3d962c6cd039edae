#include "rlx/ir/graph.h"

#include <fmt/format.h>

namespace rlx::ir {

std::string Graph::describe(ValueId v) const {
  const Node& n = node(v);
  return fmt::format("%{} {}{} {} {}", v, op_name(n.op), n.name.empty() ? "" : " '" + n.name + "'",
                     n.shape.str(), dtype_name(n.dtype));
}

std::string Graph::dump() const {
  std::string s;
  for (size_t i = 0; i < nodes.size(); ++i) {
    s += describe(ValueId(i));
    if (!nodes[i].inputs.empty()) {
      s += " <-";
      for (auto in : nodes[i].inputs) s += fmt::format(" %{}", in);
    }
    s += "\n";
  }
  return s;
}

}  // namespace rlx::ir
