// Winograd F(2,3) along one axis, shared by vidnet-cpu-winograd-convs (along W) and
// vidnet-cpu-winograd-depth-convs (along D): the transforms and the tile sizes.
#pragma once

#include "compiler/targets/cpu/ConvEpilogue.h"
#include "compiler/targets/cpu/LoopInfo.h"
#include "compiler/targets/cpu/TileSizes.h"
#include "compiler/transforms/LinalgBuilders.h"

#include "mlir/IR/Builders.h"

#include <optional>
#include <utility>

namespace vidnet::cpu::winograd {

// The outputs y[2p] and y[2p + 1] of three taps w0..w2 over x[2p - 1 .. 2p + 2] (x padded by one
// position on each side, here d0..d3) are
//   y[2p] = m0 + m1 + m2, y[2p + 1] = m1 - m2 - m3,  m_i = sum over the other taps and channels of t_i g_i,
//   t = (d0 - d2, d1 + d2, d2 - d1, d1 - d3),  g = (w0, (w0 + w1 + w2) / 2, (w0 - w1 + w2) / 2, w2).
// Four products per output pair where the direct conv has six. Each phase is a sum of 3x fewer
// terms than a direct output's: measured against float64 (C = 64, 3x3x3, ReLU'd inputs), its
// rms error 1.76e-7 against 1.87e-7 for the direct conv's tap-row sums.

// A tile's four phase slices of the transformed filter (the other taps x C x lanes each) stream
// from L2 once per tile, as the direct convs' packed slices do (their bound).
constexpr int64_t kPhaseSlicesL2Bytes = 640 * 1024;
// On AVX2 a filter block is 16 or 24 lanes, so an output depth's f-blocks take turns reading the
// same phase rows, each block all of them again (on AVX-512 F = 64 is one block). Measured on a
// Zen 3 (512 KB L2, 32 MB L3) along W, against the direct convs, forward, calls in turns: 1.2-2.4
// MB of rows per output depth 0.76-0.96x the time (r3d_18's layers 2-3, mc3_18's and
// r2plus1d_18's 1x3x3 convs), 4.8 MB 1.4-1.6x (the 3x3x3 64->64 convs of r3d_18's and mc3_18's
// layer1, even with the f-blocks innermost: 1.0-1.09x).
constexpr int64_t kAvx2PhaseRowsPerDepthBytes = 3 * 1024 * 1024;

// The zero tensor.pad with static sizes that a conv's input comes from.
struct ZeroPad {
  llvm::SmallVector<int64_t, 5> low, high, source;
};
std::optional<ZeroPad> staticZeroPad(mlir::Value input);

// The taps [first, end) of an axis with `taps` taps that read real rows for output `o`: the input
// is `low` zero rows, then `extent` real ones, `padded` rows in all (constants when all are real).
std::pair<mlir::Value, mlir::Value> realTapRange(mlir::OpBuilder &b, mlir::Location loc, int64_t low, int64_t extent,
                                                 int64_t padded, int64_t taps, mlir::Value o);

// t_0..t_3 of the padded positions d[0..3], in a linalg body.
llvm::SmallVector<mlir::Value, 4> inputPhases(mlir::OpBuilder &b, mlir::Location loc, mlir::ValueRange d);

// y[2p] and y[2p + 1] of the four phases' sums m[0..3] (vectors).
std::pair<mlir::Value, mlir::Value> outputPair(mlir::OpBuilder &b, mlir::Location loc, llvm::ArrayRef<mlir::Value> m);

// Outputs per tile: as few tiles as `maxRows` allows, and of those splits the one with the
// largest last tile (14 as 5 + 5 + 4, not 6 + 6 + 2: a tile of r rows keeps r x vectors FMA chains).
int64_t tileRows(int64_t count, int64_t maxRows);

// Lanes per filter block: the widest of four, three or two vectors (AVX2: three or two; blocks
// of four would leave 2 x 4 accumulators of its 16 registers) that divides F and whose four phase
// slices (taps x C x lanes) fit kPhaseSlicesL2Bytes; 0 when none does.
int64_t filterBlockLanes(int64_t F, int64_t taps, int64_t C, const VectorRegisters &regs);

// Rows of one phase's tile: its accumulators, the filter's vectors and a broadcast in the
// registers (6 x 4 + 4 + 1, 8 x 3 + 3 + 1 or 8 x 2 + 2 + 1 of 32; 4 x 3 + 3 + 1 or 6 x 2 + 2 + 1 of 16).
int64_t maxTileRows(int64_t fTile, const VectorRegisters &regs);

// The filter transform over the three taps along spatial axis `axis` (0: D, 2: W), packed per
// filter block of fTile lanes: g[block, i, a, b, c, lane] with a, b the other two spatial axes in
// order. A weight pack (vidnet-cpu-hoist-weight-packing moves it out of the forward), named for
// `vidrun profile` after the conv's `role` and `shape`.
mlir::Value packFilterPhases(Emitter &e, mlir::Value filter, int64_t fTile, unsigned axis, llvm::StringRef role,
                             llvm::StringRef shape);

// For `vidrun profile`: a Winograd conv as the direct one counts it (its products that read real
// rows: along axis i `lows[i]` zero rows, then `extents[i]` real ones; its least traffic), so that
// its GFLOP/s compare with the direct convs' and the peers'; `suffix` after its shape.
LoopInfo describeWinogradConv(mlir::linalg::Conv3DNdhwcDhwcfOp op, llvm::ArrayRef<int64_t> lows,
                              llvm::ArrayRef<int64_t> extents, llvm::StringRef suffix);

// The input transform: four tensors of `type`, phase i of position p from x at the four maps
// `positions` (the padded positions d0..d3 of p), in one pass over x.
llvm::SmallVector<mlir::Value, 4> transformInput(Emitter &e, mlir::Value x, mlir::RankedTensorType type,
                                                 llvm::ArrayRef<mlir::AffineMap> positions, const LoopInfo &conv);

// One phase's sum over a tile (rows x fTile, from zero): for each outer tap in `outer` a partial
// from zero (as the direct conv's tap rows) over the inner taps in `inner` and the channels in
// blocks of cTile, added to the sum; `slices` gives a step's input (rows x cTile) and transformed
// filter (cTile x fTile) at (outer tap, inner tap, channel). The sum as a vector.
using PhaseSlices =
    llvm::function_ref<std::pair<mlir::Value, mlir::Value>(mlir::OpBuilder &, mlir::Value, mlir::Value, mlir::Value)>;
mlir::Value sumPhase(mlir::OpBuilder &b, mlir::Location loc, std::pair<mlir::Value, mlir::Value> outer,
                     std::pair<mlir::Value, mlir::Value> inner, int64_t C, int64_t cTile, int64_t rows, int64_t fTile,
                     PhaseSlices slices);

// Stores an output tile (a rows x lanes vector) into `dest` at `destIndices` (its last two: the
// tile's first row and lane), through the conv's epilogue, if any, which reads its other inputs at
// the output's `outputOffsets`.
mlir::Value storeTile(mlir::OpBuilder &b, mlir::Location loc, const std::optional<ConvEpilogue> &epilogue,
                      mlir::Value tile, mlir::Value dest, mlir::ValueRange destIndices,
                      llvm::ArrayRef<mlir::OpFoldResult> outputOffsets);

// The conv (or its epilogue, which the tiles applied) replaced by `result`; the conv and its
// zero fill erased.
void replaceConv(mlir::linalg::Conv3DNdhwcDhwcfOp op, std::optional<ConvEpilogue> epilogue, mlir::Value result);

} // namespace vidnet::cpu::winograd
