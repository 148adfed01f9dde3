// vidnet-cpu-stream-stores: the vector stores marked as streamed (streamedStore) become
// non-temporal, aligned to their size, so that they write memory without reading it first.
#include "compiler/targets/cpu/CpuPasses.h"
#include "compiler/targets/cpu/LoopInfo.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"

namespace vidnet::cpu {
#define GEN_PASS_DEF_STREAMSTORES
#include "compiler/targets/cpu/CpuPasses.h.inc"
} // namespace vidnet::cpu

using namespace mlir;

namespace {

// Whoever marks a store guarantees this alignment (streamedStore): x86's non-temporal vector
// stores need the vector's own (LLVM would otherwise split them into 8-byte MOVNTSDs on AMD).
constexpr unsigned kMaxStreamedAlignment = 64;

struct StreamStores : vidnet::cpu::impl::StreamStoresBase<StreamStores> {
  void runOnOperation() override {
    getOperation().walk([](LLVM::StoreOp store) {
      auto vector = dyn_cast<VectorType>(store.getValue().getType());
      if (!vector || !vector.getElementType().isIntOrFloat() || !vidnet::cpu::isStreamedStore(store.getLoc()))
        return;
      const unsigned bytes = vector.getNumElements() * vector.getElementTypeBitWidth() / 8;
      store.setNontemporal(true);
      store.setAlignment(std::min(bytes, kMaxStreamedAlignment));
    });
  }
};

} // namespace
