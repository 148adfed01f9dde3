// The schedule of vidnet-cpu-tile-convs: every decision about one conv's tiles (their lanes and
// rows, parts and tails, flat, pair and edge tiles, the reduction's order and blocks, packing,
// prefetches), made from the conv's shapes alone. No IR: TileConvs.cpp emits what it says.
#pragma once

#include "compiler/targets/cpu/TileSizes.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace vidnet::cpu {

// The target's vector registers, which size every register tile.
using VectorTarget = VectorRegisters;

// The conv's input along D, H and W: `low` zero rows, then `extent` real ones. `padded` when it
// comes from a zero tensor.pad that adds rows along that axis; otherwise every tap of every
// output reads a real row (low 0, extent the whole input).
struct InputAxes {
  int64_t low[3] = {0, 0, 0}, extent[3] = {0, 0, 0};
  bool padded[3] = {false, false, false};
};

// One linalg.conv_3d_ndhwc_dhwcf with dilations 1, as the schedule sees it.
struct ConvProblem {
  std::array<int64_t, 5> input{};   // N, D, H, W, C of the (zero-padded) input
  std::array<int64_t, 5> filter{};  // kD, kH, kW, C, F
  std::array<int64_t, 5> output{};  // N, OD, OH, OW, F
  std::array<int64_t, 3> strides{}; // along D, H, W
  InputAxes axes;
  // The init is +0 everywhere (lower-to-linalg's zeros), so the tiles may start from zero.
  bool startsFromZero = false;
};

// Output columns [base, base + columns) of a conv, in tiles of `rows` rows: one scf.forall each.
struct ColumnPart {
  int64_t base, columns, rows;
  int64_t blocks() const { return columns / rows; }
};

// Output channels [base, base + lanes) in tiles of fTile lanes: the lane parts of a conv.
struct LanePart {
  int64_t base, lanes, fTile;
  int64_t blocks() const { return lanes / fTile; }
};

// Rows [begin, end) of a tile.
struct Rows {
  int64_t begin, end;
  int64_t size() const { return std::max<int64_t>(0, end - begin); }
  bool contains(Rows piece) const { return begin <= piece.begin && piece.end <= end; }
};

// A tile whose rows come in pieces that each tap along W reads whole or not at all (an edge
// tile: 7x7 outputs, 3-wide kernel: row 0, rows 1-5, row 6), each a register tile of its own,
// and its taps along W in runs that read the same pieces. A whole tile is one piece, one run.
struct EdgeTile {
  std::vector<Rows> pieces;
  struct Run {
    int64_t kwBegin, kwEnd;
    std::vector<int64_t> pieces; // by index in `pieces`
  };
  std::vector<Run> runs;
  // Tap kw reads pieces `read`: the last run when it ends at kw and reads the same.
  static void addTap(std::vector<Run> &runs, int64_t kw, std::vector<int64_t> read);
};

// One tile of a flat loop: a run of a frame's positions in row-major order, in pieces of one
// output row each, cut where a tap along W starts or stops reading padding.
struct FlatTile {
  struct Piece {
    int64_t row;
    Rows cols;
  };
  std::vector<Piece> pieces;
  // Taps along H [khBegin, khEnd) that the same pieces (`reading`) read real rows for, with their
  // runs of taps along W; ranges whose pieces read nothing are left out.
  struct TapRange {
    int64_t khBegin, khEnd;
    std::vector<int64_t> reading;
    std::vector<EdgeTile::Run> runs;
  };
  std::vector<TapRange> ranges;
};

// How a loop's items are laid out.
enum class TileKind {
  Rows,           // an item is one output row (a column part of it) of one frame
  FramePairs,     // ... the rows of two output frames, one vector of lanes
  RowPairs,       // ... two output rows of one frame (a tail part)
  Flat,           // ... a frame's positions in runs of flatRows
  ReductionOuter, // ... a whole filter block of clipsPerItem clips, the reduction outermost
};

// One scf.forall: a lane part's column part.
struct TileLoop {
  LanePart lanes;
  ColumnPart cols;
  TileKind kind = TileKind::Rows;
  int64_t items = 0;
  // The column blocks (by index in the part) that skip the products reading W padding, and the
  // edge tile of each (Rows, FramePairs, RowPairs).
  std::vector<int64_t> edgeBlocks;
  std::vector<EdgeTile> edgeTiles;
  // Reduction-outer edge cases: block index in edgeBlocks * kW + kw -> rows read.
  struct EdgeCase {
    int64_t which;
    Rows rows;
  };
  std::vector<EdgeCase> edgeCases;
  int64_t clipsPerItem = 1;       // ReductionOuter
  bool prefetchesFilter = false;  // ReductionOuter: the next reduction block's filter rows into L2
  bool writesSums = false;        // Rows: each tile's sum is written, not added onto zeros
  std::vector<FlatTile> flatTiles; // Flat

  // The axis (1: frames, 2: rows) whose two members a pair tile holds; 0 when not pairs.
  int pairAxis() const { return kind == TileKind::FramePairs ? 1 : kind == TileKind::RowPairs ? 2 : 0; }
};

struct ConvSchedule {
  ConvProblem problem;
  // The reduction: C (padded with zero channels where reduction-outer blocks would be short),
  // in steps of cTile, and reduction-outer blocks of cBlock channels of one tap.
  int64_t realC = 0, C = 0, cTile = 0, cBlock = 0;
  // F padded to whole vectors, and OW to the column parts' tiles.
  int64_t paddedF = 0, paddedOW = 0;
  bool reductionOuter = false;
  bool flatTiles = false;
  int64_t flatRows = 0; // positions per flat tile
  bool framePairs = false;
  // Tiles of this many vectors of lanes (3 or 4) in place of two-vector ones; 0 when not.
  int64_t wideVectors = 0;
  // The filter packed as [F/FT][tapsD][tapsH][kW][C][FT], from taps firstD and firstH on.
  bool packed = false;
  int64_t firstD = 0, tapsD = 0, firstH = 0, tapsH = 0;
  // The loop writes an empty tensor, each tile summed from +0 in registers.
  bool fromZero = false;
  // BN, ReLU and a residual add after the conv may run on its tiles (the tiles cover the output).
  bool mayFuseEpilogue = false;
  // The whole filter stays in L2: filter blocks innermost in the tile-outer loops.
  bool filterInner = false;
  // Tiles of 1x1 taps along H and W prefetch the next tile's input into L1.
  bool prefetchesInput = false;
  std::vector<LanePart> laneParts;
  std::vector<TileLoop> loops; // column parts outer, lane parts inner
};

ConvSchedule chooseConvSchedule(const ConvProblem &problem, const VectorTarget &target);

// One line: the conv's shapes ("conv IN * KERNEL /STRIDES -> OUT:", the input zero-padded), the
// conv's decisions (C and F where padded, ctile, cblock when reduction-outer, wide vectors, flat
// positions, packed taps along D and H as first+count, then the flags: from-zero, epilogue (BN,
// ReLU or an add after the conv may run on its tiles), filter-inner, prefetch-input), then each
// loop in brackets: its kind, lanes BASE+LANES/TILE, cols BASE+COLUMNS/ROWS, items, edge blocks,
// clips per item and the filter prefetch (reduction-outer), writes-sums.
std::string describe(const ConvSchedule &schedule);

// The taps [first, end) that output `o` reads along axis `i`: those on real rows where the
// axis is padded (empty when all of them read padding), else all of them.
std::pair<int64_t, int64_t> tapsRead(const ConvProblem &problem, int i, int64_t o);

} // namespace vidnet::cpu
