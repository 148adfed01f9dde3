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

        forall (n, od, f-block, oh, ow-block):     acc[OWT x FT] = 0
          for kd, kh, kw, c-block:                 acc += X[OWT x CT] * W[CT x FT]

    The forall is one-dimensional over the tiles in that order (affine.delinearize_index
    inside), so vidnet-cpu-outline-parallel gives each thread contiguous runs of tiles; the
    filter blocks take turns within each output frame, whose input rows each block reads
    again from L3 (with the f-block above od, a thread holding one clip streamed it from
    memory once per filter block). When
    the whole filter is at most 256 KB (it stays in L2), the f-block goes innermost instead,
    (n, od, oh, ow-block, f-block), so the tiles that read the same input rows are consecutive.
    A conv that starts from lower-to-linalg's zeros writes into an empty tensor, each tile
    starting from a zero tile.

    When the whole filter exceeds 256 KB but the part of a tile's slice it reads (the taps
    it reads x C x 32 lanes, padding rows skipped) is at most 640 KB, and F is one part of
    32-lane blocks, the filter is first packed as [F/32][kd][kh][kw][C][32] (only the taps along
    D and H that some output reads; a data gradient's flipped, transposed sub-filter straight
    from the filter, through the composed maps: a linalg.generic
    tagged `vidnet.weight_pack`, which vidnet-cpu-hoist-weight-packing moves out of the
    forward) and the tiles read it there, tile-outer: each slice is contiguous, so it streams
    from L2 (in the D x H x W x C x F layout it is 128 bytes of every 4F and uses only a
    fraction of L2's sets).

    Otherwise, when a filter block's slice (taps x C x FT floats) exceeds 512 KB, half of a typical L2,
    or 256 KB when one clip's output block fits in 512 KB and C comes in blocks of at least
    32 channels, the reduction goes outside the tiles instead, so that the filter is read
    from memory once and from L1 by every tile:

        forall (n, f-block):                       block = out[n, :, :, :, f-block]
          for kd, kh, kw, 64-channel block:        for od, oh, ow-block:
                                                     block tile += X * W over those 64 channels

    The blocks are 64 channels for 27-tap kernels and up to 128 for kernels of at most 9 taps
    (1x3x3, 3x1x1, and the phases of a strided data gradient), a divisor of C. Where C has no
    divisor of at least 32 (921 = 3 x 307), C is padded with zero channels, on the input and
    the filter, to the smallest multiple of 8 up to C + C/8 whose blocks reach 64 channels
    (936, blocks of 104), or else the one with the longest blocks.

    Where a block serves at most 16 tiles (7x7 outputs), each block first prefetches the next
    block's filter rows into L2 (memref.prefetch on the filter read in place), skipping taps
    that no output reads: there the filter streams from memory about as fast as it is used.

    Both schedules add each output's products in the same order (taps, then channels), in
    partial sums that start at zero: one row of taps (kw x C products) in a tile-outer tile,
    one 64-channel block of one tap reduction-outer; the two agree to float rounding, and
    each gives the same bits on any number of threads. When the input is a zero tensor.pad,
    taps that would only read its zero rows along D and H are skipped (the tap range of each
    tile, or the output range of each tap); a sum that starts at +0 is unchanged by the +-0
    products it skips. Along W, where the products that read zero columns are at least 3% of
    the conv's (14x14 outputs and smaller), the edge column blocks skip them by row: an
    scf.index_switch on the column block (tile-outer) or on the block and kw
    (reduction-outer) picks, for each tap, a tile of only the rows that read real columns;
    tile-outer, an edge tile's rows come in pieces, each a register tile of its own.

    X is a rank-reduced extract_slice of the zero-padded input with stride s_w along W
    (rows ow*s_w + kw), W a slice of the D x H x W x C x F filter. The tile sizes are
    static: OWT = a divisor of OW up to 8, CT = a divisor of C up to 8, FT = 32, with F
    padded to a multiple of 16 (zero filters) and W padded when OW has no divisor of at
    least 4; the padded outputs are sliced away. When the padded F is not a multiple of 32,
    its last 16 lanes are a second forall of FT = 16 tiles (F = 144: 4 x 32 + 16). 8 x 32
    f32 accumulators are 16 AVX-512 registers. Those are the sizes for vector-bits=512; with
    vector-bits=256 (AVX2: 8 lanes, 16 registers) FT = 16 (8 for F's last lanes, F padded to a
    multiple of 8) and OWT = a divisor of OW up to 6, or, where OW has none of at least 3, the
    size from 3 to 6 that pads W with the fewest columns (OW = 7: 2 x 4): 6 x 16 is 12
    accumulators. Where 24 divides the padded F (and the tiles are not reduction-outer), FT =
    24 and OWT up to 4 instead: 4 x 24 is 12 accumulators too, with fewer loads per FMA. Output
    columns may come in parts (full tiles and a tail tile, each part a forall of its own), per
    lane part. Runs after vidnet-lower-to-linalg, on tensors; the conv's input
    is already zero-padded there, and extra columns are folded into that tensor.pad.
  }];
  let options = [Option<"vectorBits", "vector-bits", "int64_t", /*default=*/"512",
                        "Bits of the target's vector registers (512: AVX-512, 32 registers; 256: AVX2, 16), which size the register tiles">,
                 Option<"printSchedules", "print-schedules", "bool", /*default=*/"false",
                        "Print each conv's schedule (chooseConvSchedule's decisions), one line per conv, to stderr">];
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::scf::SCFDialect",
                           "mlir::tensor::TensorDialect", "mlir::arith::ArithDialect",
                           "mlir::affine::AffineDialect", "mlir::bufferization::BufferizationDialect",
                           "mlir::memref::MemRefDialect", "mlir::vector::VectorDialect"];
}

