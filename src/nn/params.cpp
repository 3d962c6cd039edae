#include "rlx/nn/params.h"

namespace rlx::nn {

ir::Value ParamBinder::matrix(const io::WeightScope& s, const std::string& name,
                              const Shape& shape) {
  return b_.param(s.path(name), s.get(name, shape));
}

ir::Value ParamBinder::f32(const io::WeightScope& s, const std::string& name, const Shape& shape) {
  TensorView v = s.get(name, shape);
  if (v.dtype == DType::F32) return b_.param(s.path(name), v);
  Tensor t = to_f32(v);
  owned_.push_back(t);
  return b_.param(s.path(name), t.view());
}

std::optional<ir::Value> ParamBinder::maybe_f32(const io::WeightScope& s, const std::string& name,
                                                const Shape& shape) {
  if (!s.contains(name)) return std::nullopt;
  return f32(s, name, shape);
}

ir::Value ParamBinder::constant(const std::string& name, Tensor t) {
  owned_.push_back(t);
  return b_.param(name, t.view());
}

}  // namespace rlx::nn
