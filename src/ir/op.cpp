#include "rlx/ir/op.h"

#include <array>

#include "rlx/core/error.h"

namespace rlx::ir {
namespace {

constexpr std::array<OpInfo, size_t(OpKind::kCount)> kOps = {{
    {"input", 0, 0, false, false, false},      {"param", 0, 0, false, false, false},
    {"state", 0, 0, false, false, false},      {"embedding", 2, 2, false, false, false},
    {"linear", 2, 3, false, false, false},     {"matmul", 2, 2, false, false, false},
    {"add", 2, 2, false, false, true},         {"sub", 2, 2, false, false, true},
    {"mul", 2, 2, false, false, true},         {"div", 2, 2, false, false, true},
    {"scale", 1, 1, false, false, true},       {"silu", 1, 1, false, false, true},
    {"gelu_erf", 1, 1, false, false, true},    {"gelu_tanh", 1, 1, false, false, true},
    {"relu", 1, 1, false, false, true},        {"sigmoid", 1, 1, false, false, true},
    {"tanh", 1, 1, false, false, true},        {"exp", 1, 1, false, false, true},
    {"log", 1, 1, false, false, true},         {"softplus", 1, 1, false, false, true},
    {"sqrt", 1, 1, false, false, true},        {"abs", 1, 1, false, false, true},
    {"neg", 1, 1, false, false, true},         {"pow", 1, 1, false, false, true},
    {"rms_norm", 1, 2, false, false, false},   {"layer_norm", 1, 3, false, false, false},
    {"softmax", 1, 1, false, false, false},    {"rope", 3, 3, false, false, false},
    {"attention", 3, 7, false, false, false},  {"reshape", 1, 1, true, false, false},
    {"permute", 1, 1, true, false, false},     {"slice", 1, 1, true, false, false},
    {"concat", 1, -1, false, false, false},    {"pad", 1, 1, false, false, false},
    {"cast", 1, 1, false, false, true},        {"copy", 1, 1, false, false, true},
    {"conv1d", 2, 3, false, false, false},     {"argmax", 1, 1, false, false, false},
    {"reduce_sum", 1, 1, false, false, false}, {"reduce_mean", 1, 1, false, false, false},
    {"reduce_max", 1, 1, false, false, false},
}};

}  // namespace

const OpInfo& op_info(OpKind k) {
  RLX_ASSERT(size_t(k) < kOps.size());
  return kOps[size_t(k)];
}

}  // namespace rlx::ir
