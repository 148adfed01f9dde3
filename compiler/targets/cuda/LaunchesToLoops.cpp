// vidnet-cuda-launches-to-loops: gpu.launch -> for block { for thread { body } } on the host.
#include "compiler/targets/cuda/CudaPasses.h"

#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"

namespace vidnet::cuda {
#define GEN_PASS_DEF_LAUNCHESTOLOOPS
#include "compiler/targets/cuda/CudaPasses.h.inc"
} // namespace vidnet::cuda

using namespace mlir;

namespace {

struct LaunchesToLoops : vidnet::cuda::impl::LaunchesToLoopsBase<LaunchesToLoops> {
  void runOnOperation() override {
    SmallVector<gpu::LaunchOp> launches;
    getOperation().walk([&](gpu::LaunchOp launch) { launches.push_back(launch); });
    for (gpu::LaunchOp launch : launches) {
      if (launch.getBody().getBlocks().size() != 1 || !launch.getWorkgroupAttributions().empty() ||
          !launch.getPrivateAttributions().empty()) {
        launch.emitError("vidnet-cuda-launches-to-loops: only single-block launches without shared or private memory");
        return signalPassFailure();
      }
      auto isOne = [](Value v) { return getConstantIntValue(v) == std::optional<int64_t>(1); };
      if (!isOne(launch.getGridSizeY()) || !isOne(launch.getGridSizeZ()) || !isOne(launch.getBlockSizeY()) ||
          !isOne(launch.getBlockSizeZ())) {
        launch.emitError("vidnet-cuda-launches-to-loops: only one-dimensional launches (y and z sizes 1)");
        return signalPassFailure();
      }
      OpBuilder b(launch);
      Location loc = launch.getLoc();
      Value zero = arith::ConstantIndexOp::create(b, loc, 0), one = arith::ConstantIndexOp::create(b, loc, 1);
      auto blocks = scf::ForOp::create(b, loc, zero, launch.getGridSizeX(), one);
      b.setInsertionPointToStart(blocks.getBody());
      auto threads = scf::ForOp::create(b, loc, zero, launch.getBlockSizeX(), one);
      b.setInsertionPointToStart(threads.getBody());
      IRMapping map;
      gpu::KernelDim3 blockIds = launch.getBlockIds(), threadIds = launch.getThreadIds();
      gpu::KernelDim3 gridSize = launch.getGridSize(), blockSize = launch.getBlockSize();
      map.map(blockIds.x, blocks.getInductionVar());
      map.map(threadIds.x, threads.getInductionVar());
      for (Value v : {blockIds.y, blockIds.z, threadIds.y, threadIds.z})
        map.map(v, zero);
      map.map(gridSize.x, launch.getGridSizeX());
      map.map(gridSize.y, launch.getGridSizeY());
      map.map(gridSize.z, launch.getGridSizeZ());
      map.map(blockSize.x, launch.getBlockSizeX());
      map.map(blockSize.y, launch.getBlockSizeY());
      map.map(blockSize.z, launch.getBlockSizeZ());
      for (Operation &op : launch.getBody().front().without_terminator())
        b.clone(op, map);
      // The body may also read the ids and sizes through ops rather than block arguments.
      auto pick = [&](gpu::Dimension d, Value x) { return d == gpu::Dimension::x ? x : zero; };
      SmallVector<Operation *> idOps;
      threads.getBody()->walk([&](Operation *op) {
        if (isa<gpu::BlockIdOp, gpu::ThreadIdOp, gpu::GridDimOp, gpu::BlockDimOp>(op))
          idOps.push_back(op);
      });
      for (Operation *op : idOps) {
        Value v;
        if (auto id = dyn_cast<gpu::BlockIdOp>(op))
          v = pick(id.getDimension(), blocks.getInductionVar());
        else if (auto id = dyn_cast<gpu::ThreadIdOp>(op))
          v = pick(id.getDimension(), threads.getInductionVar());
        else if (auto dim = dyn_cast<gpu::GridDimOp>(op))
          v = dim.getDimension() == gpu::Dimension::x ? launch.getGridSizeX() : one;
        else
          v = cast<gpu::BlockDimOp>(op).getDimension() == gpu::Dimension::x ? launch.getBlockSizeX() : one;
        op->getResult(0).replaceAllUsesWith(v);
        op->erase();
      }
      launch.erase();
    }
  }
};

} // namespace