def WinogradConvs : Pass<"vidnet-cpu-winograd-convs", "mlir::func::FuncOp"> {
  let summary = "Rewrite stride-1 linalg.conv_3d_ndhwc_dhwcf of three taps along W as Winograd F(2,3) along W";
  let description = [{
    For a conv with strides 1, three taps along W, one zero column of padding on each side of
    W (a zero tensor.pad), an even OW and a +0 init: each output pair (2p, 2p + 1) is

        y[2p] = m0 + m1 + m2,   y[2p + 1] = m1 - m2 - m3,
        m_i = sum over kd, kh, c of t_i[n, od + kd, oh + kh, p, c] * g[f-block, i, kd, kh, c, lane]

    with the input transform t = (d0 - d2, d1 + d2, d2 - d1, d1 - d3) of the padded columns
    d_j = x[2p + j] (one elementwise linalg.generic with the four phases as results, over the
    input's real rows along D and H)
    and the filter transform g = (w0, (w0 + w1 + w2) / 2, (w0 - w1 + w2) / 2, w2) over the taps
    along W, packed per filter block of FT lanes (one linalg.generic tagged `vidnet.weight_pack`,
    which vidnet-cpu-hoist-weight-packing moves out of the forward): four products per output
    pair where the direct conv has six.

        forall (n, od, f-block, oh):               row = out[n, od, oh, :, f-block]
          for pair tile (P pairs):                 for phase i: m_i[P x FT] = 0
                                                     for kd: part = 0; for kh, c-block: part += T_i * G_i; m_i += part
                                                   tile[2P x FT] = output transform of m_0..m_3, epilogue, store

    The phases are summed one after the other, so one phase's accumulators are in registers
    (6 x 64, 8 x 48 or 8 x 32 with AVX-512; 4 x 24 or 6 x 16 with AVX2); the sums per tap along D start from zero, as the direct
    conv's tap rows do. The conv's elementwise consumer (eval BN, ReLU, residual add) runs on
    each tile before its store (vidnet-cpu-tile-convs' epilogue), and taps along D and H that
    read only the input's zero rows are skipped. FT is the widest of four, three or two vectors
    of lanes (AVX2: three or two) that divides F and whose four phase slices of one filter block
    (taps x C x FT) fit in 640 KB; a conv with none is left to vidnet-cpu-tile-convs. On AVX2,
    where F is several filter blocks that each read an output depth's phase rows again, so is a
    conv whose output depths read more than 3 MB of them (r3d_18's layer1: 4.8 MB, 1.5x the
    direct conv's time on a Zen 3). In @train_step only the data gradients (role "conv data
    gradient"): its forward's convs stay direct, so that rounding flips no more ReLU decisions
    than before (F(2,3)'s absolute error is about 1.5x the direct sums'). Runs before
    vidnet-cpu-tile-convs, on tensors.
  }];
  let options = [Option<"vectorBits", "vector-bits", "int64_t", /*default=*/"512",
                        "Bits of the target's vector registers (512: AVX-512, 32 registers; 256: AVX2, 16)">];
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::scf::SCFDialect",
                           "mlir::tensor::TensorDialect", "mlir::arith::ArithDialect",
                           "mlir::affine::AffineDialect", "mlir::vector::VectorDialect"];
}

def WinogradDepthConvs : Pass<"vidnet-cpu-winograd-depth-convs", "mlir::func::FuncOp"> {
  let summary = "Rewrite stride-1 linalg.conv_3d_ndhwc_dhwcf of three taps along D as Winograd F(2,3) along D";
  let description = [{
    For a conv with strides 1, three taps along D, one zero frame of padding on each side of D
    (a zero tensor.pad, any padding along H and W), an even OD and a +0 init: each output-depth
    pair (2q, 2q + 1) is

        y[2q] = m0 + m1 + m2,   y[2q + 1] = m1 - m2 - m3,
        m_i = sum over kh, kw, c of t_i[n, q, oh + kh, ow + kw, c] * g[f-block, i, kh, kw, c, lane]

    with the input transform t = (d0 - d2, d1 + d2, d2 - d1, d1 - d3) of the padded frames
    d_j = x[2q + j] (one elementwise linalg.generic with the four phases as results, over the
    input's real rows along H and all its padded columns) and the filter transform g = (w0, (w0 +
    w1 + w2) / 2, (w0 - w1 + w2) / 2, w2) over the taps along D, packed per filter block of FT
    lanes (a `vidnet.weight_pack`): four products per output pair where the direct conv has six.

        forall (n, q, oh, f-block):                rows = out[n, 2q .. 2q + 1, oh, :, f-block]
          for column tile (R columns):             for phase i: m_i[R x FT] = 0
                                                     for kh: part = 0; for kw, c-block: part += T_i * G_i; m_i += part
                                                   tiles of depths 2q and 2q + 1 = output transform, epilogue, store

    The same F(2,3) as vidnet-cpu-winograd-convs' along W, with the taps along D folded instead:
    an output depth reads 4 phases x H x W x C / 2 of phase rows (1.7 MB for the 3x3x3 64->64
    convs of r3d_18's and mc3_18's layer1, which F(2,3) along W reads 4.8 MB of, too many for
    AVX2's narrow filter blocks), fewer than the direct conv's 3 input frames per output depth.
    The f-blocks are innermost, so that an output row's f-blocks read its phase rows from L2 in
    turn. Only convs of at least 3x3 taps along H and W: a 3x1x1 conv reads each phase row for
    one product per filter block, and the transform's pass over memory costs more than it saves.
    Tiles, tile rows and filter blocks as vidnet-cpu-winograd-convs' (AVX2: 4 x 24 or 6 x 16),
    the same bound on AVX2's phase rows per output depth, the conv's elementwise consumer (eval
    BN, ReLU, residual add) on each tile before its store. Runs after vidnet-cpu-winograd-convs,
    which keeps the convs it takes; only on AVX2, where it was measured, and not in @train_step
    (its forward's convs stay direct for the ReLU decisions, its data gradients as measured for the
    step's precision).
  }];
  let options = [Option<"vectorBits", "vector-bits", "int64_t", /*default=*/"512",
                        "Bits of the target's vector registers (512: AVX-512, 32 registers; 256: AVX2, 16)">];
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::scf::SCFDialect",
                           "mlir::tensor::TensorDialect", "mlir::arith::ArithDialect",
                           "mlir::affine::AffineDialect", "mlir::vector::VectorDialect"];
}

def HoistWeightPacking : Pass<"vidnet-cpu-hoist-weight-packing", "mlir::ModuleOp"> {
  let summary = "Move the forward's weight packing into @forward_prepare, called once per set of weights";
  let description = [{
    vidnet-cpu-tile-convs packs some filters into a blocked layout (ops tagged
    `vidnet.weight_pack`). In @forward, which runs once per clip, that would repack every
    such filter for every clip (mc3_18: 41 MB per clip). Each pack that depends only on the
    weight arguments (not the clips) and on constants, through top-level ops, moves with
    those ops into

        func.func @forward_prepare(weights...) -> (packed...)

    whose arguments are @forward's after the clips, with the same attributes, and @forward
    gets one trailing argument per pack, marked `vidnet.prepared`, instead of the pack's
    result. What only the packs read is erased from @forward. @forward_prepare is created
    even when nothing moves, so that the CPU bundle's ABI is the same for every model:
    vidnet-export-abi gives @forward a third flat buffer of prepared tensors and exports
    @forward_prepare as vidnet_forward_prepare(params, state, prepared). The runtime calls it
    whenever the weights have changed since its last call. @train_step is left alone: it
    runs once per batch and its weights change every step.
  }];
  let dependentDialects = ["mlir::func::FuncDialect"];
}

def TileFilterGrads : Pass<"vidnet-cpu-tile-filter-grads", "mlir::func::FuncOp"> {
  let summary = "Rewrite each vidnet.conv_backward_filter as a chunked reduction of register tiles";
  let description = [{
    The filter gradient the way oneDNN's backward-weights kernels compute it: one reduction
    over the P = N*OD*OH*OW output positions, chunked outermost so that a chunk's rows of the
    input and of dy stay in cache while every tile of dW reads them:

        for chunk of output rows (n, od, oh), about 256 positions (all of them when dy
                                                    fits in 1 MB, an L2):
          forall tap (kd, kh, kw), c-block, f-block:             acc[CT x FT] = 0
            for row in chunk (its input row real), ow-block:    acc += X[OWT x CT]^T * DY[OWT x FT]
            dW tile = acc (first chunk) or dW tile + acc   (no zero fill of dW)

    X is a slice of the zero-padded input (rows ow*s_w + kw), read in place and broadcast: no
    transposed copy; DY a slice of dy. CT = a divisor of C up to 8, or 8 with C padded with
    zero channels to a multiple of 8 when C is not one and that adds at most an eighth
    (83 -> 88, 230 -> 232); FT = 32, with dy's lanes padded to a multiple of 16 and dW's to 32:
    where dy's end in half a block (144 = 4 x 32 + 16, 230 -> 240, 45 -> 48), the last f-block's
    tiles sum those 16 lanes and widen them with zeros (FT = 16 only when F <= 16); OWT = a
    divisor of OW up to 8. With vector-bits=256 (AVX2) the lanes are in vectors of 8: FT = 16,
    dy's lanes padded to a multiple of 8, and CT up to 6 (6 x 16 is 12 of its 16 registers).
    Where CT is only a few channels (a stem's 3), a tile takes several
    taps along W, up to 12 rows of CT x taps (7 taps in groups of 4 and 3, dW's W taps padded
    to a whole number of groups; 6 rows with vector-bits=256), so that each dy vector serves them all and the accumulators
    are not a few chains of dependent FMAs. Each step is a vector.contract that
    vidnet-cpu-vectorize-tiles' patterns lower to outer products like the forward's. Summing a
    chunk from zero and adding it to dW once per chunk keeps each float32 chain short. Each element's sum runs over the
    positions in the same order whatever the thread count (chunks in order), so results are
    bit-identical across thread counts. A row whose input row for the tile's tap is zero
    padding (along D or H) is skipped.

    Where there are many chunks per element of dW (16 or more, and the products at least 320
    times the bytes of 16 copies of dW: the stems and the first stages), the chunks are summed
    in 16 parts at once instead, so that the threads do not wait for each other once per chunk:

        forall part (16 runs of consecutive chunks):
          for chunk in part: for tile: partial[part] tile = acc (part's first chunk) or += acc
        dW = partial[0] + partial[1] + ... + partial[15]   (elementwise, in order)

    The parts depend on the shape only, so the bits still do not change with the thread count.
    A 1x1x1 filter gradient with a small dW sums in parts over chunks of a row or a few, and a
    3x1x1 one summed in parts from x and dy in place over chunks of one row; where x and dy are
    read in place, each item of a chunk first prefetches (into L2) its share of the next
    chunk's rows (its channels of x for its tap, or its lanes of dy), which come from memory.
    The choices are FilterGradSchedule.h's, made from the shapes alone; print-schedules prints
    them, one line per filter gradient. Runs before vidnet-lower-to-linalg (the generic
    lowering, which the CUDA target uses, writes a matmul per tap instead); grouped
    convolutions are left to it.
  }];
  let options = [Option<"vectorBits", "vector-bits", "int64_t", /*default=*/"512",
                        "Bits of the target's vector registers (512: AVX-512, 32 registers; 256: AVX2, 16), which size the register tiles">,
                 Option<"printSchedules", "print-schedules", "bool", /*default=*/"false",
                        "Print each filter gradient's schedule (FilterGradSchedule.h's describe) to stderr, one line each">];
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::scf::SCFDialect",
                           "mlir::tensor::TensorDialect", "mlir::arith::ArithDialect",
                           "mlir::affine::AffineDialect", "mlir::bufferization::BufferizationDialect",
                           "mlir::memref::MemRefDialect", "mlir::vector::VectorDialect"];
}

def ParallelizeElementwise : Pass<"vidnet-cpu-parallelize-elementwise", "mlir::func::FuncOp"> {
  let summary = "Tile large elementwise linalg ops into an scf.forall over their leading dimensions";
  let description = [{
    The passes over memory between the convolutions (batch norm, ReLU and the residual add,
    fused by vidnet-fuse-elementwise; batch norm's backward; the SGD updates; zero fills;
    reductions whose leading loops are parallel): each linalg.generic and linalg.fill with
    static shapes and at least 65536 iterations whose leading loops are parallel is tiled
    (TilingInterface) into an scf.forall over those leading loops, one item per index,
    until there are at least 32 items; the innermost dimension (channels, contiguous) and
    every loop from the first reduction on are never split, so each item reduces its own
    slice and such a sum does not change order. A transpose (an input whose contiguous dimension is not
    the output's, e.g. the data gradient's sub-filters) is also cut into 16 x 16 blocks of
    those two dimensions, one item each, so that the input rows a block reads stay in L1;
    when both are 16 and the op only copies (indices that step with those two dimensions by
    one), a block is one vector.transfer_read whose permutation map transposes it and one
    transfer_write of its rows. Such a copying transpose whose two dimensions are not both
    multiples of 16 (torchvision r2plus1d_18's 921 and 460 channels) is first split into the
    part that is, on slices of its input and output, and the strips left over (under 16 rows
    or columns each), inserted into the result one after the other.
    A per-channel float sum over every position (the batch statistics, the BN backward's
    dbeta and dgamma: every loop but the channels' a reduction, inputs read with the identity
    or the channel's map, the output with the channel's, a body yielding term + out) is first
    split into 32 partial sums (or the largest divisor of the positions below that) over
    contiguous blocks of positions, each from zero; the partials' generic is tiled as above,
    one item per block, and a small generic adds the partials to the sum's init in order.
    Serial, those sums ran at one core's memory bandwidth, 7-10% of a 2-thread step.
    Before that, two such sums over the same positions that read the same tensor (dbeta of
    dy and dgamma of dy and x), the second not depending on the first, become one generic
    with both outputs at the first's place (what the second reads that is made between them
    moved above it): one pass over dy, each output's sum the same chain as before.
    vidnet-cpu-outline-parallel then hands the items to
    the runtime's threads; every element is computed by the same code whichever thread runs
    its item (the split depends on the shape only), so results do not depend on the thread
    count.
  }];
  let dependentDialects = ["mlir::scf::SCFDialect", "mlir::tensor::TensorDialect",
                           "mlir::affine::AffineDialect", "mlir::vector::VectorDialect"];
}

def PadInPlace : Pass<"vidnet-cpu-pad-in-place", "mlir::func::FuncOp"> {
  let summary = "Let the producer of a zero-padded tensor write into the padded tensor's interior";
  let description = [{
    Each convolution reads its input zero-padded (tensor.pad, from vidnet-lower-to-linalg and
    vidnet-cpu-tile-convs). Bufferized as it stands, a pad is an allocation, a fill of the
    whole padded buffer and a copy of the source into its interior, all serial: about 4% of
    r3d_18's forward. When the op that produces the pad's source is in destination style with
    a tensor.empty init (a BN/ReLU/residual-add pass, a conv's loop), that init becomes the
    interior of the padded tensor instead:

        %p = linalg.fill 0 into tensor.empty {vidnet.interior = [low..., source shape...]}
        %r = producer outs(extract_slice %p [low] [source shape])
        %q = insert_slice %r into %p [low] [source shape]   // in place: no copy

    and the pad's users read %q; the producer's other users read extract_slice %q, the same
    interior in place. After bufferization, vidnet-cpu-zero-borders fills only the border of
    such a fill's buffer. Runs right before bufferization, after the last canonicalization
    (which would fold the interior slice of the fill into a fill of its own, then copied).
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect", "mlir::tensor::TensorDialect",
                           "mlir::arith::ArithDialect"];
}

def ZeroBorders : Pass<"vidnet-cpu-zero-borders", "mlir::func::FuncOp"> {
  let summary = "Fill only the border of a buffer whose interior is overwritten afterwards";
  let description = [{
    A linalg.fill on a buffer with `vidnet.interior = [offsets..., sizes...]` (from
    vidnet-cpu-pad-in-place) becomes fills of memref.subviews of the border: two disjoint
    slabs per axis with padding (the rows before and after the interior, spanning the
    interior of the axes before it and the whole of the axes after it). The interior is
    written afterwards by the padded tensor's producer, so the buffer's contents are those of
    the whole fill. Runs right after one-shot bufferization: zeroing the border as slabs of the
    tensor instead made the bufferization analysis 3x slower.
  }];
  let dependentDialects = ["mlir::memref::MemRefDialect"];
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
    Tiles whose lanes are not a power-of-two number of registers (AVX2's 24-lane tiles:
    three registers) are first unrolled into one-register columns.
  }];
  let options = [Option<"vectorBits", "vector-bits", "int64_t", /*default=*/"512",
                        "Bits of the target's vector registers (512: AVX-512; 256: AVX2), the width tiles are unrolled to">];
  let dependentDialects = ["mlir::vector::VectorDialect"];
}

def OutlineParallel : Pass<"vidnet-cpu-outline-parallel", "mlir::ModuleOp"> {
  let summary = "Move each bufferized scf.forall into a per-item function the runtime's threads call";
  let description = [{
    Threads without a threading library: the compiled library stays libc-only and the runtime
    owns the threads. Each outermost scf.forall with static bounds (the loops of
    vidnet-cpu-tile-convs, vidnet-cpu-tile-filter-grads and vidnet-cpu-parallelize-elementwise,
    after bufferization) becomes

        func.func private @F_parallel(%item: index, captures...)      // the loop body
        func.func private @F_parallel_dispatch(index, captures...)    // declared only
            attributes {vidnet.parallel_body = @F_parallel}
        func.call @F_parallel_dispatch(%count, captures...)           // where the loop was

    A multi-dimensional forall is numbered row-major (affine.delinearize_index in the body);
    a lower bound or step other than 0 and 1 is applied to the item's index in the body.
    A loop whose body is the same code as an earlier one's (OperationEquivalence, locations
    aside) calls that body; its dispatch stays its own.
    A body without vector code (a pass over memory: BN, ReLU, adds, fills, the optimizer)
    carries the passthrough attribute "vidnet-serial", as vidnet-cpu-outline-serial's
    functions do: the object emitter keeps its loops vectorized but not unrolled (unrolled, the
    strided passes that write into padded buffers made r3d_18's step build 1 s slower).
    Constants, index arithmetic and views used inside the loop are recomputed inside it, so
    what is passed is only scalars and whole buffers (static shape, identity layout: a bare
    pointer each). vidnet-cpu-parallel-for-abi defines the dispatch after lowering to LLVM.
  }];
  let dependentDialects = ["mlir::func::FuncDialect"];
}

def OutlineSerial : Pass<"vidnet-cpu-outline-serial", "mlir::ModuleOp"> {
  let summary = "Move each loop nest left in an exported function into a function of its own";
  let description = [{
    What remains of an exported function after vidnet-cpu-outline-parallel is serial code:
    BN statistics and their gradients, the optimizer, copies into padded buffers, the
    classifier. Each op with regions and no results at its top level (a linalg op, an scf.for)
    becomes a private function called where it was; views and index arithmetic it uses are
    recomputed inside from their root buffers, so only scalars and whole buffers are passed.
    An op whose inputs cannot be passed so stays in place. Equal functions are shared, as in
    vidnet-cpu-outline-parallel.

    LLVM then optimizes many small functions instead of one with hundreds of loop nests (its
    loop passes grow faster than linearly with function size), and MLIR lowers them in
    parallel. The functions are internal and carry the LLVM attribute "vidnet-serial", on
    which the object emitter keeps their loops vectorized but not unrolled.
  }];
  let dependentDialects = ["mlir::func::FuncDialect", "mlir::LLVM::LLVMDialect"];
}

def ParallelForAbi : Pass<"vidnet-cpu-parallel-for-abi", "mlir::ModuleOp"> {
  let summary = "Define the parallel dispatches in the LLVM dialect over the runtime's hook";
  let description = [{
    For each llvm.func declaration with `vidnet.parallel_body = @B` (from
    vidnet-cpu-outline-parallel), defines

        @B_range(slots, begin, end): for i in [begin, end): @B(i, slot[0], slot[1], ...)
        dispatch(count, args...):    slots = the args, one 8-byte slot each, on the stack;
                                     vidnet_parallel_for(@B_range, slots, count, loop), or
                                     @B_range(slots, 0, count) while that is null

    the exported global `void (*vidnet_parallel_for)(void (*)(void *, int64_t, int64_t),
    void *, int64_t, int64_t)`, null until the runtime stores its parallel-for there after
    loading the library (the runtime splits [0, count) into ranges over its workers and
    returns when all are done); and for each exported function F the exported string
    `F_loops`, a JSON array with one object per dispatch of F, numbered `loop` in module
    order: the spec's layer and line, and the kind, shape, flops and bytes the tiling pass
    put in the loop's location (`vidrun profile` times each loop through the hook and prints
    this table beside it).
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

def FreezeSelectedLoads : Pass<"vidnet-cpu-freeze-selected-loads", "mlir::LLVM::LLVMFuncOp"> {
  let summary = "Freeze the values each vector select picks from";
  let description = [{
    LLVM 22 folds `store (select %c, %x, (load %p)), %p` into a masked store
    (llvm/llvm-project#145176), which on AVX2 is vmaskmovps: microcoded on AMD Zen 1-3
    (llvm/llvm-project#213195, undone for them in LLVM 23). A conv's ReLU-backward epilogue
    run over its tile in place, `dx = y > 0 ? dx : 0`, is that pattern (0.9% of torchvision
    r2plus1d_18's training step on a Zen 2). A freeze of each non-constant value a vector
    select picks from (a no-op on any value that is not poison, as no loaded value is) keeps
    the select a select: vandps and a plain store instead.

    Before: `%s = llvm.select %c, %v, %z : vector<8xi1>, vector<8xf32>`
    After:  `%f = llvm.freeze %v : vector<8xf32>` and `%s = llvm.select %c, %f, %z`.
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

def StreamStores : Pass<"vidnet-cpu-stream-stores", "mlir::LLVM::LLVMFuncOp"> {
  let summary = "Make the vector stores marked as streamed non-temporal";
  let description = [{
    A store whose location carries vidnet.cpu's streamed-store mark (a pass that makes it
    knows that nothing reads the value back soon and that its address is aligned to the
    vector's size, at most 64 bytes) becomes a non-temporal store with that alignment:
    vmovntps on x86, which writes the line without first reading it from memory. The
    filter gradients summed in one chunk mark their tiles of dW where dW outgrows the caches
    (vidnet-cpu-tile-filter-grads).

    Before: `llvm.store %v, %p : vector<8xf32>, !llvm.ptr` (location marked)
    After:  `llvm.store %v, %p {alignment = 32 : i64, nontemporal} : vector<8xf32>, !llvm.ptr`
  }];
  let dependentDialects = ["mlir::LLVM::LLVMDialect"];
}

#endif // VIDNET_CPU_PASSES_TD
