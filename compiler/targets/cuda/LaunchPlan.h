// What the runtime needs to run an entry point's kernels without MLIR: the launches in order
// (kernel, grid, block, which buffer each pointer argument is), the ABI buffers and one
// arena for the intermediates, planned at compile time (the types: common/LaunchPlan.h).
#pragma once

#include "common/LaunchPlan.h"

#include "mlir/IR/BuiltinOps.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace vidnet::cuda {

using launch_plan::AbiBuffer;
using launch_plan::EntryPlan;
using launch_plan::KernelLaunch;
using launch_plan::LaunchArg;

// Reads the launch plan of the exported entry point in `module` (after vidnet-cuda-form-kernels
// and gpu-kernel-outlining), renames its kernels `<entry>_k<i>` and moves them into the
// gpu.module @vidnet_kernels of `kernels` (created on first use). The module's host code is
// left as it is. Errors (a kernel argument that is not a static buffer) are emitted on `module`.
mlir::FailureOr<EntryPlan> extractLaunchPlan(mlir::ModuleOp module, const std::string &entry,
                                            mlir::ModuleOp kernels);

nlohmann::ordered_json toJson(const EntryPlan &plan);

} // namespace vidnet::cuda
