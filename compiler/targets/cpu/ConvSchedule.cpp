// vidnet-cpu-tile-convs' decisions: the tiles of one conv, from its shapes and the target's
// vector registers. The measurements beside the constants are alternating runs of whole models
// or single convs, the machine and thread count named.
#include "compiler/targets/cpu/ConvSchedule.h"

#include <sstream>

namespace vidnet::cpu {
namespace {

// A filter block's slice (all taps and channels, 32 lanes) above this size is not read from L2
// by each output tile: about half of a 1 MB L2 (AMD Zen 4, Intel Skylake-SP), leaving room for
// the input rows and the outputs.
constexpr int64_t kFilterSliceL2Bytes = 512 * 1024;
// A whole filter this small stays in L2 while the tiles of all its filter blocks take turns.
constexpr int64_t kWholeFilterL2Bytes = 256 * 1024;
// A tile's filter slice (the taps it reads x C x 32 lanes) packed contiguously streams from L2
// up to this size: 5/8 of a 1 MB L2 (AMD Zen 4 and 5, Intel Skylake-SP). In the D x H x W x C x F
// layout the slice is 128 bytes of every 4F, which uses a 4F/128th of L2's sets: r3d_18's
// 3x3x3 256-channel convs (885 KB packed) were no faster packed.
constexpr int64_t kPackedSliceL2Bytes = 640 * 1024;
// ... and up to this size for convs whose output frames take AVX2's flat tiles (at most
// kMaxFlatPositions positions; AVX-512's keep the bound above), measured at 648 KB: torchvision
// r2plus1d_18's layer4.1 data gradients (1x3x3 1152->512 at 7x7, 16 lanes) were reduction-outer,
// each block's 128 filter rows 2 KB apart in a few of L1's sets. On the Zen 2 (512 KB L2), 2
// threads, packed flat tiles were 1.8-2x as fast, and the packing took half the time of the
// transposed copy they read otherwise.
constexpr int64_t kPackedFlatSliceBytes = 768 * 1024;
// Reduction-outer blocks shorter than this many channels (C with no divisor that large) pad C.
constexpr int64_t kMinReductionBlock = 32;
// Reduction-outer items (one filter block each) a conv keeps at least, for the threads.
constexpr int64_t kMinReductionOuterItems = 8;
// Reduction-outer blocks of the filter are prefetched (into L2) for items of at most this many
// tiles: layer4's 7x7 outputs are 7.
constexpr int64_t kMaxTilesPrefetched = 16;
// Output frames of at most this many positions (7x7) are tiled as one row-major run of positions
// where the row tiles would pad a row too long for one tile and too short for two (flat tiles).
constexpr int64_t kMaxFlatPositions = 64;

// Output columns (rows of a register tile) at most, each row two vectors of lanes: 8 x 2 of the
// 32 AVX-512 registers accumulate, 6 x 2 of AVX2's 16, and the rest hold the filter's vectors
// and the broadcasts. On a Zen 3 (AVX2), 8-row tiles (32 accumulators) spilled beside every FMA
// (r3d_18's forward 2.3x slower than with 6 rows), and 7 rows (14 accumulators, one register
// short) spilled again.
int64_t convTileRows(const VectorTarget &regs) { return regs.count >= 32 ? 8 : 6; }

// Positions of a flat tile (two vectors of lanes each): as many as the accumulators, the two
// filter vectors and a broadcast leave room for. AVX2: 6 (12 + 3 of 16); AVX-512: 14 (28 + 3 of
// 32), where a 7 x 7 frame's row tiles (7 x 32, 14 accumulators) read each filter vector for 7
// positions and its flat tiles for 14.
int64_t flatTileRows(const VectorTarget &regs) { return (regs.count - 3) / 2; }

// Rows of a tile whose lanes are `fTile`: as many as a two-vector tile has, or fewer where the
// accumulators, the filter's vectors and a broadcast would not fit in the registers (AVX2's 4 x 24
// tiles: 12 + 3 + 1 = 16; AVX-512's 8 x 48 ones 24 + 3 + 1 and 6 x 64 ones 24 + 4 + 1 of 32).
int64_t convTileRows(const VectorTarget &regs, int64_t fTile) {
  const int64_t vectors = fTile / regs.lanes;
  return vectors <= 2 ? convTileRows(regs) : std::min(convTileRows(regs), (regs.count - vectors - 1) / vectors);
}

// One part whose tile divides OW (the largest divisor up to maxRows), or, without a divisor of at
// least half of maxRows, OW padded with the fewest columns by tiles of at least half the rows (the
// longer on a tie): OW = 7 as 2 x 4 rather than 2 x 6 with 5 columns of zeros (AVX2's 6-row tiles).
ColumnPart paddedColumns(int64_t OW, int64_t maxRows) {
  int64_t owTile = largestDivisorUpTo(OW, maxRows);
  if (owTile >= maxRows / 2 || OW <= maxRows)
    return {0, OW, owTile};
  owTile = maxRows;
  for (int64_t rows = maxRows; rows >= maxRows / 2; --rows)
    if (roundUp(OW, rows) < roundUp(OW, owTile))
      owTile = rows;
  return {0, roundUp(OW, owTile), owTile};
}

// The padded part above, or full tiles of r rows and a tail tile of the OW % r columns left, as a
// part of its own: whichever costs least when a tile row of two vectors costs max(1, (maxRows - 1)
// / r) of a full tile's. A tile of r rows keeps 2r FMA chains, and a core with two FMA pipes of
// latency L needs 2L of them: AVX2's 6-row tiles keep 12, 4-row ones 8 (Zen 2: L = 5). The tail's
// forall costs a column more (its items read the filter slice again for a few columns, and wait
// at a barrier): on the Zen 2, mc3_18's 1x3x3 convs at 14 columns as 2 x 5 + 4 were 3-10% slower
// than 3 x 5 with a zero column, and at 7 as 5 + 2 7% slower than 2 x 4 with one. Padding costs a
// copy of the output and the fused epilogue, so it loses a tie. AVX-512's 8-row tiles cover
// 56, 28, 14 and 7 columns by 8 or 7. On a Zen 2 (AVX2), 2 threads, r3d_18 at batch 2: 56 columns
// as 9 x 6 + 2 (rather than 4-row tiles) and 28 as 4 x 6 + 4 took layer1's 3x3x3 convs from 69-72%
// to 84-89% of the peak and layer2's from 71-73% to 83-90%.
// Tiles of more vectors need fewer rows for as many chains: a row of v vectors costs max(1,
// 2 (R - 1) / (v r)) with R the two-vector tile's rows (AVX2's 4 x 24 tiles keep 12 chains).
// Where the output has an even number of rows (`pairTails`), a tail of at most half the tile's
// rows beside full tiles takes two output rows per tile (a RowPairs loop): as many chains as a
// tile of twice its rows, and its forall's items read the filter slice once for both rows, half
// the cost of a tail's forall. On the Zen 2, 2 threads: 14 columns as 2 x 6 + 2 (pairs) instead of
// 3 x 5 with a zero column took mc3_18's 1x3x3 256->256 convs at 8x14x14 from 81-83% to 84-86% of
// the peak, r3d_18's 3x3x3 ones at 2x14x14 from 77-79% to 81-83%, their data gradients likewise.
// Beside tiles of fewer rows (28 as 5 x 5 + 3 pairs instead of 4 x 6 + 4) it was no faster.
std::vector<ColumnPart> columnParts(int64_t OW, const VectorTarget &regs, int64_t fTile, bool pairTails) {
  const int64_t maxRows = convTileRows(regs, fTile), vectors = std::max<int64_t>(2, fTile / regs.lanes);
  const double chainsNeeded = 2.0 * static_cast<double>(convTileRows(regs) - 1);
  auto cost = [&](int64_t columns, int64_t rows) {
    return static_cast<double>(columns) * std::max(1.0, chainsNeeded / static_cast<double>(vectors * rows));
  };
  const ColumnPart padded = paddedColumns(OW, maxRows);
  std::vector<ColumnPart> best{padded};
  double least = cost(padded.columns, padded.rows) + (padded.columns != OW ? 0.5 : 0.0);
  for (int64_t rows = maxRows; rows >= (maxRows + 1) / 2; --rows) {
    const int64_t tail = OW % rows, full = OW - tail;
    if (full == 0)
      continue;
    const bool paired = pairTails && rows == maxRows && 2 * tail <= maxRows;
    const double tailCost = tail == 0 ? 0.0 : paired ? cost(tail, 2 * tail) + 0.5 : cost(tail, tail) + 1.0;
    if (double c = cost(full, rows) + tailCost; c < least) {
      least = c;
      best = {ColumnPart{0, full, rows}};
      if (tail > 0)
        best.push_back({full, tail, tail});
    }
  }
  return best;
}

// The most taps any output reads along D, H and W together (padding rows skipped along D and
// H): what a tile reads of its filter slice.
int64_t mostTapsRead(const ConvProblem &p) {
  int64_t taps = 1;
  for (int i = 0; i < 3; ++i) {
    int64_t most = 0;
    for (int64_t o = 0; o < p.output[i + 1]; ++o) {
      auto [first, end] = tapsRead(p, i, o);
      most = std::max(most, end - first);
    }
    taps *= most;
  }
  return taps;
}

// The taps [first, end) that some output reads along axis `i` (all of them when none does).
std::pair<int64_t, int64_t> anyTapsRead(const ConvProblem &p, int i) {
  int64_t first = p.filter[i], end = 0;
  for (int64_t o = 0; o < p.output[i + 1]; ++o) {
    auto [f, e] = tapsRead(p, i, o);
    if (f < e) {
      first = std::min(first, f);
      end = std::max(end, e);
    }
  }
  return first < end ? std::pair{first, end} : std::pair<int64_t, int64_t>{0, p.filter[i]};
}

// Channels per reduction block when the reduction is outer: a multiple of C's tile (its largest
// divisor up to 8) that divides C, up to maxCBlock.
int64_t reductionBlock(int64_t C, int64_t maxCBlock) {
  const int64_t cTile = largestDivisorUpTo(C, 8);
  return cTile * largestDivisorUpTo(C / cTile, maxCBlock / cTile);
}

// C padded for reduction-outer blocks: the smallest multiple of 8 up to C + C/8 whose blocks
// reach 64 channels, else the one whose blocks are longest (921 -> 936, blocks of 104).
int64_t paddedReduction(int64_t C, int64_t maxCBlock) {
  int64_t best = roundUp(C, 8);
  for (int64_t p = best; p <= std::max(best, C + C / 8); p += 8) {
    if (reductionBlock(p, maxCBlock) >= std::min<int64_t>(64, maxCBlock))
      return p;
    if (reductionBlock(p, maxCBlock) > reductionBlock(best, maxCBlock))
      best = p;
  }
  return best;
}

// The output columns of a column part's block `block` whose tap kw reads a real input column,
// relative to the block's first.
Rows rowsRead(const ConvProblem &p, const ColumnPart &cols, int64_t block, int64_t kw) {
  if (!p.axes.padded[2])
    return {0, cols.rows};
  const int64_t origin = cols.base + block * cols.rows;
  auto [first, end] =
      outputsReadingInput(origin, origin + cols.rows, kw, p.strides[2], p.axes.low[2], p.axes.extent[2]);
  return {first - origin, end - origin};
}

// Along W the zero columns are skipped by row: an edge tile (a column block with a tap that reads
// W padding; at most two: the first and last, or the last two of a phase with no low padding)
// computes for each tap only the rows that read a real input column, as oneDNN and OpenVINO do.
// The products skipped are zero, so the sums are the same bits (as along D and H). Each column
// part's edge blocks (by index in the part), where the lane part's tiles skip enough.
std::vector<std::vector<int64_t>> edgeBlocksOf(const ConvProblem &p, const std::vector<ColumnPart> &columns) {
  const int64_t kW = p.filter[2];
  std::vector<std::vector<int64_t>> edgeBlocksOf(columns.size());
  int64_t skippedRows = 0, allRows = 0;
  bool fewEdges = true;
  for (size_t i = 0; i < columns.size(); ++i) {
    const ColumnPart &cols = columns[i];
    std::vector<int64_t> &edgeBlocks = edgeBlocksOf[i];
    for (int64_t block = 0; block < cols.blocks(); ++block) {
      int64_t skipped = 0;
      for (int64_t kw = 0; kw < kW; ++kw)
        skipped += cols.rows - rowsRead(p, cols, block, kw).size();
      if (skipped > 0)
        edgeBlocks.push_back(block);
      skippedRows += skipped;
    }
    allRows += cols.columns * kW;
    fewEdges = fewEdges && edgeBlocks.size() <= 2;
  }
  if (skippedRows < kMinSkippedWShare * allRows || !fewEdges)
    for (std::vector<int64_t> &edgeBlocks : edgeBlocksOf)
      edgeBlocks.clear();
  return edgeBlocksOf;
}

// Block `block` of a column part as an edge tile: its rows cut where a tap starts or stops reading
// real columns, the pieces no tap reads left out (they keep the tile's initial value).
EdgeTile edgeTile(const ConvProblem &p, const ColumnPart &cols, int64_t block) {
  const int64_t kW = p.filter[2];
  std::vector<int64_t> cuts{0, cols.rows};
  for (int64_t kw = 0; kw < kW; ++kw)
    if (Rows r = rowsRead(p, cols, block, kw); r.size() > 0)
      cuts.insert(cuts.end(), {r.begin, r.end});
  std::sort(cuts.begin(), cuts.end());
  cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
  EdgeTile tile;
  for (size_t i = 0; i + 1 < cuts.size(); ++i) {
    Rows piece{cuts[i], cuts[i + 1]};
    bool read = false;
    for (int64_t kw = 0; kw < kW; ++kw)
      read = read || rowsRead(p, cols, block, kw).contains(piece);
    if (read)
      tile.pieces.push_back(piece);
  }
  for (int64_t kw = 0; kw < kW; ++kw) {
    std::vector<int64_t> read;
    for (size_t i = 0; i < tile.pieces.size(); ++i)
      if (rowsRead(p, cols, block, kw).contains(tile.pieces[i]))
        read.push_back(static_cast<int64_t>(i));
    EdgeTile::addTap(tile.runs, kw, std::move(read));
  }
  return tile;
}

// The tiles of a flat loop (the whole row is its column part): runs of flatRows positions.
std::vector<FlatTile> flatTilesOf(const ConvProblem &p, const ColumnPart &cols, int64_t flatRows) {
  const int64_t kH = p.filter[1], kW = p.filter[2], OW = p.output[3], positions = p.output[2] * OW;
  std::vector<FlatTile> tiles;
  for (int64_t p0 = 0; p0 < positions; p0 += flatRows) {
    const int64_t p1 = std::min(positions, p0 + flatRows);
    FlatTile tile;
    // The tile's runs of positions in one output row, cut into pieces that each tap along W reads
    // whole or not at all.
    for (int64_t oh = p0 / OW; oh * OW < p1; ++oh) {
      const int64_t begin = std::max(p0, oh * OW) - oh * OW, end = std::min(p1, (oh + 1) * OW) - oh * OW;
      std::vector<int64_t> cuts{begin, end};
      for (int64_t kw = 0; kw < kW; ++kw) {
        Rows read = rowsRead(p, cols, 0, kw);
        cuts.insert(cuts.end(), {std::clamp(read.begin, begin, end), std::clamp(read.end, begin, end)});
      }
      std::sort(cuts.begin(), cuts.end());
      cuts.erase(std::unique(cuts.begin(), cuts.end()), cuts.end());
      for (size_t i = 0; i + 1 < cuts.size(); ++i)
        tile.pieces.push_back({oh, Rows{cuts[i], cuts[i + 1]}});
    }
    // Taps along H in ranges that the same rows read real input rows for.
    std::vector<int64_t> khCuts{0, kH};
    for (const FlatTile::Piece &piece : tile.pieces) {
      auto [first, end] = tapsRead(p, 1, piece.row);
      khCuts.insert(khCuts.end(), {std::clamp<int64_t>(first, 0, kH), std::clamp<int64_t>(end, 0, kH)});
    }
    std::sort(khCuts.begin(), khCuts.end());
    khCuts.erase(std::unique(khCuts.begin(), khCuts.end()), khCuts.end());
    for (size_t range = 0; range + 1 < khCuts.size(); ++range) {
      FlatTile::TapRange r{khCuts[range], khCuts[range + 1], {}, {}};
      for (size_t i = 0; i < tile.pieces.size(); ++i) {
        auto [first, end] = tapsRead(p, 1, tile.pieces[i].row);
        if (first <= r.khBegin && r.khEnd <= end)
          r.reading.push_back(static_cast<int64_t>(i));
      }
      // Runs of taps along W that read the same pieces.
      for (int64_t kw = 0; kw < kW; ++kw) {
        std::vector<int64_t> read;
        for (int64_t i : r.reading)
          if (rowsRead(p, cols, 0, kw).contains(tile.pieces[i].cols))
            read.push_back(i);
        EdgeTile::addTap(r.runs, kw, std::move(read));
      }
      if (!r.runs.empty())
        tile.ranges.push_back(std::move(r));
    }
    tiles.push_back(std::move(tile));
  }
  return tiles;
}

// The padding products are skipped per piece, so a tap's run over a flat tile may have fewer rows
// than the tile; one of r rows takes max(r, R - 1) steps of the FMA pipes (AVX2: 5 rows, 10
// chains, keep both pipes busy at latency 5). Of tiles of R - 1 and R positions the cheaper (the
// larger on a tie): at 7 x 7 with a 3 x 3 kernel 6 (378 steps, 361 at best) against 5 (420: most
// 5-position tiles lose a row to padding at some tap and wait on the latency). mc3_18's 1x3x3
// 512->512 in 5-position tiles: 77% of the peak. (On AVX-512 the floor of R - 1 = 13 overstates
// the 4 rows that its 8 chains need; the tiles measured are its choice.)
int64_t flatRowsOf(const ConvProblem &p, const VectorTarget &regs) {
  const int64_t kH = p.filter[1], kW = p.filter[2], OW = p.output[3];
  const int64_t most = flatTileRows(regs), least = most - 1, positions = p.output[2] * OW;
  auto steps = [&](int64_t rows) {
    int64_t sum = 0;
    for (int64_t p0 = 0; p0 < positions; p0 += rows)
      for (int64_t kh = 0; kh < kH; ++kh)
        for (int64_t kw = 0; kw < kW; ++kw) {
          int64_t reading = 0;
          for (int64_t q = p0; q < std::min(positions, p0 + rows); ++q) {
            auto [khFirst, khEnd] = tapsRead(p, 1, q / OW);
            auto [kwFirst, kwEnd] = tapsRead(p, 2, q % OW);
            reading += khFirst <= kh && kh < khEnd && kwFirst <= kw && kw < kwEnd;
          }
          sum += reading > 0 ? std::max(reading, least) : 0;
        }
    return sum;
  };
  return steps(least) < steps(most) ? least : most;
}

const char *kindName(TileKind kind) {
  switch (kind) {
  case TileKind::Rows:
    return "rows";
  case TileKind::FramePairs:
    return "frame-pairs";
  case TileKind::RowPairs:
    return "row-pairs";
  case TileKind::Flat:
    return "flat";
  case TileKind::ReductionOuter:
    return "reduction-outer";
  }
  return "?";
}

} // namespace

void EdgeTile::addTap(std::vector<Run> &runs, int64_t kw, std::vector<int64_t> read) {
  if (read.empty())
    return;
  if (!runs.empty() && runs.back().kwEnd == kw && runs.back().pieces == read)
    runs.back().kwEnd = kw + 1;
  else
    runs.push_back({kw, kw + 1, std::move(read)});
}

std::pair<int64_t, int64_t> tapsRead(const ConvProblem &p, int i, int64_t o) {
  const int64_t k = p.filter[i], s = p.strides[i];
  if (!p.axes.padded[i])
    return {0, k};
  return {std::max<int64_t>(0, p.axes.low[i] - o * s), std::min<int64_t>(k, p.axes.low[i] + p.axes.extent[i] - o * s)};
}

namespace {

// What the later decisions read of the first ones.
struct Sizing {
  int64_t taps = 0;
  // One clip's output block (OD x OH x OW padded x the first lane part's tile lanes), in bytes.
  int64_t clipBlockBytes = 0;
  // The output frames suit flat tiles, if the reduction is not outer.
  bool flatFrames = false;
};

// Whether the filter is packed for tiles of `lanes` (the packing rule in chooseReduction).
bool packs(const ConvProblem &p, const VectorTarget &regs, const Sizing &sizing, const std::vector<LanePart> &lanes,
           int64_t C, int64_t paddedF) {
  const int64_t blockLanes = 2 * regs.lanes;
  return lanes.size() == 1 && lanes.front().fTile >= blockLanes && sizing.taps * C * paddedF * 4 > kWholeFilterL2Bytes &&
         mostTapsRead(p) * C * lanes.front().fTile * 4 <=
             (sizing.flatFrames && regs.count < 32 && lanes.front().fTile == blockLanes ? kPackedFlatSliceBytes
                                                                                          : kPackedSliceL2Bytes);
}

// The lanes (F padded to vectors, in parts of two vectors and one), the reduction's tile and
// order (tile-outer, packed or not, or reduction-outer in blocks of cBlock channels, C padded
// where those would be short).
Sizing chooseReduction(const ConvProblem &p, const VectorTarget &regs, ConvSchedule &sc) {
  const std::array<int64_t, 5> &k = p.filter, &out = p.output;
  const int64_t F = out[4], OW = out[3];
  Sizing sizing;
  sc.realC = sc.C = p.input[4];
  // Static tiles: rows (output columns) and the reduction block are unrolled, so any size works;
  // the lanes (output channels) must be full vectors, so F is padded to a vector.
  sc.cTile = largestDivisorUpTo(sc.C, 8);
  sc.paddedF = roundUp(F, regs.lanes);
  // Lanes in blocks of two vectors (32 lanes on AVX-512), and one vector's block at the end when
  // F needs it (F = 144: four 8x32 tiles and an 8x16 one, instead of nine 8x16 tiles whose 8
  // accumulators wait on a broadcast load per FMA). Each part of F is a forall of its own.
  // torchvision r2plus1d_18 on a Zen 5: forward 5% and step 3% faster on 1 thread, step 1.5% on 2.
  const int64_t blockLanes = 2 * regs.lanes;
  if (sc.paddedF >= blockLanes)
    sc.laneParts.push_back({0, sc.paddedF / blockLanes * blockLanes, blockLanes});
  if (sc.paddedF % blockLanes != 0)
    sc.laneParts.push_back({sc.paddedF / blockLanes * blockLanes, regs.lanes, regs.lanes});
  const int64_t fTile = sc.laneParts.front().fTile;

  // The filter slice one output tile reads: all taps and channels of its filter block. While it
  // fits in L2 it is read from there by each of the block's tiles in turn (the tiles of one
  // filter block are consecutive items for each output frame). When it does not (512 channels
  // x 27 taps x 32 lanes is 1.7 MB) every tile would stream it from L3 or memory, so the loops
  // turn around: an item is a whole filter block of one clip, the reduction is outermost in
  // blocks of 64 channels of one tap (8 KB of filter, read from L1 by every tile), and the
  // tiles' sums wait in the item's output block (L1) between reduction blocks.
  sizing.taps = k[0] * k[1] * k[2];
  const int64_t sliceBytes = sizing.taps * sc.C * fTile * 4;
  // Channels per reduction block when the reduction is outer: a divisor of C up to 64, or up to
  // 128 for kernels of at most 9 taps (1x3x3, 3x1x1), whose blocks then read longer runs of each
  // input position's channels and load and store the item's sums half as often. On a Zen 5, 2
  // threads: mc3_18's forward 1-3% and torchvision r2plus1d_18's 1-2% faster (mc3_18's 1x3x3
  // 512-channel convs at 8x7x7 5% per conv, 1 thread); r3d_18's 3x3x3 256-channel convs 5%
  // slower with 128, so 27-tap kernels keep 64.
  const int64_t maxCBlock = sizing.taps <= 9 ? 128 : 64;
  sc.cBlock = reductionBlock(sc.C, maxCBlock);
  // Below half of L2 the slice still fits, yet streaming it from there once per tile beside the
  // input rows fell short above a quarter of L2 (on a Zen 5, r3d_18's 3x3x3 128-channel convs,
  // 442 KB: 77-80% of the peak, 87-89% reduction-outer; the forward of r3d_18 3% and of mc3_18,
  // whose 1x3x3 256-channel convs have 295 KB, 8% faster). There the loops turn around too when
  // one clip's output block (the item's sums) fits in half of L2 (layer1's 3 MB blocks would
  // stream from memory: 93% -> 69-81% of the peak) and the reduction blocks are whole (921
  // channels come in blocks of 3, each a load and store of the sums: 4x slower).
  sizing.clipBlockBytes = out[1] * out[2] * paddedColumns(OW, convTileRows(regs, fTile)).columns * fTile * 4;
  // Where the filter does not stay in L2 whole but the part of a tile's slice that it reads does
  // when contiguous, the filter is packed as [F/FT][kd][kh][kw][C][FT] (the taps read, FT the
  // tile's lanes) and each tile sums all of its products in registers (the oneDNN way: blocked
  // weights, batch-reduce over taps and channels). One clip on 1 thread, Zen 5: mc3_18's 1x3x3
  // 256-channel convs at 8x14x14 85% -> 93% of the peak, the 512-channel ones at 8x7x7 80% ->
  // 84%, r3d_18's 3x3x3 128-channel convs at 8x28x28 20% faster. The packing is an elementwise op
  // of its own, which vidnet-cpu-hoist-weight-packing moves out of the forward into a call made
  // once per set of weights. Only for F in one part of blocks of two vectors or more (not
  // torchvision r2plus1d_18's 460, nor with AVX2 its 144 and 230); packed reduction-outer convs
  // measured 5-20% slower.
  // Output frames that flat tiles suit (chooseTileShapes), if the reduction is not outer.
  sizing.flatFrames =
      (regs.count < 32 ? OW > convTileRows(regs) && paddedColumns(OW, convTileRows(regs)).columns != OW
                       : OW < convTileRows(regs) && out[2] > 1) &&
      sc.paddedF % blockLanes == 0 && p.startsFromZero && out[2] * OW <= kMaxFlatPositions;
  sc.packed = packs(p, regs, sizing, sc.laneParts, sc.C, sc.paddedF);
  sc.reductionOuter = !sc.packed && (sliceBytes > kFilterSliceL2Bytes ||
                                     (sliceBytes > kFilterSliceL2Bytes / 2 &&
                                      sizing.clipBlockBytes <= kFilterSliceL2Bytes && sc.cBlock >= 32));
  // Reduction-outer blocks of a few channels each load and store the item's sums: 921 channels
  // (3 x 307, torchvision r2plus1d_18's layer4.0 data gradient) came in blocks of 3, at 10% of the
  // peak. There C is padded with zero channels (on the input and the filter) to a size whose
  // blocks are long; the zero products leave every sum's value as it was.
  if (sc.reductionOuter && sc.cBlock < kMinReductionBlock) {
    sc.C = paddedReduction(sc.C, maxCBlock);
    sc.cTile = largestDivisorUpTo(sc.C, 8);
    sc.cBlock = reductionBlock(sc.C, maxCBlock);
  }
  return sizing;
}

// Tiles other than two-vector rows, where they suit: flat tiles of a frame's positions, tiles of
// three or four vectors of lanes, tiles of two frames' rows (each replacing the lane parts).
void chooseTileShapes(const ConvProblem &p, const VectorTarget &regs, const Sizing &sizing, ConvSchedule &sc) {
  const std::array<int64_t, 5> &k = p.filter, &out = p.output;
  const std::array<int64_t, 3> &s = p.strides;
  const int64_t OW = out[3], paddedF = sc.paddedF;
  // Output frames of 7 x 7 (layer4 of every model at 112 x 112 inputs). On AVX2 their rows are too
  // long for a two-vector tile of 16 registers (7 x 16: 14 accumulators and 3 more registers) and
  // too short for two (no divisor from 3 to 6, which the row tiles pad: 7 as 2 x 4 with a zero
  // column): the frame's positions in row-major order, in tiles of up to 6 positions whose rows
  // come in pieces of one output row. 12 FMA chains and 8 loads per 12 FMAs, where frame pairs
  // (2 x 7 x 8 lanes) load a broadcast for every FMA and 2 x 4 padded columns keep 8 chains. A
  // hand-written kernel of mc3_18's 1x3x3 512->512 at 8x7x7 on the Zen 2, 2 threads, all taps:
  // frame pairs 149 GFLOP/s, flat 6 x 16 tiles 202, 5 x 16 199, 4 x 16 160; the 256->512 /1x2x2
  // 143 and 202. With AVX-512's 32 registers a 7-position row is one tile of 7 x 32 (14
  // accumulators), each filter vector read for 7 products; flat tiles of up to 14 positions read
  // it for twice as many: on Intel Emerald Rapids, 2 threads, layer4's convs and gradients 9-20%
  // faster, the same bits. Only for convs that start from zeros (each tile's sums are written
  // once, never read back).
  sc.flatTiles = sizing.flatFrames && !sc.reductionOuter;
  if (sc.flatTiles) {
    sc.laneParts = {{0, paddedF, 2 * regs.lanes}};
    sc.flatRows = flatRowsOf(p, regs);
  }
  // F in blocks of more vectors where it allows, as oneDNN's kernels pick: each broadcast of the
  // input feeds more FMAs, and the input rows are read once for more lanes.
  // With 16 registers (AVX2), blocks of three vectors where 24 divides F (torchvision
  // r2plus1d_18's 144, 288, 576 and 1152): a 4 x 24 tile loads 3 filter vectors and 4 broadcasts
  // per 12 FMAs where a 6 x 16 one loads 2 and 6, and 4 rows cover 56 and 28 columns whole where 6
  // leave a 2- or 4-column tail. Zen 2, 2 threads: its 1x3x3 64->144 convs at 8x56x56 81-85% ->
  // 89-90% of the peak, the 128->288 ones at 28x28 88% -> 92-93%. The 24 lanes are three
  // registers, which vidnet-cpu-vectorize-tiles unrolls. Not where the schedule would change:
  // reduction-outer items keep one tile size for the whole block, and a packed filter's slice
  // must still fit.
  // With 32 (AVX-512), 6 x 64 tiles where 64 divides F (24 FMAs per 4 filter vectors and 6
  // broadcasts, where 8 x 32 ones load 2 and 8 per 16), else 8 x 48 tiles where 48 does (144,
  // 240, 288 and the 45-channel stem), which make one lane part of what were parts of 32 and 16
  // lanes and so may pack the filter; not for output rows of at most a tile's 8 columns (layer4's
  // 7 x 7 frames, also the strided data gradients' phases there), which one 8-row tile covers.
  // Intel Emerald Rapids, 2 threads: r3d_18's 3x3x3 64->64 convs at 8x56x56 and their data
  // gradients 4-6% faster, torchvision r2plus1d_18's 1x3x3 64->144 data gradients (convs to 64
  // channels) 15%, its 1x7x7 stem 7-10%; the forwards of r3d_18, mc3_18 and r2plus1d_18 1.5-5%
  // faster, their steps 0.5-2.5%.
  const int64_t wideVectors = sc.reductionOuter || sc.flatTiles   ? 0
                              : regs.count < 32                 ? (paddedF % (3 * regs.lanes) == 0 ? 3 : 0)
                              : OW <= convTileRows(regs)        ? 0
                              : paddedF % (4 * regs.lanes) == 0 ? 4
                              : paddedF % (3 * regs.lanes) == 0 ? 3
                                                                : 0;
  if (wideVectors > 0) {
    std::vector<LanePart> wide{{0, paddedF, wideVectors * regs.lanes}};
    const bool widePacks = packs(p, regs, sizing, wide, sc.C, paddedF);
    if (regs.count < 32 ? widePacks == sc.packed : widePacks || !sc.packed) {
      sc.laneParts = wide;
      sc.packed = widePacks;
      sc.wideVectors = wideVectors;
    }
  }
  // Rows too long for a two-vector tile of 16 registers but short enough for two of them in
  // one-vector tiles (OW = 7: 7 x 16 would be 14 accumulators and 3 more registers), of a conv
  // whose output frames read the same taps (k_D = 1, no D padding): each tile is the row of two
  // output frames, one vector of lanes: 14 accumulators, a filter vector and a broadcast.
  // Otherwise the row is 2 x 4 padded columns of 8 FMA chains. Zen 2, 2 threads: mc3_18's 1x3x3
  // 512->512 convs at 8x7x7 48-54% -> 63-69% of the peak, the same bits. Not strided along H or
  // W: the input of a pair of frames of mc3_18's 1x3x3 256->512 /1x2x2 (2 x 16 x 16 x 256 floats)
  // is more than the L2 holds, each filter block read it again from L3, and the conv went from
  // 54% to 45%.
  sc.framePairs = regs.count < 32 && !sc.reductionOuter && !sc.flatTiles && k[0] == 1 && !p.axes.padded[0] &&
                  s[1] == 1 && s[2] == 1 && out[1] % 2 == 0 && OW > convTileRows(regs) && 2 * OW + 2 <= regs.count;
  if (sc.framePairs)
    sc.laneParts = {{0, paddedF, regs.lanes}};
}

// Each lane part's output columns: reduction-outer items sum a whole output block in one loop nest
// over its tiles, so they keep one part; pair and flat tiles take whole rows.
std::vector<std::vector<ColumnPart>> chooseColumns(const ConvProblem &p, const VectorTarget &regs, ConvSchedule &sc) {
  const int64_t OW = p.output[3];
  std::vector<std::vector<ColumnPart>> columnsOf;
  sc.paddedOW = 0;
  for (const LanePart &part : sc.laneParts) {
    if (sc.framePairs || sc.flatTiles) {
      columnsOf.push_back({ColumnPart{0, OW, OW}});
      sc.paddedOW = OW;
      continue;
    }
    columnsOf.push_back(sc.reductionOuter ? std::vector<ColumnPart>{paddedColumns(OW, convTileRows(regs, part.fTile))}
                                          : columnParts(OW, regs, part.fTile, p.output[2] % 2 == 0));
    sc.paddedOW = std::max(sc.paddedOW, columnsOf.back().back().base + columnsOf.back().back().columns);
  }
  return columnsOf;
}

// The conv's flags that follow from its tiles: starting from zero, the fused epilogue, the filter
// blocks' order, the input prefetches, the packed taps.
void chooseFlags(const ConvProblem &p, const Sizing &sizing, ConvSchedule &sc) {
  const std::array<int64_t, 5> &k = p.filter;
  // The conv accumulates onto its init. When that is lower-to-linalg's zeros and each tile is
  // summed in one go, the loop writes an empty tensor instead and each tile starts from zero in
  // registers: reading one zero tensor that CSE shares between convs made bufferization copy it
  // before every conv, serially (6.4 MB for each of r3d_18's layer1 convs). The sums are the same
  // bits. (Reduction-outer blocks still start from the init: zeroing them in the item was unrolled
  // by LLVM into up to 784 stores per conv, +60% code generation time, to save copies of 100-200
  // KB.)
  sc.fromZero = !sc.reductionOuter && p.startsFromZero;
  // BN (eval), ReLU and the residual add that read only this conv's output run on each tile in
  // registers before its store, as oneDNN's post-ops do: only where the tiles cover the output
  // exactly, so that the other inputs need no padding.
  sc.mayFuseEpilogue = sc.fromZero && sc.paddedOW == p.output[3] && sc.paddedF == p.output[4];
  sc.filterInner = sizing.taps * sc.C * sc.paddedF * 4 <= kWholeFilterL2Bytes;
  // A kernel of one tap along H and W (3x1x1, 1x1x1) reads each input column for one tap of one
  // tile only, so the input arrives from L3 or memory in short runs (a column's channels, for each
  // of the tile's columns and taps): too many streams for the hardware prefetchers to run ahead,
  // and the tiles waited on it. (Wider kernels read most of a tile's input again, from L1, for
  // their next taps and the next tile.) So each step of such a tile's reduction asks for the same
  // channels of the next tile along W, one prefetch into L1 per column. On the Zen 2, 2 threads: a
  // hand-written 6 x 16 kernel of torchvision r2plus1d_18's 3x1x1 144->64 conv at 8x56x56 went
  // from 74% to 85% of the peak. Not for pair tiles: their 14 accumulators leave no register for
  // the addresses (mc3_18's frame pairs 66-71% -> 42-43% of the peak with them).
  sc.prefetchesInput = k[1] == 1 && k[2] == 1 && !sc.framePairs && !sc.flatTiles;
  // Only the taps along D and H that some output reads are packed (r3d_18's layer4 at 8 frames
  // has one output frame, which reads only the middle temporal tap: a third of its filters).
  if (sc.packed) {
    const auto [fromD, endD] = anyTapsRead(p, 0);
    const auto [fromH, endH] = anyTapsRead(p, 1);
    sc.firstD = fromD, sc.tapsD = endD - fromD;
    sc.firstH = fromH, sc.tapsH = endH - fromH;
  }
}

// One forall per column part and lane part, column parts outer, lane parts inner, with their
// items, edge tiles and the decisions of their kind.
void chooseLoops(const ConvProblem &p, const VectorTarget &regs, const Sizing &sizing,
                 const std::vector<std::vector<ColumnPart>> &columnsOf, ConvSchedule &sc) {
  const std::array<int64_t, 5> &k = p.filter, &out = p.output;
  std::vector<std::vector<std::vector<int64_t>>> edgesOf;
  size_t mostColumnParts = 0;
  for (const std::vector<ColumnPart> &columns : columnsOf) {
    edgesOf.push_back(edgeBlocksOf(p, columns));
    mostColumnParts = std::max(mostColumnParts, columns.size());
  }
  const TileKind kind = sc.reductionOuter ? TileKind::ReductionOuter
                        : sc.flatTiles    ? TileKind::Flat
                        : sc.framePairs   ? TileKind::FramePairs
                                          : TileKind::Rows;
  for (size_t c = 0; c < mostColumnParts; ++c)
    for (size_t lane = 0; lane < sc.laneParts.size(); ++lane)
      if (c < columnsOf[lane].size()) {
        TileLoop loop;
        loop.lanes = sc.laneParts[lane];
        loop.cols = columnsOf[lane][c];
        loop.kind = kind;
        loop.edgeBlocks = edgesOf[lane][c];
        sc.loops.push_back(std::move(loop));
      }
  for (TileLoop &loop : sc.loops) {
    // A tail part of at most a third of the tile's rows (56 columns as 9 x 6 + 2 with AVX2: 4 FMA
    // chains) takes two output rows per tile (2 x 2 x 16: 8 chains). Rows oh and oh + 1 read the
    // taps along H that either reads: the products with the zero rows of the padded input that one
    // of them would skip are +0 and leave its sums as they were. Zen 2, 2 threads: r3d_18's 3x3x3
    // 64->64 convs at 8x56x56 82-84% -> 88-90% of the peak. Also a tail of half the rows (AVX2's
    // 4 x 24 tiles at 14 columns: 3 x 4 + 2, 6 chains), whose pair tile has a full tile's
    // accumulators, and tails that are edge tiles (their pieces summed per row): torchvision
    // r2plus1d_18's 1x3x3 256->576 convs at 2x14x14 76-80% -> 81-86% of the peak, the same bits.
    if (kind == TileKind::Rows && loop.cols.base > 0 && loop.cols.blocks() == 1 && out[2] % 2 == 0 &&
        2 * loop.cols.rows <= convTileRows(regs, loop.lanes.fTile))
      loop.kind = TileKind::RowPairs;
    const int64_t fBlocks = loop.lanes.blocks();
    // Reduction-outer items take several clips each, so that a filter block streamed from memory
    // serves all of them (oneDNN's batch-reduce kernels do the same): the largest divisor of the
    // batch whose output block (clips x OD x OH x OW x fTile) stays within half of L2 and that
    // leaves kMinReductionOuterItems items for the threads.
    loop.clipsPerItem = largestDivisorUpTo(
        out[0], std::min(kFilterSliceL2Bytes / sizing.clipBlockBytes, out[0] * fBlocks / kMinReductionOuterItems));
    loop.items = loop.kind == TileKind::ReductionOuter ? out[0] / loop.clipsPerItem * fBlocks
                 : loop.kind == TileKind::Flat         ? out[0] * fBlocks * out[1]
                                                       : out[0] * fBlocks * out[1] * out[2] / (loop.pairAxis() ? 2 : 1);
    // Reduction-outer, only where each block serves a few tiles: there a block is read from memory
    // about as fast as it is used. With more tiles, the next block's lines in L2 only crowded the
    // caches (torchvision r2plus1d_18's 3x1x1 convs at 14x14: 10-20% slower).
    loop.prefetchesFilter = loop.kind == TileKind::ReductionOuter &&
                            loop.clipsPerItem * out[1] * out[2] * loop.cols.blocks() <= kMaxTilesPrefetched;
    // Where every output row reads one tap row (1x1x1 kernels, no D or H padding) through whole
    // tiles, each tile's sum is the row's: written as it is (+0 + s is s, bit for bit), not added
    // onto zeros written first. The zero stores had to own each of the row's lines before any
    // product (an RFO from memory per line, the store queue full) and were a quarter of the 1x1x1
    // /1x2x2 64->128 shortcut's samples (perf, mc3_18, Zen 3).
    loop.writesSums = loop.kind == TileKind::Rows && sc.fromZero && k[0] == 1 && k[1] == 1 && !p.axes.padded[0] &&
                      !p.axes.padded[1] && loop.edgeBlocks.empty();
    for (int64_t block : loop.edgeBlocks)
      loop.edgeTiles.push_back(edgeTile(p, loop.cols, block));
    if (loop.kind == TileKind::ReductionOuter)
      for (size_t i = 0; i < loop.edgeBlocks.size(); ++i)
        for (int64_t kw = 0; kw < k[2]; ++kw)
          if (Rows rows = rowsRead(p, loop.cols, loop.edgeBlocks[i], kw); rows.size() < loop.cols.rows)
            loop.edgeCases.push_back({static_cast<int64_t>(i) * k[2] + kw, rows});
    if (loop.kind == TileKind::Flat)
      loop.flatTiles = flatTilesOf(p, loop.cols, sc.flatRows);
  }
}

} // namespace

ConvSchedule chooseConvSchedule(const ConvProblem &p, const VectorTarget &regs) {
  ConvSchedule sc;
  sc.problem = p;
  const Sizing sizing = chooseReduction(p, regs, sc);
  chooseTileShapes(p, regs, sizing, sc);
  const std::vector<std::vector<ColumnPart>> columnsOf = chooseColumns(p, regs, sc);
  chooseFlags(p, sizing, sc);
  chooseLoops(p, regs, sizing, columnsOf, sc);
  return sc;
}

std::string describe(const ConvSchedule &sc) {
  const ConvProblem &p = sc.problem;
  std::ostringstream os;
  auto shape = [&](const auto &dims, const char *sep) {
    for (size_t i = 0; i < dims.size(); ++i)
      os << (i ? sep : "") << dims[i];
  };
  os << "conv ";
  shape(p.input, "x");
  os << " * ";
  shape(std::array<int64_t, 3>{p.filter[0], p.filter[1], p.filter[2]}, "x");
  os << " /";
  shape(p.strides, "x");
  os << " -> ";
  shape(p.output, "x");
  os << ":";
  if (sc.C != sc.realC)
    os << " C " << sc.realC << "->" << sc.C;
  os << " ctile " << sc.cTile;
  if (sc.reductionOuter)
    os << " cblock " << sc.cBlock;
  if (sc.paddedF != p.output[4])
    os << " F " << p.output[4] << "->" << sc.paddedF;
  if (sc.paddedOW != p.output[3])
    os << " OW " << p.output[3] << "->" << sc.paddedOW;
  if (sc.wideVectors)
    os << " wide " << sc.wideVectors;
  if (sc.flatTiles)
    os << " flat " << sc.flatRows;
  if (sc.packed)
    os << " packed d" << sc.firstD << "+" << sc.tapsD << " h" << sc.firstH << "+" << sc.tapsH;
  if (sc.fromZero)
    os << " from-zero";
  if (sc.mayFuseEpilogue)
    os << " epilogue";
  if (sc.filterInner)
    os << " filter-inner";
  if (sc.prefetchesInput)
    os << " prefetch-input";
  os << ";";
  for (const TileLoop &loop : sc.loops) {
    os << " [" << kindName(loop.kind) << " lanes " << loop.lanes.base << "+" << loop.lanes.lanes << "/"
       << loop.lanes.fTile << " cols " << loop.cols.base << "+" << loop.cols.columns << "/" << loop.cols.rows
       << " items " << loop.items;
    if (!loop.edgeBlocks.empty()) {
      os << " edges ";
      shape(loop.edgeBlocks, ",");
    }
    if (loop.kind == TileKind::ReductionOuter)
      os << " clips " << loop.clipsPerItem << (loop.prefetchesFilter ? " prefetch-filter" : "");
    if (loop.writesSums)
      os << " writes-sums";
    os << "]";
  }
  return os.str();
}

} // namespace vidnet::cpu
