// CPU-target passes: the convolution schedule and the vectorization of its tiles. One pass
// per file, each with a lit test of the same name under test/lit/targets/cpu/.
#ifndef VIDNET_CPU_PASSES_TD
#define VIDNET_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def TileConvs : Pass<"vidnet-cpu-tile-convs", "mlir::func::FuncOp"> {
  let summary = "Rewrite each linalg.conv_3d_ndhwc_dhwcf as a loop nest of static linalg.matmul tiles";
  let description = [{
    A direct convolution as register-blocked matrix products, the schedule the CPU
    vectorizes well (and that handles strides without gathers):

        for n, f-block, od, oh, ow-block:          acc[OWT x FT] = 0
          for kd, kh, kw, c-block:                 acc += X[OWT x CT] * W[CT x FT]

    X is a rank-reduced extract_slice of the zero-padded input with stride s_w along W
    (rows ow*s_w + kw), W a slice of the D x H x W x C x F filter. The tile sizes are
    static: OWT = a divisor of OW up to 8, CT = a divisor of C up to 8, FT = 32 or 16,
    with F padded to a multiple of 16 (zero filters) and W padded when OW has no divisor
    of at least 4; the padded outputs are sliced away. 8 x 32 f32 accumulators are 16
    AVX-512 registers. Runs after vidnet-lower-to-linalg, on tensors; the conv's input
    is already zero-padded there, and extra columns are folded into that tensor.pad.
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::scf::SCFDialect",
                           "mlir::tensor::TensorDialect", "mlir::arith::ArithDialect"];
}

def VectorizeTiles : Pass<"vidnet-cpu-vectorize-tiles", "mlir::func::FuncOp"> {
  let summary = "Vectorize the static linalg.matmul tiles, and only them";
  let description = [{
    Each linalg.matmul with static shapes of at most 16 x 16 x 64 (the tiles of
    vidnet-cpu-tile-convs) becomes transfer_reads, one vector.contract and a
    transfer_write; the contraction is lowered to outer products (vector.fma on 16- or
    32-lane rows) and each A element is read as a scalar and broadcast. Nothing else is vectorized: vectorizing
    a whole untiled function once made mlir-opt take 16 GB. Run loop-invariant subset
    hoisting afterwards so the accumulator stays in registers across the reduction loops.
  }];
  let dependentDialects = ["mlir::vector::VectorDialect"];
}

#endif // VIDNET_CPU_PASSES_TD
