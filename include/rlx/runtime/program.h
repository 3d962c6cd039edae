// A graph compiled for a device: verified, dead nodes dropped, views resolved, intermediate
// memory planned by liveness into one arena, parameters bound. Run it with inputs → outputs.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "rlx/core/device.h"
#include "rlx/core/tensor.h"
#include "rlx/core/thread_pool.h"
#include "rlx/ir/graph.h"

namespace rlx {

struct CompileOptions {
  Device device = Device::cpu();
  int threads = 0;                   // 0 = physical cores
  std::shared_ptr<ThreadPool> pool;  // shared between programs; created when null
  // Compute precision of the matrix products. F32: weights as they are. F16 / BF16 (CUDA only):
  // F32 parameters used only as linear weights or embedding tables are uploaded in that type,
  // so their products round activations to it and sum in F32 (norms, attention, the rest F32).
  DType precision = DType::F32;
};

// Free and total memory of a device in bytes, and its name; nullopt for the CPU. Throws when
// the device is not available (or not built in).
struct DeviceMemory {
  int64_t free_bytes = 0, total_bytes = 0;
  std::string name;
};
std::optional<DeviceMemory> device_memory(const Device& device);
// Bytes a parameter takes once uploaded to `device` with that compile precision (as a linear
// weight): F16/BF16 and the natively kept quantized types as stored, other quantized types as
// F16, F32 matrices as 16-bit under a 16-bit precision.
int64_t device_weight_bytes(const Device& device, const TensorView& param, DType precision);

class Program {
 public:
  static Program compile(const ir::Graph& graph, const CompileOptions& options = {});

  // Inputs and states are bound by name; each must have exactly the declared shape and dtype
  // and be contiguous. States are read and written in place. Returns the outputs.
  // On CUDA, inputs are uploaded and outputs downloaded per run; a State lives in a device
  // mirror keyed by its host pointer: uploaded on first use, then kept on the device across
  // runs and programs (the host tensor is not updated; see docs/cuda.md).
  std::map<std::string, Tensor> run(const std::map<std::string, TensorView>& inputs,
                                    const std::map<std::string, TensorView>& states = {});

  int64_t arena_bytes() const { return arena_bytes_; }
  size_t step_count() const { return steps_.size(); }
  const ir::Graph& graph() const { return graph_; }
  ThreadPool& pool() const { return *pool_; }

 private:
  struct Layout {
    int buffer = -1;        // index into buffers_, or -1 for an external binding
    ir::ValueId root = -1;  // the value owning the memory (external leaf or buffer producer)
    int64_t offset = 0;     // elements from the root's start
    Strides strides;
    bool contiguous = true;
  };
  TensorView view_of(ir::ValueId v, const std::vector<void*>& bases) const;
  // Checks bindings by name (shape, dtype, contiguity) and records their host pointers.
  void bind(const std::map<std::string, ir::ValueId>& decl,
            const std::map<std::string, TensorView>& given, const char* what,
            std::vector<void*>& bases) const;

  // Device execution (program_device.cpp): resources of a non-CPU program, its preparation
  // at compile time (kernels checked, arena allocated, parameters uploaded) and its run.
  struct DeviceState;
  static void require_device(const Device& device);
  void prepare_device(const CompileOptions& options);
  std::map<std::string, Tensor> run_device(std::vector<void*>& bases);
  std::shared_ptr<DeviceState> device_;

  ir::Graph graph_;
  std::vector<Layout> layout_;  // per value
  std::vector<int64_t> buffer_offset_;
  std::vector<ir::ValueId> steps_;  // values computed by a kernel, in execution order
  int64_t arena_bytes_ = 0;
  std::shared_ptr<void> arena_;
  std::shared_ptr<ThreadPool> pool_;
};

// Compiled programs keyed by a shape signature (e.g. "prefill:T=7"), built on first use.
class ProgramCache {
 public:
  explicit ProgramCache(CompileOptions options) : options_(std::move(options)) {}
  Program& get(const std::string& key, const std::function<ir::Graph()>& build);
  size_t size() const { return programs_.size(); }
  void clear() { programs_.clear(); }
  const CompileOptions& options() const { return options_; }

 private:
  CompileOptions options_;
  std::map<std::string, std::unique_ptr<Program>> programs_;
};

}  // namespace rlx
