// What the runtime needs to run an entry point's kernels without MLIR: the launches in order
// (kernel, grid, block, which buffer each pointer argument is), the ABI buffers and one
// arena for the intermediates, planned at compile time.
#pragma once

#include "mlir/IR/BuiltinOps.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace vidnet::cuda {

struct AbiBuffer {
  std::string name;  // vidnet-export-abi's name: clips, params, ..., logits
  int64_t bytes = 0;
  bool output = false;  // written by some kernel: copied back, never uploaded
};

struct LaunchArg {
  int abi = -1;            // index into EntryPlan::abi, or -1 for the arena
  int64_t arenaOffset = 0;  // bytes, when abi == -1
};

struct KernelLaunch {
  std::string kernel;
  int64_t grid[3] = {1, 1, 1}, block[3] = {1, 1, 1};
  std::vector<LaunchArg> args;
  std::vector<std::string> ops;  // the model-graph ops it computes (spec location names)
  std::vector<int> specLines;
};

struct EntryPlan {
  std::string entry;  // forward | train_step
  std::vector<AbiBuffer> abi;
  int64_t arenaBytes = 0;
  int64_t unplannedBytes = 0;  // the intermediates' total size without reuse, for the report
  std::vector<KernelLaunch> launches;
};

// Reads the launch plan of the exported entry point in `module` (after vidnet-cuda-form-kernels
// and gpu-kernel-outlining), renames its kernels `<entry>_k<i>` and moves them into the
// gpu.module @vidnet_kernels of `kernels` (created on first use). The module's host code is
// left as it is. Errors (a kernel argument that is not a static buffer) are emitted on `module`.
mlir::FailureOr<EntryPlan> extractLaunchPlan(mlir::ModuleOp module, const std::string &entry,
                                            mlir::ModuleOp kernels);

nlohmann::ordered_json toJson(const EntryPlan &plan);

} // namespace vidnet::cuda
