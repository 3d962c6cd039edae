// GraphBuilder adds nodes with shape/dtype inference; mismatches throw rlx::Error naming the
// op and the input shapes.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "rlx/ir/graph.h"

namespace rlx::ir {

class GraphBuilder;

// A handle to a value in a graph under construction.
class Value {
 public:
  Value() = default;
  Value(GraphBuilder* b, ValueId id) : b_(b), id_(id) {}
  ValueId id() const { return id_; }
  bool valid() const { return b_ != nullptr; }
  const Shape& shape() const;
  DType dtype() const;
  int64_t dim(int axis) const { return shape().at(axis); }
  int rank() const { return shape().rank(); }

 private:
  GraphBuilder* b_ = nullptr;
  ValueId id_ = -1;
};

class GraphBuilder {
 public:
  explicit GraphBuilder(Graph& g) : g_(g) {}
  Graph& graph() { return g_; }

  // Leaves
  Value input(const std::string& name, DType dtype, const Shape& shape);
  Value param(const std::string& name, const TensorView& data);
  Value state(const std::string& name, DType dtype, const Shape& shape);
  void output(const std::string& name, Value v);

  // Ops (see op.h for semantics). `name` labels the node for dumps and error messages.
  Value embedding(Value table, Value ids, const std::string& name = "");
  Value linear(Value x, Value w, std::optional<Value> bias = std::nullopt,
               const std::string& name = "");
  Value matmul(Value a, Value b, bool transpose_b = false);
  Value add(Value a, Value b);
  Value sub(Value a, Value b);
  Value mul(Value a, Value b);
  Value div(Value a, Value b);
  Value scale(Value x, float scale, float bias = 0.f);
  Value unary(OpKind op, Value x);
  Value silu(Value x) { return unary(OpKind::Silu, x); }
  Value gelu_erf(Value x) { return unary(OpKind::GeluErf, x); }
  Value gelu_tanh(Value x) { return unary(OpKind::GeluTanh, x); }
  Value relu(Value x) { return unary(OpKind::Relu, x); }
  Value sigmoid(Value x) { return unary(OpKind::Sigmoid, x); }
  Value tanh(Value x) { return unary(OpKind::Tanh, x); }
  Value exp(Value x) { return unary(OpKind::Exp, x); }
  Value sqrt(Value x) { return unary(OpKind::Sqrt, x); }
  Value abs(Value x) { return unary(OpKind::Abs, x); }
  Value pow(Value x, float exponent);
  Value rms_norm(Value x, std::optional<Value> w, float eps, bool offset_one = false,
                 const std::string& name = "");
  Value layer_norm(Value x, std::optional<Value> w, std::optional<Value> b, float eps,
                   const std::string& name = "");
  Value softmax(Value x, float scale = 1.f, float softcap = 0.f);
  Value rope(Value x, Value positions, Value inv_freq, RopeStyle style, int64_t rope_dims = 0,
             float attn_factor = 1.f);
  struct AttentionOptions {
    float scale = 1.f;
    float softcap = 0.f;
    MaskKind mask = MaskKind::Causal;
    int64_t window = 0;
  };
  Value attention(Value q, Value k, Value v, const AttentionOptions& opt);
  Value attention_cached(Value q, Value k, Value v, Value k_cache, Value v_cache, Value kv_pos,
                         const AttentionOptions& opt);
  Value attention_masked(Value q, Value k, Value v, Value key_mask, const AttentionOptions& opt);
  Value reshape(Value x, const std::vector<int64_t>& shape);
  Value permute(Value x, const std::vector<int>& perm);
  Value transpose(Value x, int a, int b);
  Value slice(Value x, int axis, int64_t start, int64_t stop, int64_t step = 1);
  Value concat(const std::vector<Value>& xs, int axis);
  Value pad(Value x, int axis, int64_t before, int64_t after, PadMode mode = PadMode::Zero);
  Value cast(Value x, DType dtype);
  Value copy(Value x);
  Value conv1d(Value x, Value w, std::optional<Value> bias, int64_t stride = 1, int64_t padding = 0,
               int64_t dilation = 1, int64_t groups = 1);
  Value argmax(Value x, int axis = -1);
  Value reduce(OpKind op, Value x, int axis, bool keepdim = false);

  const Node& node(Value v) const { return g_.nodes[size_t(v.id())]; }

 private:
  Value add_node(Node n);
  [[noreturn]] void shape_error(OpKind op, const std::vector<Value>& ins,
                                const std::string& why) const;
  Value binary(OpKind op, Value a, Value b);
  Graph& g_;
};

}  // namespace rlx::ir
