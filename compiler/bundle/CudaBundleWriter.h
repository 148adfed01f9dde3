// `vidc build --target cuda:sm_XY`: a bundle of PTX, cubin and launch plans for NVIDIA GPUs.
#pragma once

#include "compiler/ModelGraph.h"
#include "compiler/targets/cuda/CudaPipeline.h"

#include <string>

namespace vidnet {

struct CudaBundleRequest {
  const ModelGraph &graph;
  const std::string &specText;
  int64_t batch = 1;  // forward and train_step are both compiled at this batch
  bool trainStep = true;
  cuda::GpuTarget target;
  std::string outDir;
};

struct CudaBundleSummary {
  double seconds = 0;
  int forwardKernels = 0, forwardOps = 0;
  int trainKernels = 0, trainOps = 0;
  int maxRegisters = 0, spillingKernels = 0;
  int distinctKernels = 0;  // compiled: the launches of identical layers share one
};

// Like writeCpuBundle: assembled aside and renamed into place. ptxas (found as findPtxas
// says) assembles the cubin; its resource report goes into the manifest.
bool writeCudaBundle(const CudaBundleRequest &request, CudaBundleSummary &summary, std::string &error);

// The number of vidnet-dialect ops an entry point has after (2+1)D decomposition (and, for
// train_step, differentiation): what the kernel count is compared with.
int countVidnetOps(mlir::ModuleOp vidnetStage);

} // namespace vidnet
