// vidnet-cuda-unroll-host-loops: top-level scf.for loops of an entry point, fully unrolled.
#include "compiler/targets/cuda/CudaPasses.h"

#include "mlir/Dialect/SCF/Utils/Utils.h"

namespace vidnet::cuda {
#define GEN_PASS_DEF_UNROLLHOSTLOOPS
#include "compiler/targets/cuda/CudaPasses.h.inc"
} // namespace vidnet::cuda

using namespace mlir;

namespace {

struct UnrollHostLoops : vidnet::cuda::impl::UnrollHostLoopsBase<UnrollHostLoops> {
  void runOnOperation() override {
    if (getOperation().isExternal())
      return;
    // Unrolling an outer loop makes its inner loops top-level: repeat until none is left.
    for (;;) {
      SmallVector<scf::ForOp> loops;
      for (Operation &op : getOperation().getBody().front())
        if (auto loop = dyn_cast<scf::ForOp>(op))
          loops.push_back(loop);
      if (loops.empty())
        return;
      for (scf::ForOp loop : loops) {
        if (!loop.getStaticTripCount()) {
          loop.emitError("vidnet-cuda-unroll-host-loops: a host loop without a constant trip count cannot be "
                         "unrolled into launches");
          return signalPassFailure();
        }
        if (failed(loopUnrollFull(loop))) {
          loop.emitError("vidnet-cuda-unroll-host-loops: unrolling failed");
          return signalPassFailure();
        }
      }
    }
  }
};

} // namespace
