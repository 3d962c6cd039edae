// Binds checkpoint tensors into a graph as parameters. Large matrices stay in their stored
// dtype (zero copy); small vectors (norm gains, biases) are converted to F32 once at load,
// which the element-wise kernels need and which costs negligible memory.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rlx/io/weights.h"
#include "rlx/ir/builder.h"

namespace rlx::nn {

class ParamBinder {
 public:
  explicit ParamBinder(ir::GraphBuilder& b) : b_(b) {}
  // A matrix used by linear/embedding: kept in its dtype.
  ir::Value matrix(const io::WeightScope& s, const std::string& name, const Shape& shape);
  // A vector or other small tensor needed in F32 (converted if stored otherwise).
  ir::Value f32(const io::WeightScope& s, const std::string& name, const Shape& shape);
  std::optional<ir::Value> maybe_f32(const io::WeightScope& s, const std::string& name,
                                     const Shape& shape);
  // Constant data owned by the graph's owner (e.g. RoPE tables).
  ir::Value constant(const std::string& name, Tensor t);
  // Converted copies must outlive every program built from the graph.
  std::vector<Tensor> take_owned() { return std::move(owned_); }
  ir::GraphBuilder& builder() { return b_; }

 private:
  ir::GraphBuilder& b_;
  std::vector<Tensor> owned_;
};

}  // namespace rlx::nn
