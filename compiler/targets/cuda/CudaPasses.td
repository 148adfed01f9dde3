// CUDA-target passes: host loops unrolled, kernels formed. One pass per file, each with a
// lit test of the same name under test/lit/targets/cuda/.
#ifndef VIDNET_CUDA_PASSES_TD
#define VIDNET_CUDA_PASSES_TD

include "mlir/Pass/PassBase.td"

def UnrollHostLoops : Pass<"vidnet-cuda-unroll-host-loops", "mlir::func::FuncOp"> {
  let summary = "Fully unroll the entry point's top-level scf.for loops (constant trip counts)";
  let description = [{
    The host side of a CUDA entry point must be a straight line of launches whose
    arguments are buffers at static offsets (each kernel argument is one bare pointer
    and the kernel adds the view's static offset). vidnet-derive-train-step emits small
    loops over filter taps (the filter gradient of a (2+1)D temporal conv, 3 or 7
    iterations) whose subviews have dynamic offsets; unrolling them and folding the
    induction variables makes every offset static. A loop with a non-constant trip count
    is an error.
  }];
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::arith::ArithDialect"];
}

def FormKernels : Pass<"vidnet-cuda-form-kernels", "mlir::func::FuncOp"> {
  let summary = "Turn each linalg.generic of a bufferized entry point into one gpu.launch";
  let description = [{
    Runs after bufferization and linalg-generalize-named-ops on a straight-line entry
    point. Each linalg.generic becomes a gpu.launch with one thread per point of its
    parallel iteration space (256 threads per block, a linear grid, the output's
    innermost dimension fastest so stores and filter loads coalesce); reduction
    dimensions are scf.for loops whose accumulators stay in registers. Three fusions
    remove whole kernels and buffers:

      * zero padding: a buffer that is only zero-filled, receives one copy into its
        interior and is then read is never built; readers load from the copy's source
        behind a bounds check (conv padding costs no kernel and no memory);
      * constant inits: a fill that is overwritten whole by the next writer becomes that
        writer's initial accumulator (a conv's zero init);
      * epilogues: an elementwise linalg.generic that directly follows its producer and
        reads the producer's output at the same index is applied to the accumulator in
        the producer's thread (conv + BN + ReLU (+ residual add) is one kernel); the
        producer's output is still stored when anything else reads it (training keeps it
        for the backward pass).

    A sum into fewer than 262,144 output elements (BN statistics, the filter gradients'
    per-tap products) is split over its reduction: a first kernel gives each of up to
    ceil(524288 / outputs) parts a contiguous range of the flattened leading reduction
    dimensions (at least 128 terms each) and writes each part's sum, from zero, to a
    parts x outputs buffer; the op's own kernel adds the parts to the output's value in
    order. One thread per output left most of a GPU idle there (r3d_18's stem filter
    gradient was 192 threads, each summing 50,176 products).

    Host-side scalar loads (train_step's learning rate and momentum read from the hyper
    buffer) are moved into the kernels that use them: on the GPU that buffer lives in
    device memory. Anything left on the host that is not an allocation, a view, a
    constant or a launch is an error.
  }];
  let dependentDialects = ["mlir::gpu::GPUDialect", "mlir::scf::SCFDialect", "mlir::arith::ArithDialect",
                           "mlir::memref::MemRefDialect", "mlir::affine::AffineDialect"];
}

def LaunchesToLoops : Pass<"vidnet-cuda-launches-to-loops", "mlir::func::FuncOp"> {
  let summary = "Run each gpu.launch as two scf.for loops (blocks, threads) on the host";
  let description = [{
    A check of kernel formation where no GPU is: the kernels vidnet-cuda-form-kernels
    builds, with every launch executed sequentially on the CPU (block ids and thread ids
    become loop induction variables, y and z are 0). The CPU pipeline's tail then compiles
    the function, and the compiled-model tests compare it with the reference interpreter:
    padding, init and epilogue fusion, index arithmetic and the moved host loads are all
    exercised. Only for one-dimensional launches (what vidnet-cuda-form-kernels makes) and
    kernels without barriers or shared memory, whose threads are independent.
  }];
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::arith::ArithDialect"];
}

#endif // VIDNET_CUDA_PASSES_TD
