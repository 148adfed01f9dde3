// The CPU pipeline as one narrated list. Order matters where commented.
#include "compiler/targets/cpu/CpuPipeline.h"

#include "compiler/targets/cpu/CpuPasses.h"
#include "compiler/transforms/Passes.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"

namespace vidnet::cpu {

void registerCpuPipelineDialects(mlir::DialectRegistry &registry) {
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  registry.insert<VidnetDialect>();
}

std::string cpuLoweringToLLVM() {
  std::string p;
  auto add = [&](const char *pass) { p += (p.empty() ? "" : ",") + std::string(pass); };
  // Nested under func.func (and llvm.func) wherever a pass allows it, so that MLIR lowers the
  // functions on all cores (the parallel loops' bodies are functions of their own): the same
  // output, r3d_18's train_step lowered in 3.1 s instead of 4.0 on 2 cores.
  // full-unroll: otherwise vector-to-scf puts allocas inside loops and overflows the stack.
  // expand-strided-metadata must precede lower-affine (it produces affine.apply).
  add("func.func(convert-linalg-to-loops,convert-vector-to-scf{full-unroll=true},convert-scf-to-cf,"
      "expand-strided-metadata,lower-affine,convert-vector-to-llvm)");
  add("finalize-memref-to-llvm");
  add("func.func(convert-math-to-llvm,convert-arith-to-llvm)");
  // Bare pointers: void vidnet_forward(const float*, const float*, const float*, float*).
  add("convert-func-to-llvm{use-bare-ptr-memref-call-conv=1}");
  add("convert-cf-to-llvm");
  add("llvm.func(convert-ub-to-llvm)");
  add("reconcile-unrealized-casts");
  return p;
}

std::string frontPipeline(Stage until, Entry entry) {
  std::string p;
  auto add = [&](const char *pass) { p += (p.empty() ? "" : ",") + std::string(pass); };
  // Target-independent: (2+1)D into its parts, then every vidnet op to linalg on tensors.
  add("func.func(vidnet-decompose-2plus1d)");
  // Training: forward with batch statistics, loss, backward and SGD, all in one function the
  // rest of the pipeline fuses and schedules like the forward.
  if (entry == Entry::TrainStep)
    add("vidnet-derive-train-step{keep-forward=false}");
  if (until != Stage::Vidnet)
    add("func.func(vidnet-lower-to-linalg)");
  return p;
}

std::string cpuPipeline(Stage until, Entry entry, int64_t vectorBits, bool printSchedules) {
  std::string p = frontPipeline(Stage::Vidnet, entry);
  auto add = [&](const std::string &pass) { p += "," + pass; };
  const std::string vectors = "{vector-bits=" + std::to_string(vectorBits) + "}";
  // The tile schedules' options: their vectors, and printing each schedule (vidc build --print-schedules).
  const std::string scheduled =
      "{vector-bits=" + std::to_string(vectorBits) + (printSchedules ? " print-schedules=true" : "") + "}";
  if (until == Stage::Vidnet)
    return p;
  // The CPU's own schedule for the filter gradient (a chunked reduction over the output
  // positions, parallel over its register tiles), before the generic lowering would write it
  // as a matmul per tap over a transposed copy of the input.
  add("func.func(vidnet-cpu-tile-filter-grads" + scheduled + ")");
  add("func.func(vidnet-lower-to-linalg)");
  if (until == Stage::Linalg)
    return p;
  // No zero fill under a strided data gradient's phases where they overwrite it or where it is
  // only added to another gradient; before fusion takes that add into the next elementwise op.
  add("func.func(vidnet-elide-fills)");
  // BN, ReLU and the residual add into one pass over memory instead of three (measured: 5%
  // faster r3d_18 forward, and LLVM compiles less code); never into a bigger loop nest.
  add("func.func(vidnet-fuse-elementwise)");
  // Convolutions as loop nests of register-sized matmul tiles; only those tiles are
  // vectorized (never a whole untiled function: vectorizing an untiled fill made mlir-opt take
  // 16 GB); the accumulator is then hoisted out of the reduction loops into registers.
  // Before the zero fills the convs start from become parallel loops: it drops them.
  // Stride-1 convs of three taps along W as Winograd F(2,3) along W: four products per output
  // pair where the direct conv has six (r3d_18's layer1-2 convs and their data gradients on AVX-512, layer2-3 on AVX2).
  add("func.func(vidnet-cpu-winograd-convs" + vectors + ")");
  // And of three taps along D, of those left (on AVX2 r3d_18's and mc3_18's layer1, whose phase
  // rows along W are too many for its narrow filter blocks, and (2+1)D's temporal convs).
  add("func.func(vidnet-cpu-winograd-depth-convs" + vectors + ")");
  add("func.func(vidnet-cpu-tile-convs" + scheduled + ")");
  // The filters tile-convs packs, out of the per-clip forward into a call per set of weights;
  // before the packs become parallel loops, so that they become loops of forward_prepare.
  add("vidnet-cpu-hoist-weight-packing");
  // Those passes over memory, and the other large elementwise ops, as parallel loops too.
  add("func.func(vidnet-cpu-parallelize-elementwise)");
  add("canonicalize");
  add("func.func(vidnet-cpu-vectorize-tiles" + vectors + ")");
  add("func.func(loop-invariant-subset-hoisting)");
  add("canonicalize");
  // Again for sums carried by a loop around several reduction loops (flat tiles' taps along D):
  // each reduction loop's stored sum is the next one's read only once canonicalize has forwarded
  // it, and only then is the outer loop's read and write a pair that hoists into registers.
  add("func.func(loop-invariant-subset-hoisting)");
  add("canonicalize");
  add("cse");
  // Producers write into the interior of the next conv's zero-padded input instead of a copy
  // into it; after the last canonicalize on tensors, which would undo the border's slabs.
  add("func.func(vidnet-cpu-pad-in-place)");
  // The bundle's C ABI: flat caller-owned buffers, so the code allocates only scratch.
  add("vidnet-export-abi");
  // Each result computed into the caller's buffer (its tensor.empty replaced by that buffer),
  // where one-shot-bufferize alone gives it a buffer of its own and copies it into the
  // caller's afterwards: train_step's new parameters and momenta, two serial copies of every
  // weight per step (about 3% of r3d_18's step at batch 2 on 2 threads; the bits are the same).
  add("eliminate-empty-tensors");
  add("one-shot-bufferize");
  add("func.func(vidnet-cpu-zero-borders)");
  // Folds the tile loops that accumulate into a view and yield it unchanged, so that the
  // copy of their result back into that view is seen to be a copy onto itself and dropped.
  add("canonicalize");
  add("func.func(vidnet-memref-copy-to-linalg,vidnet-free-buffers)");
  // The conv tiles' foralls become functions the runtime's threads call; their dispatch is
  // written once everything is in the LLVM dialect.
  add("vidnet-cpu-outline-parallel");
  // The serial code left between them, one function per loop nest.
  add("vidnet-cpu-outline-serial");
  p += "," + cpuLoweringToLLVM();
  add("vidnet-cpu-parallel-for-abi");
  // LLVM 22 would make the in-place ReLU-backward epilogues masked stores (slow on Zen 1-3).
  add("llvm.func(vidnet-cpu-freeze-selected-loads)");
  // Large one-chunk filter gradients write dW without reading it first.
  add("llvm.func(vidnet-cpu-stream-stores)");
  return p;
}

mlir::LogicalResult runCpuPipeline(mlir::ModuleOp module, Stage until, Entry entry, int64_t vectorBits,
                                   bool printSchedules) {
  static const bool registered = [] {
    mlir::registerAllPasses();
    registerVidnetPasses();
    registerVidnetCpuPasses();
    return true;
  }();
  (void)registered;
  mlir::PassManager pm(module.getContext());
  std::string error;
  llvm::raw_string_ostream errors(error);
  if (mlir::failed(mlir::parsePassPipeline(cpuPipeline(until, entry, vectorBits, printSchedules), pm, errors))) {
    module.emitError("internal error: bad CPU pipeline: ") << error;
    return mlir::failure();
  }
  // VIDNET_PASS_TIMING=1: each pass's wall time on stderr, for compile-time work.
  if (const char *timing = std::getenv("VIDNET_PASS_TIMING"); timing && std::string_view(timing) == "1")
    pm.enableTiming();
  return pm.run(module);
}

} // namespace vidnet::cpu
