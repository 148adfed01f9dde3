// A CUDA bundle's launch plan, one definition for both sides: vidc fills it from the lowered
// module and writes it into manifest.json's "cuda" section (compiler/targets/cuda/LaunchPlan.cpp);
// vidrun reads it back, checks it and runs it (runtime/cuda/CudaExecutor.cpp).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace vidnet::launch_plan {

// One argument of an entry point's C ABI: "clips", "params", ..., "logits".
struct AbiBuffer {
  std::string name;
  int64_t bytes = 0;
  bool output = false;  // written by some kernel: copied back after a run, never uploaded
};

// A kernel's pointer argument: an ABI buffer, or a byte offset into the entry's arena.
struct LaunchArg {
  int abi = -1;             // index into EntryPlan::abi, or -1 for the arena
  int64_t arenaOffset = 0;  // bytes, when abi == -1
  bool operator==(const LaunchArg &) const = default;
};

struct KernelLaunch {
  std::string kernel;
  int64_t grid[3] = {1, 1, 1}, block[3] = {1, 1, 1};
  int64_t sharedBytes = 0;  // dynamic shared memory
  std::vector<LaunchArg> args;
  // For vidc's reports only (not in the manifest's launch list): the model-graph ops the kernel
  // computes, by spec location name, and their spec lines.
  std::vector<std::string> ops;
  std::vector<int> specLines;
};

struct EntryPlan {
  std::string entry;  // forward | train_step
  std::vector<AbiBuffer> abi;
  int64_t arenaBytes = 0;      // scratch for the intermediates, shared by the launches
  int64_t unplannedBytes = 0;  // vidc's report: the intermediates' total size without reuse
  std::vector<KernelLaunch> launches;
};

// The manifest's whole "cuda" section as the runtime runs it.
struct CudaPlan {
  std::string arch, cubinFile, ptxFile;  // "sm_90"; file names inside the bundle directory
  std::map<std::string, EntryPlan> entries;
};

} // namespace vidnet::launch_plan
