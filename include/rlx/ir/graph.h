// A graph is a list of nodes in topological order; each node produces one value.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "rlx/core/tensor.h"
#include "rlx/ir/op.h"

namespace rlx::ir {

using ValueId = int32_t;

struct Node {
  OpKind op;
  std::vector<ValueId> inputs;
  Attrs attrs;
  DType dtype = DType::F32;
  Shape shape;
  std::string name;  // leaves: binding name; others: optional debug name (checkpoint path)
};

struct Graph {
  std::vector<Node> nodes;
  std::map<std::string, ValueId> inputs, params, states, outputs;
  std::map<ValueId, TensorView> param_data;  // bound weights (views into mapped files)

  const Node& node(ValueId v) const { return nodes[size_t(v)]; }
  std::string describe(ValueId v) const;  // "rms_norm 'model.norm' [1, 7, 64] F32"
  std::string dump() const;               // one line per node
};

}  // namespace rlx::ir
