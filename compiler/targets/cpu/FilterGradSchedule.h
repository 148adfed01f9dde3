// The schedule of one filter gradient on the CPU (vidnet-cpu-tile-filter-grads): every choice the
// pass makes, from the shapes and the target's vector registers alone, in plain numbers. The pass
// emits the IR that a schedule describes; tests and `print-schedules` read the choices here.
// No MLIR: a schedule can be chosen, printed and tested without building any IR.
#pragma once

#include "compiler/targets/cpu/TileSizes.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace vidnet::cpu {

// A vidnet.conv_backward_filter with groups 1: dW = sum over the output positions of
// x[position * stride + tap - padding]^T * dy[position].
struct FilterGradProblem {
  std::array<int64_t, 5> filter{}; // dW: KD, KH, KW, C, F
  std::array<int64_t, 5> input{};  // x: N, D, H, W, C (unpadded)
  std::array<int64_t, 5> output{}; // dy: N, OD, OH, OW, F
  std::array<int64_t, 3> strides{1, 1, 1};
  std::array<int64_t, 3> padding{}; // zero rows on either side of D, H and W
  int64_t flops = 0;                // 2 x the products that read real input rows (LoopInfo.h's convFlops)
};

// How the chunks of the reduction and the tiles of dW make the parallel loop.
enum class FilterGradOrder {
  // for chunk: forall tile: dW tile (+)= the chunk's sums
  ChunkThenTiles,
  // forall (c-block, f-block): for chunk: for tap: dW tile (+)= the chunk's sums
  BlockThenChunks,
  // forall part: for chunk of the part: for tile: partial[part] tile (+)= the chunk's sums;
  // then dW = partial[0] + partial[1] + ... in order
  Parts,
};

// A tap along W whose real input columns, for the positions of one column block, are only
// [first, end) of them (first >= end: none): the tile sums only those.
struct EdgeTap {
  int64_t tap = 0, first = 0, end = 0;
};

// The column block of positions [begin, begin + owTile) of each row, and its taps that read
// padding for some of its positions (none: summed as a plain block).
struct ColumnBlock {
  int64_t begin = 0;
  std::vector<EdgeTap> edgeTaps;
};

struct FilterGradSchedule {
  FilterGradProblem problem;

  // The register tile: cTile input channels x fTile lanes of dW, kwTaps taps along W, summed over
  // owTile positions per step.
  int64_t cTile = 0;
  int64_t paddedC = 0;      // C, or C padded with zero channels to a whole number of tiles
  int64_t tailChannels = 0; // the last C block's real channels where C is not whole tiles (0: none)
  int64_t cBlocks = 0;
  int64_t dyLanes = 0;     // dy's lanes: F padded to a multiple of a vector
  bool halfBlock = false;  // the last F block sums one vector of lanes, widened with zeros
  int64_t paddedF = 0;     // dW's lanes
  int64_t fTile = 0;
  int64_t fBlocks = 0;
  int64_t owTile = 0;
  int64_t kwGroups = 1;    // the taps along W in groups of kwTaps, one group per tile
  int64_t kwTaps = 1;
  int64_t lastKwTaps = 1;  // the last group's real taps
  int64_t paddedKW = 0;    // dW's taps along W: kwGroups x kwTaps
  int64_t items = 0;       // tiles of dW: KD x KH x kwGroups x cBlocks x fBlocks

  // The operands: x and dy copied into channel blocks of one tile each, or read in place (x
  // zero-padded, dy's lanes padded to dyLanes).
  bool pointwiseStrided = false; // a strided 1x1x1 conv without padding
  bool blocked = false;
  bool subsampled = false;          // blocked x holds only the positions at the stride, compact
  std::array<int64_t, 3> xStrides{}; // the strides at which the tiles read (blocked) x
  std::array<int64_t, 5> xShape{};   // the x the tiles read, before padding or blocking

  // The reduction over the output rows (n, od, oh), each of OW positions.
  bool pointwise = false;      // a 1x1x1 conv with a small dW: summed in parts over small chunks
  bool prefetchesRows = false; // one tap along H and W, x and dy read in place: in parts, each
                               // item prefetches its share of the next chunk's rows
  bool wholeReduction = false; // dy fits in L2: one chunk
  bool rowChunks = false;      // chunks of one row
  int64_t rows = 0;
  int64_t chunkRows = 0;
  int64_t chunks = 0;
  bool streamsDw = false; // dW's tiles written with non-temporal stores
  int64_t parts = 1;
  int64_t chunksPerPart = 0; // with parts > 1
  FilterGradOrder order = FilterGradOrder::ChunkThenTiles;

  // Products that read W padding, skipped per column block (skipsW: columnBlocks covers each
  // row, in order).
  bool skipsW = false;
  std::vector<ColumnBlock> columnBlocks;
};

FilterGradSchedule chooseFilterGradSchedule(const FilterGradProblem &problem, const VectorRegisters &regs);

// One line: the filter gradient ("3x3x3 64->128 /2x2x2, out 2x4x28x28") and its choices, as
// `vidnet-cpu-tile-filter-grads{print-schedules}` prints them: tile=cTile x fTile, ow=owTile,
// kw=kwGroups x kwTaps (last-kw= where the last group is shorter), c=paddedC/cBlocks (tail=),
// f=paddedF/fBlocks, dy=dyLanes (half-block), items=, operands=in-place|blocked|blocked-compact,
// chunks=chunks x chunkRows (pointwise, whole or row-chunks: why that size),
// order=chunk-then-tiles|block-then-chunks|parts (parts=parts x chunksPerPart, prefetch), then
// streamed-dw and skip-w=<column blocks> where they apply.
std::string describe(const FilterGradSchedule &schedule);

} // namespace vidnet::cpu
