// `vidc build`: compile a model graph for the CPU into a bundle directory NAME.vbundle/.
#pragma once

#include "compiler/ModelGraph.h"
#include "compiler/targets/cpu/ObjectEmitter.h"

#include <string>

namespace vidnet {

struct BundleRequest {
  const ModelGraph &graph;
  const std::string &specText;  // hashed into the manifest
  int64_t batch = 1;             // train_step's batch (forward is compiled per clip)
  bool trainStep = true;         // also compile vidnet_train_step
  cpu::MachineTarget target;
  std::string outDir;
};

struct BundleTimings {
  double mlirSeconds = 0;     // mlirgen and the MLIR pass pipeline
  double llvmSeconds = 0;     // translation, O3 and code generation
  double linkSeconds = 0;
};

// The bundle is assembled in a sibling temporary directory and renamed into place, so an
// existing bundle at `outDir` is replaced whole or not at all. A directory that is not a
// bundle (no manifest.json) is never overwritten. MLIR diagnostics go to the context's
// default handler (stderr); `error` says what failed.
bool writeCpuBundle(const BundleRequest &request, BundleTimings &timings, std::string &error);

} // namespace vidnet
