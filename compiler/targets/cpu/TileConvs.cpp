// vidnet-cpu-tile-convs: vidnet.conv -> loop nest of static, register-sized linalg.matmul tiles.
#include "compiler/targets/cpu/ConvEpilogue.h"
#include "compiler/targets/cpu/CpuPasses.h"
#include "compiler/targets/cpu/LoopInfo.h"
#include "compiler/targets/cpu/LoopNests.h"
#include "compiler/targets/cpu/PadInPlace.h"
#include "compiler/targets/cpu/ReadOnlyBuffer.h"
#include "compiler/targets/cpu/TileSizes.h"
#include "compiler/transforms/LinalgBuilders.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"

namespace vidnet::cpu {
#define GEN_PASS_DEF_TILECONVS
#include "compiler/targets/cpu/CpuPasses.h.inc"
} // namespace vidnet::cpu

using namespace mlir;

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
// threads, packed with flat tiles: 9.5-10.6 -> 5.3-5.5 ms each, plus 1.6-2.1 ms of packing in
// place of the 3.2-4.1 ms transposed copy they read before.
constexpr int64_t kPackedFlatSliceBytes = 768 * 1024;
// Reduction-outer blocks shorter than this many channels (C with no divisor that large) pad C.
constexpr int64_t kMinReductionBlock = 32;
// Reduction-outer items (one filter block each) a conv keeps at least, for the threads.
constexpr int64_t kMinReductionOuterItems = 8;
// Reduction-outer blocks of the filter are prefetched (into L2) for items of at most this many
// tiles: layer4's 7x7 outputs are 7.
constexpr int64_t kMaxTilesPrefetched = 16;
// Output frames of at most this many positions (7x7) are tiled as one row-major run of positions
// where the row tiles would pad a row too long for one tile and too short for two (flatTiles).
constexpr int64_t kMaxFlatPositions = 64;

using vidnet::cpu::describeLoop;
using vidnet::cpu::kMinSkippedWShare;
using vidnet::cpu::largestDivisorUpTo;
using vidnet::cpu::loopNest;
using vidnet::cpu::loopNestN;
using vidnet::cpu::roundUp;
using vidnet::cpu::VectorRegisters;

// Output columns (rows of a register tile) at most, each row two vectors of lanes: 8 x 2 of the
// 32 AVX-512 registers accumulate, 6 x 2 of AVX2's 16, and the rest hold the filter's vectors
// and the broadcasts. r3d_18 at batch 2 on a Zen 3 (AVX2), 2 threads: 8-row tiles (32
// accumulators) spilled beside every FMA, forward 1235 -> 533 ms and step 4085 -> 1670 ms with
// 6 rows; 7 rows (14 accumulators, one register short) spilled again: 800 and 2465 ms.
int64_t convTileRows(const VectorRegisters &regs) { return regs.count >= 32 ? 8 : 6; }

// Positions of a flat tile (two vectors of lanes each): as many as the accumulators, the two
// filter vectors and a broadcast leave room for. AVX2: 6 (12 + 3 of 16); AVX-512: 14 (28 + 3 of
// 32), where a 7 x 7 frame's row tiles (7 x 32, 14 accumulators) read each filter vector for 7
// positions and its flat tiles for 14.
int64_t flatTileRows(const VectorRegisters &regs) { return (regs.count - 3) / 2; }

// Rows of a tile whose lanes are `fTile`: as many as a two-vector tile has, or fewer where the
// accumulators, the filter's vectors and a broadcast would not fit in the registers (AVX2's 4 x 24
// tiles: 12 + 3 + 1 = 16; AVX-512's 8 x 48 ones 24 + 3 + 1 and 6 x 64 ones 24 + 4 + 1 of 32).
int64_t convTileRows(const VectorRegisters &regs, int64_t fTile) {
  const int64_t vectors = fTile / regs.lanes;
  return vectors <= 2 ? convTileRows(regs) : std::min(convTileRows(regs), (regs.count - vectors - 1) / vectors);
}

// Output columns [base, base + columns) of a conv, in tiles of `rows` rows: one scf.forall each.
struct ColumnPart {
  int64_t base, columns, rows;
  int64_t blocks() const { return columns / rows; }
};

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
// 56, 28, 14 and 7 columns by 8 or 7 as before. r3d_18 at batch 2 on a Zen 2 (AVX2), 2 threads,
// alternating runs: 56 columns as 9 x 6 + 2 (4-row tiles before) and 28 as 4 x 6 + 4 took layer1's
// 3x3x3 convs from 69-72% to 84-89% of the peak and layer2's from 71-73% to 83-90%; the forward
// 447-457 -> 398-399 ms, the step 1461-1524 -> 1339-1362 ms (the data gradients are convs too).
// Tiles of more vectors need fewer rows for as many chains: a row of v vectors costs max(1,
// 2 (R - 1) / (v r)) with R the two-vector tile's rows (AVX2's 4 x 24 tiles keep 12 chains).
// Where the output has an even number of rows (`pairTails`), a tail of at most half the tile's
// rows beside full tiles takes two output rows per tile (below): as many chains as a tile of
// twice its rows, and its forall's items read the filter slice once for both rows, half the cost
// of a tail's forall. On the Zen 2, 2 threads, alternating runs: 14 columns as 2 x 6 + 2 (pairs)
// instead of 3 x 5 with a zero column, mc3_18's 1x3x3 256->256 convs at 8x14x14 81-83% -> 84-86%
// of the peak, r3d_18's 3x3x3 ones at 2x14x14 77-79% -> 81-83%, their data gradients likewise.
// Beside tiles of fewer rows (28 as 5 x 5 + 3 pairs instead of 4 x 6 + 4) it was no faster.
SmallVector<ColumnPart> columnParts(int64_t OW, const VectorRegisters &regs, int64_t fTile, bool pairTails) {
  const int64_t maxRows = convTileRows(regs, fTile), vectors = std::max<int64_t>(2, fTile / regs.lanes);
  const double chainsNeeded = 2.0 * static_cast<double>(convTileRows(regs) - 1);
  auto cost = [&](int64_t columns, int64_t rows) {
    return static_cast<double>(columns) * std::max(1.0, chainsNeeded / static_cast<double>(vectors * rows));
  };
  const ColumnPart padded = paddedColumns(OW, maxRows);
  SmallVector<ColumnPart> best{padded};
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

struct TileConvs : vidnet::cpu::impl::TileConvsBase<TileConvs> {
  using TileConvsBase::TileConvsBase;

  void runOnOperation() override {
    SmallVector<linalg::Conv3DNdhwcDhwcfOp> convs;
    getOperation().walk([&](linalg::Conv3DNdhwcDhwcfOp op) {
      if (op.hasPureTensorSemantics() &&
          llvm::all_of(op.getDilations().getValues<int64_t>(), [](int64_t d) { return d == 1; }))
        convs.push_back(op);
    });
    const VectorRegisters regs = VectorRegisters::forBits(vectorBits);
    for (linalg::Conv3DNdhwcDhwcfOp op : convs)
      rewrite(op, regs);
  }

  // The conv's input is already zero-padded (vidnet-lower-to-linalg); `extraW` more columns
  // are added on the right and `extraC` zero channels at the end, folded into that tensor.pad
  // where there is one.
  static Value padRight(OpBuilder &b, Location loc, Value input, int64_t extraW, int64_t extraC, Value zero) {
    if (extraW == 0 && extraC == 0)
      return input;
    Value source = input;
    SmallVector<OpFoldResult> low(5, b.getIndexAttr(0)), high(5, b.getIndexAttr(0));
    auto pad = input.getDefiningOp<tensor::PadOp>();
    if (pad && pad.getConstantPaddingValue() && matchPattern(pad.getConstantPaddingValue(), m_AnyZeroFloat())) {
      source = pad.getSource();
      low = pad.getMixedLowPad();
      high = pad.getMixedHighPad();
    }
    high[3] = b.getIndexAttr(getConstantIntValue(high[3]).value_or(0) + extraW);
    high[4] = b.getIndexAttr(getConstantIntValue(high[4]).value_or(0) + extraC);
    auto type = cast<RankedTensorType>(input.getType());
    SmallVector<int64_t> shape(type.getShape());
    shape[3] += extraW;
    shape[4] += extraC;
    return tensor::PadOp::create(b, loc, RankedTensorType::get(shape, type.getElementType()), source, low, high, zero);
  }

  // The conv's input along D, H and W: `low` zero rows, then `extent` real ones. `padded`
  // when it comes from a zero tensor.pad that adds rows along that axis; otherwise every tap
  // of every output reads a real row (low 0, extent the whole input).
  struct InputAxes {
    int64_t low[3] = {0, 0, 0}, extent[3] = {0, 0, 0};
    bool padded[3] = {false, false, false};
  };
  static InputAxes inputAxes(Value input) {
    InputAxes axes;
    ArrayRef<int64_t> in = cast<RankedTensorType>(input.getType()).getShape();
    for (int i = 0; i < 3; ++i)
      axes.extent[i] = in[i + 1];
    auto pad = input.getDefiningOp<tensor::PadOp>();
    if (!pad || !pad.getConstantPaddingValue() || !matchPattern(pad.getConstantPaddingValue(), m_AnyZeroFloat()))
      return axes;
    ArrayRef<int64_t> low = pad.getStaticLow(), source = pad.getSourceType().getShape();
    for (int i = 0; i < 3; ++i)
      if (!ShapedType::isDynamic(low[i + 1]) && !ShapedType::isDynamic(source[i + 1])) {
        axes.low[i] = low[i + 1];
        axes.extent[i] = source[i + 1];
        axes.padded[i] = source[i + 1] != in[i + 1];
      }
    return axes;
  }

  // The taps [first, end) that output `o` reads along axis `i`: those on real rows where the
  // axis is padded (empty when all of them read padding), else all of them.
  static std::pair<int64_t, int64_t> tapsRead(const InputAxes &axes, ArrayRef<int64_t> k, ArrayRef<int64_t> s, int i,
                                              int64_t o) {
    if (!axes.padded[i])
      return {0, k[i]};
    return {std::max<int64_t>(0, axes.low[i] - o * s[i]),
            std::min<int64_t>(k[i], axes.low[i] + axes.extent[i] - o * s[i])};
  }

  // The most taps any output reads along D, H and W together (padding rows skipped along D and
  // H): what a tile reads of its filter slice.
  static int64_t mostTapsRead(const InputAxes &axes, ArrayRef<int64_t> k, ArrayRef<int64_t> s, ArrayRef<int64_t> out) {
    int64_t taps = 1;
    for (int i = 0; i < 3; ++i) {
      int64_t most = 0;
      for (int64_t o = 0; o < out[i + 1]; ++o) {
        auto [first, end] = tapsRead(axes, k, s, i, o);
        most = std::max(most, end - first);
      }
      taps *= most;
    }
    return taps;
  }

  // The taps [first, end) that some output reads along axis `i` (all of them when none does).
  static std::pair<int64_t, int64_t> anyTapsRead(const InputAxes &axes, ArrayRef<int64_t> k, ArrayRef<int64_t> s,
                                                 ArrayRef<int64_t> out, int i) {
    int64_t first = k[i], end = 0;
    for (int64_t o = 0; o < out[i + 1]; ++o) {
      auto [f, e] = tapsRead(axes, k, s, i, o);
      if (f < e) {
        first = std::min(first, f);
        end = std::max(end, e);
      }
    }
    return first < end ? std::pair{first, end} : std::pair<int64_t, int64_t>{0, k[i]};
  }

  // Channels per reduction block when the reduction is outer: a multiple of C's tile (its largest
  // divisor up to 8) that divides C, up to maxCBlock.
  static int64_t reductionBlock(int64_t C, int64_t maxCBlock) {
    const int64_t cTile = largestDivisorUpTo(C, 8);
    return cTile * largestDivisorUpTo(C / cTile, maxCBlock / cTile);
  }

  // C padded for reduction-outer blocks: the smallest multiple of 8 up to C + C/8 whose blocks
  // reach 64 channels, else the one whose blocks are longest (921 -> 936, blocks of 104).
  static int64_t paddedReduction(int64_t C, int64_t maxCBlock) {
    int64_t best = roundUp(C, 8);
    for (int64_t p = best; p <= std::max(best, C + C / 8); p += 8) {
      if (reductionBlock(p, maxCBlock) >= std::min<int64_t>(64, maxCBlock))
        return p;
      if (reductionBlock(p, maxCBlock) > reductionBlock(best, maxCBlock))
        best = p;
    }
    return best;
  }

  // For `vidrun profile`: the conv's kind, the forward conv it belongs to, and its own flops.
  static vidnet::cpu::LoopInfo describe(linalg::Conv3DNdhwcDhwcfOp op) {
    ArrayRef<int64_t> k = cast<RankedTensorType>(op.getInputs()[1].getType()).getShape();
    ArrayRef<int64_t> out = cast<RankedTensorType>(op.getResultTypes()[0]).getShape();
    SmallVector<int64_t> s(op.getStrides().getValues<int64_t>());
    vidnet::cpu::LoopInfo info;
    auto role = op->getAttrOfType<StringAttr>(vidnet::kConvRoleAttr);
    auto shape = op->getAttrOfType<StringAttr>(vidnet::kConvShapeAttr);
    info.kind = role ? role.str() : "conv";
    info.shape = shape ? shape.str() : vidnet::describeConv(k, s, out);
    // Products that read padding rows are not work, whether skipped (D, H, edge tiles along W) or not.
    InputAxes axes = inputAxes(op.getInputs()[0]);
    info.flops = vidnet::cpu::convFlops(k, s, out, axes.low, axes.extent);
    info.bytes = vidnet::cpu::convTrafficBytes(k, s, out, axes.low, axes.extent, /*wholeFilter=*/false);
    return info;
  }

  static void rewrite(linalg::Conv3DNdhwcDhwcfOp op, const VectorRegisters &regs) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    Value input = op.getInputs()[0], filter = op.getInputs()[1];
    auto inType = cast<RankedTensorType>(input.getType());
    auto filterType = cast<RankedTensorType>(filter.getType());
    auto outType = cast<RankedTensorType>(op.getResultTypes()[0]);
    Type f32 = inType.getElementType();
    ArrayRef<int64_t> in = inType.getShape(), k = filterType.getShape(), out = outType.getShape();
    SmallVector<int64_t> s(op.getStrides().getValues<int64_t>());
    int64_t C = in[4], F = out[4], OW = out[3];

    // Static tiles: rows (output columns) and the reduction block are unrolled, so any size
    // works; the lanes (output channels) must be full vectors, so F is padded to a vector.
    int64_t cTile = largestDivisorUpTo(C, 8);
    const int64_t realC = C;
    int64_t paddedF = roundUp(F, regs.lanes);
    // Lanes in blocks of two vectors (32 lanes on AVX-512), and one vector's block at the end when
    // F needs it (F = 144: four 8x32 tiles and an 8x16 one, instead of nine 8x16 tiles whose 8
    // accumulators wait on a broadcast load per FMA). Each part of F is a forall of its own. torchvision r2plus1d_18 on
    // a Zen 5, alternating runs: forward 5% and step 3% faster on 1 thread, step 1.5% faster on 2
    // (the 2-thread forward gained only once vidnet-cpu-pad-in-place followed both foralls).
    struct LaneBlocks {
      int64_t base, lanes, fTile;
    };
    SmallVector<LaneBlocks> laneBlocks;
    const int64_t blockLanes = 2 * regs.lanes;
    if (paddedF >= blockLanes)
      laneBlocks.push_back({0, paddedF / blockLanes * blockLanes, blockLanes});
    if (paddedF % blockLanes != 0)
      laneBlocks.push_back({paddedF / blockLanes * blockLanes, regs.lanes, regs.lanes});
    int64_t fTile = laneBlocks.front().fTile;
    // The output's columns, padded or not (reduction-outer convs pad them; the others are in
    // parts, below).
    int64_t paddedOW = paddedColumns(OW, convTileRows(regs, fTile)).columns;

    // Along D and H the input is `low` zero rows, then `extent` real ones: products with the
    // zero rows are skipped (a whole tap per tile), as oneDNN does. Skipping them leaves every
    // sum bit-identical: a sum that starts at +0 is never -0, and adding a +-0 product changes
    // no other value. (r3d_18 at 8 frames: 19% of the nominal products; layer4's one output
    // frame reads only its middle temporal tap.)
    const InputAxes axes = inputAxes(input);

    // The filter slice one output tile reads: all taps and channels of its filter block. While it
    // fits in L2 it is read from there by each of the block's tiles in turn (the tiles of one
    // filter block are consecutive items for each output frame). When it does not (512 channels
    // x 27 taps x 32 lanes is 1.7 MB) every tile would stream it from L3 or memory, so the loops
    // turn around: an item is a whole filter block of one clip, the reduction is outermost in
    // blocks of 64 channels of one tap (8 KB of filter, read from L1 by every tile), and the
    // tiles' sums wait in the item's output block (L1) between reduction blocks.
    const int64_t taps = k[0] * k[1] * k[2];
    const int64_t sliceBytes = taps * C * fTile * 4;
    // Channels per reduction block when the reduction is outer: a divisor of C up to 64, or up to
    // 128 for kernels of at most 9 taps (1x3x3, 3x1x1), whose blocks then read longer runs of each
    // input position's channels and load and store the item's sums half as often. Alternating
    // runs on a Zen 5, 2 threads: mc3_18's forward 1-3% and torchvision r2plus1d_18's 1-2% faster
    // (mc3_18's 1x3x3 512-channel convs at 8x7x7 5% per conv, 1 thread); r3d_18's 3x3x3
    // 256-channel convs 5% slower with 128, so 27-tap kernels keep 64.
    const int64_t maxCBlock = taps <= 9 ? 128 : 64;
    int64_t cBlock = reductionBlock(C, maxCBlock);
    // Below half of L2 the slice still fits, yet streaming it from there once per tile beside
    // the input rows fell short above a quarter of L2 (on a Zen 5, r3d_18's 3x3x3 128-channel
    // convs, 442 KB: 77-80% of the peak, 87-89% reduction-outer; the forward of r3d_18 3% and of
    // mc3_18, whose 1x3x3 256-channel convs have 295 KB, 8% faster). There the loops turn around
    // too when one clip's output block (the item's sums) fits in half of L2 (layer1's 3 MB
    // blocks would stream from memory: 93% -> 69-81%) and the reduction blocks are whole (921
    // channels come in blocks of 3, each a load and store of the sums: 4x slower).
    const int64_t clipBlockBytes = out[1] * out[2] * paddedOW * fTile * 4;
    // Where the filter does not stay in L2 whole but the part of a tile's slice that it reads
    // does when contiguous, the filter is packed as [F/FT][kd][kh][kw][C][FT] (the taps read, FT
    // the tile's lanes) and each tile sums all of its products in registers (the oneDNN way: blocked weights,
    // batch-reduce over taps and channels). One clip on 1 thread, Zen 5: mc3_18's 1x3x3 256-channel convs at 8x14x14
    // 85% -> 93% of the peak, the 512-channel ones at 8x7x7 80% -> 84%, r3d_18's 3x3x3
    // 128-channel convs at 8x28x28 20% faster. The packing is an elementwise op of its own, which
    // vidnet-cpu-hoist-weight-packing moves out of the forward into a call made once per set of
    // weights. Only for F in one part of blocks of two vectors or more (not torchvision
    // r2plus1d_18's 460, nor with AVX2 its 144 and 230); packed reduction-outer convs measured
    // 5-20% slower.
    // Output frames that flat tiles suit (below), if the reduction is not outer.
    const bool flatFrames =
        (regs.count < 32 ? OW > convTileRows(regs) && paddedColumns(OW, convTileRows(regs)).columns != OW
                         : OW < convTileRows(regs) && out[2] > 1) &&
        paddedF % blockLanes == 0 && vidnet::isPositiveZeroFill(op.getOutputs()[0]) && out[2] * OW <= kMaxFlatPositions;
    auto packs = [&](ArrayRef<LaneBlocks> lanes) {
      return lanes.size() == 1 && lanes.front().fTile >= blockLanes && taps * C * paddedF * 4 > kWholeFilterL2Bytes &&
             mostTapsRead(axes, k, s, out) * C * lanes.front().fTile * 4 <=
                 (flatFrames && regs.count < 32 && lanes.front().fTile == blockLanes ? kPackedFlatSliceBytes
                                                                                        : kPackedSliceL2Bytes);
    };
    bool packed = packs(laneBlocks);
    const bool reductionOuter =
        !packed && (sliceBytes > kFilterSliceL2Bytes ||
                    (sliceBytes > kFilterSliceL2Bytes / 2 && clipBlockBytes <= kFilterSliceL2Bytes && cBlock >= 32));
    // Reduction-outer blocks of a few channels each load and store the item's sums: 921 channels
    // (3 x 307, torchvision r2plus1d_18's layer4.0 data gradient) came in blocks of 3, at 10% of
    // the peak. There C is padded with zero channels (on the input and the filter) to a size whose
    // blocks are long; the zero products leave every sum's value as it was.
    if (reductionOuter && cBlock < kMinReductionBlock) {
      C = paddedReduction(C, maxCBlock);
      cTile = largestDivisorUpTo(C, 8);
      cBlock = reductionBlock(C, maxCBlock);
    }
    // Output frames of 7 x 7 (layer4 of every model at 112 x 112 inputs). On AVX2 their rows are too long
    // for a two-vector tile of 16 registers (7 x 16: 14 accumulators and 3 more registers) and
    // too short for two (no divisor from 3 to 6, which the row tiles pad: 7 as 2 x 4 with a zero
    // column): the frame's positions in row-major order, in tiles of up to 6 positions
    // whose rows come in pieces of one output row. 12 FMA chains and 8 loads per 12 FMAs, where
    // frame pairs (2 x 7 x 8 lanes) load a broadcast for every FMA and 2 x 4 padded columns keep 8
    // chains. A hand-written kernel of mc3_18's 1x3x3 512->512 at 8x7x7 on the Zen 2, 2 threads,
    // all taps: frame pairs 149 GFLOP/s, flat 6 x 16 tiles 202, 5 x 16 199, 4 x 16 160; the
    // 256->512 /1x2x2 143 -> 202. With AVX-512's 32 registers a 7-position row is one tile of
    // 7 x 32 (14 accumulators), each filter vector read for 7 products; flat tiles of up to 14
    // positions read it for twice as many. Intel Emerald Rapids, 2 threads, batch 2, the bundles'
    // calls taking turns, layer4's convs and gradients (7 x 7 frames): mc3_18's forward 61 -> 48
    // ms, its step 181 -> 146; torchvision r2plus1d_18's 25 -> 20 and 66 -> 60; r3d_18's (one
    // frame per clip) 10.4 -> 9.5 and 24.6 -> 22.5; the same bits. Only for convs that start from
    // zeros (each tile's sums are written once, never read back).
    const bool flatTiles = flatFrames && !reductionOuter;
    // The padding products are skipped per piece, so a tap's run over a tile may have fewer rows
    // than the tile; one of r rows takes max(r, R - 1) steps of the FMA pipes (AVX2: 5 rows, 10
    // chains, keep both pipes busy at latency 5). Of tiles of R - 1 and R positions the cheaper
    // (the larger on a tie): at 7 x 7 with a 3 x 3 kernel 6 (378 steps, 361 at best) against 5
    // (420: most 5-position tiles lose a row to padding at some tap and wait on the latency).
    // mc3_18's 1x3x3 512->512 in 5-position tiles: 77% of the peak. (On AVX-512 the floor of
    // R - 1 = 13 overstates the 4 rows that its 8 chains need; the tiles measured are its choice.)
    int64_t flatRows = 0;
    if (flatTiles) {
      laneBlocks = {{0, paddedF, blockLanes}};
      fTile = blockLanes;
      const int64_t most = flatTileRows(regs), least = most - 1, positions = out[2] * OW;
      auto steps = [&](int64_t rows) {
        int64_t sum = 0;
        for (int64_t p0 = 0; p0 < positions; p0 += rows)
          for (int64_t kh = 0; kh < k[1]; ++kh)
            for (int64_t kw = 0; kw < k[2]; ++kw) {
              int64_t reading = 0;
              for (int64_t p = p0; p < std::min(positions, p0 + rows); ++p) {
                auto [khFirst, khEnd] = tapsRead(axes, k, s, 1, p / OW);
                auto [kwFirst, kwEnd] = tapsRead(axes, k, s, 2, p % OW);
                reading += khFirst <= kh && kh < khEnd && kwFirst <= kw && kw < kwEnd;
              }
              sum += reading > 0 ? std::max(reading, least) : 0;
            }
        return sum;
      };
      flatRows = steps(least) < steps(most) ? least : most;
    }
    // F in blocks of more vectors where it allows, as oneDNN's kernels pick: each broadcast of the
    // input feeds more FMAs, and the input rows are read once for more lanes.
    // With 16 registers (AVX2), blocks of three vectors where 24 divides F (torchvision
    // r2plus1d_18's 144, 288, 576 and 1152): a 4 x 24 tile loads 3 filter vectors and 4 broadcasts
    // per 12 FMAs where a 6 x 16 one loads 2 and 6, and 4 rows cover 56 and 28 columns whole
    // where 6 leave a 2- or 4-column tail. Zen 2, 2 threads, alternating runs: its 1x3x3 64->144
    // convs at 8x56x56 81-85% -> 89-90% of the peak, the 128->288 ones at 28x28 88% -> 92-93%, the
    // forward 455 -> 440 ms. The 24 lanes are three registers, which vidnet-cpu-vectorize-tiles
    // unrolls. Not where the schedule would change: reduction-outer items keep one tile size for
    // the whole block, and a packed filter's slice must still fit.
    // With 32 (AVX-512), 6 x 64 tiles where 64 divides F (24 FMAs per 4 filter vectors and 6
    // broadcasts, where 8 x 32 ones load 2 and 8 per 16), else 8 x 48 tiles where 48 does (144,
    // 240, 288 and the 45-channel stem), which make one lane part of what were parts of 32 and 16
    // lanes and so may pack the filter; not for output rows of at most a tile's 8 columns (layer4's
    // 7 x 7 frames, also the strided data gradients' phases there), which one 8-row tile covers.
    // Intel Emerald Rapids, 2 threads, the bundles' calls taking turns: r3d_18's 3x3x3 64->64
    // convs at 8x56x56 and their data gradients 4-6% faster, torchvision r2plus1d_18's 1x3x3
    // 64->144 data gradients (convs to 64 channels) 15%, its 1x7x7 stem 7-10%; in two A/B runs the
    // forwards of r3d_18, mc3_18 and r2plus1d_18 1.5-5% faster, their steps 0.5-2.5%.
    const int64_t wideVectors = reductionOuter || flatTiles       ? 0
                                : regs.count < 32                 ? (paddedF % (3 * regs.lanes) == 0 ? 3 : 0)
                                : OW <= convTileRows(regs)        ? 0
                                : paddedF % (4 * regs.lanes) == 0 ? 4
                                : paddedF % (3 * regs.lanes) == 0 ? 3
                                                                  : 0;
    if (wideVectors > 0) {
      SmallVector<LaneBlocks> wide{{0, paddedF, wideVectors * regs.lanes}};
      const bool widePacks = packs(wide);
      if (regs.count < 32 ? widePacks == packed : widePacks || !packed) {
        laneBlocks = wide;
        fTile = laneBlocks.front().fTile;
        packed = widePacks;
      }
    }
    // Rows too long for a two-vector tile of 16 registers but short enough for two of them in
    // one-vector tiles (OW = 7: 7 x 16 would be 14 accumulators and 3 more registers), of a conv
    // whose output frames read the same taps (k_D = 1, no D padding): each tile is the row of two
    // output frames, one vector of lanes: 14 accumulators, a filter vector and a broadcast.
    // Otherwise the row is 2 x 4 padded columns of 8 FMA chains. Zen 2, 2 threads, alternating
    // runs: mc3_18's 1x3x3 512->512 convs at 8x7x7 48-54% -> 63-69% of the peak, the same bits.
    // Not strided along H or W: the input of a pair of frames of mc3_18's 1x3x3 256->512 /1x2x2
    // (2 x 16 x 16 x 256 floats) is more than the L2 holds, each filter block read it again
    // from L3, and the conv went from 54% to 45%.
    const bool framePairs = regs.count < 32 && !reductionOuter && !flatTiles && k[0] == 1 && !axes.padded[0] &&
                            s[1] == 1 && s[2] == 1 && out[1] % 2 == 0 && OW > convTileRows(regs) &&
                            2 * OW + 2 <= regs.count;
    if (framePairs) {
      laneBlocks = {{0, paddedF, regs.lanes}};
      fTile = regs.lanes;
    }
    // Each lane part's output columns: reduction-outer items sum a whole output block in one loop
    // nest over its tiles, so they keep one part.
    SmallVector<SmallVector<ColumnPart>> columnsOf;
    paddedOW = 0;
    for (const LaneBlocks &part : laneBlocks) {
      if (framePairs || flatTiles) {
        columnsOf.push_back({ColumnPart{0, OW, OW}});
        paddedOW = OW;
        continue;
      }
      columnsOf.push_back(reductionOuter ? SmallVector<ColumnPart>{paddedColumns(OW, convTileRows(regs, part.fTile))}
                                         : columnParts(OW, regs, part.fTile, out[2] % 2 == 0));
      paddedOW = std::max(paddedOW, columnsOf.back().back().base + columnsOf.back().back().columns);
    }
    // The conv accumulates onto its init. When that is lower-to-linalg's zeros and each tile is
    // summed in one go, the loop writes an empty tensor instead and each tile starts from zero in
    // registers: reading one zero tensor that CSE shares between convs made bufferization copy it
    // before every conv, serially (6.4 MB for each of r3d_18's layer1 convs). The sums are the
    // same bits. (Reduction-outer blocks still start from the init: zeroing them in the item was
    // unrolled by LLVM into up to 784 stores per conv, +60% code generation time, to save copies
    // of 100-200 KB.)
    Value init = op.getOutputs()[0];
    const bool fromZero = !reductionOuter && vidnet::isPositiveZeroFill(init);
    // BN (eval), ReLU and the residual add that read only this conv's output run on each tile in
    // registers before its store, as oneDNN's post-ops do, instead of a pass over memory after
    // it (the same scalar ops on each element: the same bits). Only where the tiles cover the
    // output exactly, so that the other inputs need no padding; the tiles are then built where
    // that op is, after everything it reads.
    std::optional<vidnet::cpu::ConvEpilogue> epilogue;
    if (fromZero && paddedOW == OW && paddedF == F)
      epilogue = vidnet::cpu::matchConvEpilogue(op->getResult(0));
    if (epilogue)
      b.setInsertionPoint(epilogue->op);
    Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
    Value x = padRight(b, loc, input, std::max<int64_t>(0, (paddedOW - 1) * s[2] + k[2] - in[3]), C - realC, zero);
    Value w = filter;
    if (paddedF != F || C != realC) {
      // The filter is written into the padded one's interior by the elementwise op that makes it
      // (a data gradient's sub-filter) or else by a copy, which vidnet-cpu-parallelize-elementwise
      // spreads over the threads and vidnet-cpu-pad-in-place writes there (only the padding is
      // zeroed): a pad of the argument itself was a serial fill and copy of the whole filter on
      // every call (34 MB per clip for torchvision r2plus1d_18).
      Value source = filter;
      if (!vidnet::cpu::emptyInitOf(filter))
        source = vidnet::Emitter(b, loc).elementwise({filter}, {}, filterType,
                                                     [](OpBuilder &, Location, ValueRange in) { return in[0]; });
      SmallVector<OpFoldResult> low(5, b.getIndexAttr(0)), high(5, b.getIndexAttr(0));
      high[3] = b.getIndexAttr(C - realC);
      high[4] = b.getIndexAttr(paddedF - F);
      w = tensor::PadOp::create(b, loc, RankedTensorType::get({k[0], k[1], k[2], C, paddedF}, f32), source, low, high,
                                zero);
    }
    // Only the taps along D and H that some output reads are packed (r3d_18's layer4 at 8 frames
    // has one output frame, which reads only the middle temporal tap: a third of its filters);
    // the tiles index the packed filter from the first of them.
    int64_t firstD = 0, firstH = 0;
    if (packed) {
      const auto [fromD, endD] = anyTapsRead(axes, k, s, out, 0);
      const auto [fromH, endH] = anyTapsRead(axes, k, s, out, 1);
      firstD = fromD, firstH = fromH;
      const int64_t tapsD = endD - firstD, tapsH = endH - firstH;
      auto packedType = RankedTensorType::get({paddedF / fTile, tapsD, tapsH, k[2], C, fTile}, f32);
      MLIRContext *ctx = b.getContext();
      auto d = [&](unsigned i) { return getAffineDimExpr(i, ctx); };
      // Loops in the filter's order (taps, channels, then the lane blocks): each source row is
      // read whole, its blocks of lanes written to their packed places. In the packed order each
      // item read 128 bytes every 2 KB of the filter (512 lanes), too sparse for the
      // prefetchers: r3d_18's 512 x 512 packs at 27-29 GB/s.
      AffineMap read = AffineMap::get(6, 0, {d(0), d(1), d(2), d(3), d(4) * fTile + d(5)}, ctx);
      AffineMap write = AffineMap::get(6, 0, {d(4), d(0), d(1), d(2), d(3), d(5)}, ctx);
      // A data gradient's sub-filter (taps flipped, C and F swapped) is packed straight from the
      // filter: one transposing pass over it instead of a transposed copy and a copy of that
      // (r3d_18's 512 x 512 filters: 2.2 + 2.5 ms per step on 1 thread). Linalg infers the loop
      // ranges from the results that are a bare dimension, so each such one must fit.
      auto moved = w.getDefiningOp<linalg::GenericOp>();
      AffineMap fused;
      if (moved && vidnet::movesElements(moved) &&
          moved.getMatchingIndexingMap(moved.getDpsInitOperand(0)).isIdentity())
        fused = simplifyAffineMap(
            moved.getMatchingIndexingMap(moved.getDpsInputOperand(0))
                .compose(AffineMap::get(6, 0, {d(1) + firstD, d(2) + firstH, d(3), d(4), d(0) * fTile + d(5)}, ctx)));
      ArrayRef<int64_t> sourceShape =
          moved ? cast<RankedTensorType>(moved.getDpsInputOperand(0)->get().getType()).getShape() : ArrayRef<int64_t>{};
      if (fused && llvm::all_of(llvm::enumerate(fused.getResults()), [&](auto r) {
            auto dim = dyn_cast<AffineDimExpr>(r.value());
            return !dim || sourceShape[r.index()] == packedType.getDimSize(dim.getPosition());
          })) {
        // The fused read walks the packed order (its loop ranges are the packed dimensions').
        read = fused;
        write = b.getMultiDimIdentityMap(6);
        w = moved.getDpsInputOperand(0)->get();
      } else if (tapsD != k[0] || tapsH != k[1]) {
        w = tensor::ExtractSliceOp::create(b, loc, w, getAsIndexOpFoldResult(ctx, {firstD, firstH, 0, 0, 0}),
                                           getAsIndexOpFoldResult(ctx, {tapsD, tapsH, k[2], C, paddedF}),
                                           getAsIndexOpFoldResult(ctx, {1, 1, 1, 1, 1}));
      }
      vidnet::Emitter e(b, loc);
      w = e.generic(packedType, ValueRange{w}, e.empty(packedType), {read, write},
                    SmallVector<utils::IteratorType>(6, utils::IteratorType::parallel),
                    [](OpBuilder &, Location, ValueRange args) { return args[0]; });
      w.getDefiningOp()->setAttr(vidnet::cpu::kWeightPackAttr, b.getUnitAttr());
      // For `vidrun profile`: a row of its own beside its conv (a layer's forward and data
      // gradient packs have the same packed shape, and as elementwise rows they were merged),
      // counting the bytes it moves rather than the whole filter it reads from.
      vidnet::cpu::LoopInfo packInfo = describe(op);
      packInfo.kind = packInfo.kind == "conv data gradient" ? "sub-filter packing" : "filter packing";
      packInfo.flops = 0;
      packInfo.bytes = 2 * packedType.getNumElements() * 4;
      w.getDefiningOp()->setLoc(vidnet::cpu::describeLoop(loc, packInfo));
    }
    if (fromZero) {
      init = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{out[0], out[1], out[2], paddedOW, paddedF}, f32);
    } else if (paddedOW != OW || paddedF != F) {
      SmallVector<OpFoldResult> low(5, b.getIndexAttr(0)), high(5, b.getIndexAttr(0));
      high[3] = b.getIndexAttr(paddedOW - OW);
      high[4] = b.getIndexAttr(paddedF - F);
      init = tensor::PadOp::create(b, loc, RankedTensorType::get({out[0], out[1], out[2], paddedOW, paddedF}, f32),
                                   init, low, high, zero);
    }

    auto index = [&](OpBuilder &nb, int64_t v) -> Value { return arith::ConstantIndexOp::create(nb, loc, v); };
    auto ofr = [](ArrayRef<Value> vs) { return SmallVector<OpFoldResult>(vs.begin(), vs.end()); };
    auto attrs = [&](OpBuilder &nb, ArrayRef<int64_t> vs) { return getAsIndexOpFoldResult(nb.getContext(), vs); };
    auto times = [&](OpBuilder &nb, Value v, int64_t c) -> Value {
      return c == 1 ? v : arith::MulIOp::create(nb, loc, v, index(nb, c)).getResult();
    };
    auto loopOver = [&](OpBuilder &nb, ArrayRef<int64_t> extents, ArrayRef<int64_t> steps, Value carried,
                        vidnet::cpu::LoopBody body) {
      SmallVector<Value> lbs, ubs;
      for (int64_t e : extents) {
        lbs.push_back(index(nb, 0));
        ubs.push_back(index(nb, e));
      }
      return loopNest(nb, loc, lbs, ubs, steps, carried, body);
    };
    auto maxOf = [&](OpBuilder &nb, Value a, Value c) { return arith::MaxSIOp::create(nb, loc, a, c).getResult(); };
    auto minOf = [&](OpBuilder &nb, Value a, Value c) { return arith::MinSIOp::create(nb, loc, a, c).getResult(); };
    // The taps of axis i that read real rows for output o: [max(0, low - o*s), min(K, low + extent - o*s)).
    auto tapsFor = [&](OpBuilder &nb, int i, Value o) -> std::pair<Value, Value> {
      if (!axes.padded[i])
        return {index(nb, 0), index(nb, k[i])};
      Value first = times(nb, o, s[i]);
      Value lo = arith::SubIOp::create(nb, loc, index(nb, axes.low[i]), first);
      Value hi = arith::SubIOp::create(nb, loc, index(nb, axes.low[i] + axes.extent[i]), first);
      return {maxOf(nb, index(nb, 0), lo), minOf(nb, index(nb, k[i]), hi)};
    };
    // The outputs of axis i whose tap t reads a real row:
    // [max(0, ceil((low - t) / s)), min(O, floor((low + extent - 1 - t) / s) + 1)).
    auto outputsFor = [&](OpBuilder &nb, int i, Value t) -> std::pair<Value, Value> {
      if (!axes.padded[i])
        return {index(nb, 0), index(nb, out[i + 1])};
      Value lo = arith::SubIOp::create(nb, loc, index(nb, axes.low[i]), t);
      Value last = arith::SubIOp::create(nb, loc, index(nb, axes.low[i] + axes.extent[i] - 1), t);
      lo = arith::CeilDivSIOp::create(nb, loc, lo, index(nb, s[i]));
      Value hi =
          arith::AddIOp::create(nb, loc, arith::FloorDivSIOp::create(nb, loc, last, index(nb, s[i])), index(nb, 1));
      return {maxOf(nb, index(nb, 0), lo), minOf(nb, index(nb, out[i + 1]), hi)};
    };
    // Along W the zero columns are skipped by row: an edge tile (a column block with a tap that
    // reads W padding; at most two: the first and last, or the last two of a phase with no low
    // padding) computes
    // for each tap only the rows that read a real input column, as oneDNN and OpenVINO do. Its rows
    // come in pieces that each tap reads whole or not at all (7x7 outputs, 3-wide kernel: row 0, rows
    // 1-5, row 6), each a register tile of its own, and its taps in runs that read the same pieces.
    // The products skipped are zero, so the sums are the same bits (as along D and H).
    struct Rows {
      int64_t begin, end;
      int64_t size() const { return std::max<int64_t>(0, end - begin); }
      bool contains(Rows piece) const { return begin <= piece.begin && piece.end <= end; }
    };
    auto rowsRead = [&](const ColumnPart &cols, int64_t block, int64_t kw) -> Rows {
      if (!axes.padded[2])
        return {0, cols.rows};
      const int64_t origin = cols.base + block * cols.rows;
      auto [first, end] =
          vidnet::cpu::outputsReadingInput(origin, origin + cols.rows, kw, s[2], axes.low[2], axes.extent[2]);
      return {first - origin, end - origin};
    };
    // Each column part's edge blocks (by index in the part), where the lane part's tiles skip enough.
    auto edgeBlocksOf = [&](ArrayRef<ColumnPart> columns) {
      SmallVector<SmallVector<int64_t>> edgeBlocksOf(columns.size());
      int64_t skippedRows = 0, allRows = 0;
      bool fewEdges = true;
      for (auto [cols, edgeBlocks] : llvm::zip(columns, edgeBlocksOf)) {
        for (int64_t block = 0; block < cols.blocks(); ++block) {
          int64_t skipped = 0;
          for (int64_t kw = 0; kw < k[2]; ++kw)
            skipped += cols.rows - rowsRead(cols, block, kw).size();
          if (skipped > 0)
            edgeBlocks.push_back(block);
          skippedRows += skipped;
        }
        allRows += cols.columns * k[2];
        fewEdges = fewEdges && edgeBlocks.size() <= 2;
      }
      if (skippedRows < kMinSkippedWShare * allRows || !fewEdges)
        for (SmallVector<int64_t> &edgeBlocks : edgeBlocksOf)
          edgeBlocks.clear();
      return edgeBlocksOf;
    };
    struct EdgeTile {
      SmallVector<Rows> pieces;
      struct Run {
        int64_t kwBegin, kwEnd;
        SmallVector<int64_t> pieces;
      };
      SmallVector<Run> runs;
      // Tap kw reads pieces `read` (by index): the last run when it ends at kw and reads the same.
      static void addTap(SmallVector<Run> &runs, int64_t kw, SmallVector<int64_t> read) {
        if (read.empty())
          return;
        if (!runs.empty() && runs.back().kwEnd == kw && runs.back().pieces == read)
          runs.back().kwEnd = kw + 1;
        else
          runs.push_back({kw, kw + 1, std::move(read)});
      }
    };
    auto edgeTile = [&](const ColumnPart &cols, int64_t block) {
      SmallVector<int64_t> cuts{0, cols.rows};
      for (int64_t kw = 0; kw < k[2]; ++kw)
        if (Rows r = rowsRead(cols, block, kw); r.size() > 0)
          cuts.append({r.begin, r.end});
      llvm::sort(cuts);
      cuts.erase(llvm::unique(cuts), cuts.end());
      EdgeTile tile;
      for (size_t i = 0; i + 1 < cuts.size(); ++i) {
        Rows piece{cuts[i], cuts[i + 1]};
        // Rows no tap reads keep the tile's initial value.
        if (llvm::any_of(llvm::seq<int64_t>(k[2]),
                         [&](int64_t kw) { return rowsRead(cols, block, kw).contains(piece); }))
          tile.pieces.push_back(piece);
      }
      for (int64_t kw = 0; kw < k[2]; ++kw) {
        SmallVector<int64_t> read;
        for (auto [i, piece] : llvm::enumerate(tile.pieces))
          if (rowsRead(cols, block, kw).contains(piece))
            read.push_back(i);
        EdgeTile::addTap(tile.runs, kw, std::move(read));
      }
      return tile;
    };
    // A kernel of one tap along H and W (3x1x1, 1x1x1) reads each input column for one tap of one
    // tile only, so the input arrives from L3 or memory in short runs (a column's channels, for each
    // of the tile's columns and taps): too many streams for the hardware prefetchers to run ahead,
    // and the tiles waited on it. (Wider kernels read most of a tile's input again, from L1, for
    // their next taps and the next tile.) So each step of such a tile's reduction asks for the same
    // channels of the next tile along W (the columns owTile further on, or past the row's end the
    // next row's first, which is the next tile in memory), one prefetch into L1 per column. On the
    // Zen 2, 2 threads: a hand-written 6 x 16 kernel of torchvision r2plus1d_18's 3x1x1 144->64
    // conv at 8x56x56 went from 74% to 85% of the peak. Where the next tile is past the input's end
    // the address is outside the buffer, which a prefetch may name: it never faults and reads
    // nothing. Not for pair tiles: their 14 accumulators leave no register for the addresses
    // (mc3_18's frame pairs 66-71% -> 42-43% of the peak with them).
    const bool prefetchesInput = k[1] == 1 && k[2] == 1 && !framePairs && !flatTiles;
    auto prefetchNextTileInput = [&](OpBuilder &nb, Value inputBuffer, ValueRange at, int64_t columns, int64_t ahead) {
      for (int64_t column = 0; column < columns; ++column) {
        SmallVector<Value> next(at);
        next[3] = arith::AddIOp::create(nb, loc, at[3], index(nb, (column + ahead) * s[2]));
        memref::PrefetchOp::create(nb, loc, inputBuffer, next, /*isWrite=*/false, /*localityHint=*/3,
                                   /*isDataCache=*/true);
      }
    };
    // Reduction-outer with few tiles per item (7x7 outputs): while one block of the reduction
    // (cBlock channels of one tap) runs over the item's tiles, the filter rows of the next block
    // are prefetched into L2. Each block is used by only a few tiles there, so the filter streams
    // from memory, one short row of lanes per F floats (2-4.6 KB apart), and the tiles waited on
    // it: torchvision r2plus1d_18's 1x3x3 512->1152 convs at 7x7 went from 49-52% to 56-60% of
    // the peak (1 thread, Zen 5). The next block is the next cBlock rows of the D x H x W x C filter,
    // crossing into the next tap at the end of C; past the last tap it is the last one again.
    auto prefetchNextBlock = [&](OpBuilder &nb, Value filterBuffer, ValueRange red, Value fb, int64_t lanes) {
      Value tap = affine::AffineLinearizeIndexOp::create(nb, loc, ValueRange{red[0], red[1], red[2]},
                                                         ArrayRef<int64_t>{k[0], k[1], k[2]}, /*disjoint=*/true);
      Value nextC = arith::AddIOp::create(nb, loc, red[3], index(nb, cBlock));
      Value wraps = arith::CmpIOp::create(nb, loc, arith::CmpIPredicate::eq, nextC, index(nb, C));
      Value nextTap =
          arith::AddIOp::create(nb, loc, tap, arith::IndexCastOp::create(nb, loc, nb.getIndexType(), wraps));
      nextTap = minOf(nb, nextTap, index(nb, taps - 1));
      nextC = arith::SelectOp::create(nb, loc, wraps, index(nb, 0), nextC);
      auto at = affine::AffineDelinearizeIndexOp::create(nb, loc, nextTap, ArrayRef<int64_t>{k[0], k[1], k[2]});
      // Not for a tap whose rows no output reads (skipped along D or H, e.g. the outer temporal taps
      // of layer4's one output frame): those prefetches only took bandwidth from the real ones.
      auto [odLo, odHi] = outputsFor(nb, 0, at.getResult(0));
      auto [ohLo, ohHi] = outputsFor(nb, 1, at.getResult(1));
      Value read = arith::AndIOp::create(nb, loc, arith::CmpIOp::create(nb, loc, arith::CmpIPredicate::slt, odLo, odHi),
                                         arith::CmpIOp::create(nb, loc, arith::CmpIPredicate::slt, ohLo, ohHi));
      auto ifRead = scf::IfOp::create(nb, loc, read, /*withElseRegion=*/false);
      OpBuilder tb = ifRead.getThenBodyBuilder();
      scf::buildLoopNest(tb, loc, ValueRange{index(tb, 0)}, ValueRange{index(tb, cBlock)}, ValueRange{index(tb, 1)},
                         [&](OpBuilder &pb, Location pl, ValueRange i) {
                           Value c = arith::AddIOp::create(pb, pl, nextC, i[0]);
                           // 32 lanes are two 64-byte lines.
                           for (int64_t lane = 0; lane < lanes; lane += 16) {
                             Value f = lane == 0 ? fb : arith::AddIOp::create(pb, pl, fb, index(pb, lane)).getResult();
                             memref::PrefetchOp::create(
                                 pb, pl, filterBuffer,
                                 ValueRange{at.getResult(0), at.getResult(1), at.getResult(2), c, f},
                                 pb.getBoolAttr(false), pb.getI32IntegerAttr(2), pb.getBoolAttr(true));
                           }
                         });
    };
    // One forall per column part and lane part.
    // A loop's tiles are one output row of one frame, or (pairAxis 1) the rows of two output
    // frames, or (pairAxis 2) two output rows of one frame, or (flat) runs of a frame's positions.
    struct TileLoop {
      LaneBlocks part;
      ColumnPart cols;
      SmallVector<int64_t> edgeBlocks;
      int pairAxis = 0;
      bool flat = false;
    };
    SmallVector<TileLoop> loops;
    SmallVector<SmallVector<SmallVector<int64_t>>> edgesOf;
    size_t mostColumnParts = 0;
    for (ArrayRef<ColumnPart> columns : columnsOf) {
      edgesOf.push_back(edgeBlocksOf(columns));
      mostColumnParts = std::max(mostColumnParts, columns.size());
    }
    // Column parts outer, lane parts inner.
    for (size_t c = 0; c < mostColumnParts; ++c)
      for (auto [part, columns, edges] : llvm::zip(laneBlocks, columnsOf, edgesOf))
        if (c < columns.size())
          loops.push_back({part, columns[c], edges[c], framePairs ? 1 : 0, flatTiles});
    // A tail part of at most a third of the tile's rows (56 columns as 9 x 6 + 2 with AVX2: 4 FMA
    // chains) takes two output rows per tile (2 x 2 x 16: 8 chains). Rows oh and oh + 1 read the
    // taps along H that either reads: the products with the zero rows of the padded input that
    // one of them would skip are +0 and leave its sums as they were. Zen 2, 2 threads, alternating
    // runs: r3d_18's 3x3x3 64->64 convs at 8x56x56 82-84% -> 88-90% of the peak, the forward
    // 378-380 -> 365-376 ms. Also a tail of half the rows (AVX2's 4 x 24 tiles at 14 columns: 3 x 4
    // + 2, 6 chains), whose pair tile has a full tile's accumulators, and tails that are edge
    // tiles (their pieces summed per row): torchvision r2plus1d_18's 1x3x3 256->576 convs at
    // 2x14x14, 76-80% -> 81-86% of the peak, the same bits.
    for (TileLoop &loop : loops)
      if (!reductionOuter && !framePairs && !flatTiles && loop.cols.base > 0 && loop.cols.blocks() == 1 &&
          out[2] % 2 == 0 && 2 * loop.cols.rows <= convTileRows(regs, loop.part.fTile))
        loop.pairAxis = 2;
    for (const TileLoop &loop : loops) {
      const ColumnPart &cols = loop.cols;
      ArrayRef<int64_t> edgeBlocks = loop.edgeBlocks;
      const LaneBlocks &part = loop.part;
      const int64_t owTile = cols.rows, owBlocks = cols.blocks();
      const int64_t fTile = part.fTile;
      auto rhsType = RankedTensorType::get({cTile, fTile}, f32);

      // accs[i] += the products of rows pieces[i] of the tile at one reduction range [c0, c0 + cCount)
      // of tap (kd, kh, kw), in steps of cTile: the only place a tile's products are summed.
      // A piece's output frame is od + members[i] (pairAxis 1) or its output row oh + members[i]
      // (pairAxis 2, flat tiles): the pieces of pair and flat tiles.
      auto accumulateRows = [&](OpBuilder &nb, ArrayRef<Rows> pieces, ValueRange accs, Value n, Value od, Value oh,
                                Value owb, Value fb, Value kd, Value kh, Value kw, Value c0, int64_t cCount,
                                ArrayRef<int64_t> members = {}) -> SmallVector<Value> {
        Value iw = arith::AddIOp::create(nb, loc, times(nb, owb, s[2]), kw);
        auto shifted = [&](Value o, int axis, int64_t i) -> Value {
          const int64_t by = members.empty() || (loop.flat ? 2 : loop.pairAxis) != axis ? 0 : members[i];
          return by == 0 ? o : arith::AddIOp::create(nb, loc, o, index(nb, by)).getResult();
        };
        SmallVector<Value> pieceColumns, pieceFrames, pieceRows;
        for (auto [i, piece] : llvm::enumerate(pieces)) {
          pieceColumns.push_back(
              piece.begin == 0 ? iw : arith::AddIOp::create(nb, loc, iw, index(nb, piece.begin * s[2])).getResult());
          pieceFrames.push_back(arith::AddIOp::create(nb, loc, times(nb, shifted(od, 1, i), s[0]), kd));
          pieceRows.push_back(arith::AddIOp::create(nb, loc, times(nb, shifted(oh, 2, i), s[1]), kh));
        }
        Value inputBuffer;
        if (prefetchesInput && !loop.pairAxis)
          inputBuffer = vidnet::cpu::readOnlyBuffer(nb, loc, x);
        scf::LoopNest channels = scf::buildLoopNest(
            nb, loc, ValueRange{c0}, ValueRange{arith::AddIOp::create(nb, loc, c0, index(nb, cCount)).getResult()},
            ValueRange{index(nb, cTile)}, accs,
            [&](OpBuilder &ib, Location il, ValueRange c, ValueRange accs) -> scf::ValueVector {
              SmallVector<Value> lhs;
              for (auto [piece, column, id, ih] : llvm::zip(pieces, pieceColumns, pieceFrames, pieceRows)) {
                lhs.push_back(tensor::ExtractSliceOp::create(
                    ib, il, RankedTensorType::get({piece.size(), cTile}, f32), x, ofr({n, id, ih, column, c[0]}),
                    attrs(ib, {1, 1, 1, piece.size(), cTile}), attrs(ib, {1, 1, 1, s[2], 1})));
                if (prefetchesInput && !loop.pairAxis)
                  prefetchNextTileInput(ib, inputBuffer, ValueRange{n, id, ih, column, c[0]}, piece.size(), owTile);
              }
              Value rhs;
              if (packed) {
                Value block = arith::DivUIOp::create(ib, il, fb, index(ib, fTile));
                Value packedD = firstD == 0 ? kd : arith::SubIOp::create(ib, il, kd, index(ib, firstD)).getResult();
                Value packedH = firstH == 0 ? kh : arith::SubIOp::create(ib, il, kh, index(ib, firstH)).getResult();
                rhs = tensor::ExtractSliceOp::create(
                    ib, il, rhsType, w, ofr({block, packedD, packedH, kw, c[0], index(ib, 0)}),
                    attrs(ib, {1, 1, 1, 1, cTile, fTile}), attrs(ib, {1, 1, 1, 1, 1, 1}));
              } else {
                rhs = tensor::ExtractSliceOp::create(ib, il, rhsType, w, ofr({kd, kh, kw, c[0], fb}),
                                                     attrs(ib, {1, 1, 1, cTile, fTile}), attrs(ib, {1, 1, 1, 1, 1}));
              }
              scf::ValueVector sums;
              for (auto [a, acc] : llvm::zip(lhs, accs))
                sums.push_back(
                    linalg::MatmulOp::create(ib, il, TypeRange{acc.getType()}, ValueRange{a, rhs}, ValueRange{acc})
                        .getResult(0));
              return sums;
            });
        return channels.results;
      };
      // Sums in two levels: each row of taps (kw x C products) or reduction block (cBlock channels of
      // one tap) into a tile that starts at zero, then that tile into the output tile. One float32
      // chain over all 27 x C products (oneDNN's direct conv, and ours before) has about
      // sqrt(27 x C / (kw x C + 9)) times its error: measured 2-5x the rms error of two levels
      // against float64 for C = 64..512. One add per accumulator per row costs about 1%.
      auto zeroTile = [&](OpBuilder &nb, int64_t rows) -> Value {
        Value empty = tensor::EmptyOp::create(nb, loc, ArrayRef<int64_t>{rows, fTile}, f32);
        return linalg::FillOp::create(nb, loc, ValueRange{zero}, ValueRange{empty}).getResult(0);
      };
      // In place: the loop that carries acc yields a value that bufferizes into acc's buffer.
      auto addTiles = [&](OpBuilder &nb, Value acc, Value partial) -> Value {
        return linalg::AddOp::create(nb, loc, TypeRange{acc.getType()}, ValueRange{acc, partial}, ValueRange{acc})
            .getResult(0);
      };
      const int64_t fBlocks = part.lanes / fTile;
      // The first lane of f-block `i` of this part.
      auto laneOf = [&](OpBuilder &nb, Value i) -> Value {
        Value lane = times(nb, i, fTile);
        return part.base == 0 ? lane : arith::AddIOp::create(nb, loc, lane, index(nb, part.base)).getResult();
      };

      // Every item of the single scf.forall is independent, in the order the serial nest had, so
      // vidnet-cpu-outline-parallel's contiguous ranges give a thread tiles that share filter
      // blocks and rows. A tile's sums do not depend on which thread computes it: results are
      // bit-identical for any thread count.
      // Reduction-outer items take several clips each, so that a filter block streamed from memory
      // serves all of them (oneDNN's batch-reduce kernels do the same): the largest divisor of the
      // batch whose output block (clips x OD x OH x OW x fTile) stays within half of L2 and that
      // leaves kMinReductionOuterItems items for the threads.
      const int64_t clipsPerItem = largestDivisorUpTo(
          out[0], std::min(kFilterSliceL2Bytes / clipBlockBytes, out[0] * fBlocks / kMinReductionOuterItems));
      const int64_t items = reductionOuter ? out[0] / clipsPerItem * fBlocks
                            : loop.flat    ? out[0] * fBlocks * out[1]
                                           : out[0] * fBlocks * out[1] * out[2] / (loop.pairAxis ? 2 : 1);
      // The part's share of the conv's products (its real lanes), for the profile; its bytes are
      // the same share of the conv's, so that the parts add up to the conv.
      vidnet::cpu::LoopInfo info = describe(op);
      const double convFlops = static_cast<double>(info.flops);
      info.flops = info.flops * (std::min(part.base + part.lanes, F) - part.base) / F;
      // ... and of its real columns: the (column, tap) pairs that read real input (exact: the
      // conv's flops are a multiple of those over all columns).
      auto pairsUpTo = [&](int64_t columns) {
        return vidnet::cpu::realTapPairs(axes.low[2], axes.extent[2], s[2], k[2], std::min(columns, OW));
      };
      if (const int64_t all = pairsUpTo(OW); all > 0)
        info.flops = info.flops / all * (pairsUpTo(cols.base + cols.columns) - pairsUpTo(cols.base));
      if (convFlops > 0)
        info.bytes =
            static_cast<int64_t>(static_cast<double>(info.bytes) * static_cast<double>(info.flops) / convFlops);
      auto forall = scf::ForallOp::create(b, describeLoop(loc, info), ArrayRef<OpFoldResult>{b.getIndexAttr(items)},
                                          ValueRange{init}, std::nullopt);
      {
        OpBuilder ob(forall.getTerminator());
        Value item = forall.getInductionVar(0), shared = forall.getRegionIterArgs()[0];
        SmallVector<OpFoldResult> offsets, sizes;
        Value result;
        // The epilogue on row i (width x lanes) of a block of rows: a pair's two, a flat item's OH.
        auto epilogueOnRow = [&](OpBuilder &nb, Value rows, int64_t i, int64_t width,
                                 ArrayRef<OpFoldResult> rowOffsets) -> Value {
          SmallVector<OpFoldResult> at = attrs(nb, {i, 0, 0}), size = attrs(nb, {1, width, fTile}),
                                    unit = attrs(nb, {1, 1, 1});
          Value row =
              tensor::ExtractSliceOp::create(nb, loc, RankedTensorType::get({width, fTile}, f32), rows, at, size, unit);
          row = vidnet::cpu::applyConvEpilogue(nb, loc, *epilogue, row, rowOffsets);
          return tensor::InsertSliceOp::create(nb, loc, row, rows, at, size, unit).getResult();
        };
        if (loop.flat) {
          // forall (f-block, n, od): the block out[n, od, :, :, f-block] (a frame's OH x OW
          // positions) in tiles of flatRows positions in row-major order, each unrolled with
          // pieces of its own: its runs of positions in one output row, cut where a tap along W
          // starts or stops reading padding. Each tap row (kd, kh) sums the pieces that read real
          // rows over their runs of taps along W and all channels, from zero, and adds them into
          // the block (L1) as vectors: the sums of the row tiles in the same order, so the same
          // bits. Clips and frames inside filter blocks: a block's filter slice (one f-block of all
          // taps and channels, 295 KB for 512 channels packed) serves all of them from L2, where the
          // whole filter (9.4 MB) would stream from memory once per clip in the batched step.
          const int64_t OH = out[2], positions = OH * OW;
          auto split =
              affine::AffineDelinearizeIndexOp::create(ob, loc, item, ArrayRef<int64_t>{fBlocks, out[0], out[1]});
          Value fb = laneOf(ob, split.getResult(0)), n = split.getResult(1), od = split.getResult(2);
          offsets = ofr({n, od, index(ob, 0), index(ob, 0), fb});
          sizes = attrs(ob, {1, 1, OH, OW, fTile});
          Value block = tensor::ExtractSliceOp::create(ob, loc, RankedTensorType::get({OH, OW, fTile}, f32), shared,
                                                       offsets, sizes, attrs(ob, {1, 1, 1, 1, 1}));
          auto rowOffsets = [&](OpBuilder &nb, int64_t oh) {
            SmallVector<OpFoldResult> at(offsets);
            at[2] = nb.getIndexAttr(oh);
            return at;
          };
          if (epilogue)
            for (int64_t oh = 0; oh < OH; ++oh)
              vidnet::cpu::prefetchConvEpilogueInputs(ob, loc, *epilogue, OW, fTile, rowOffsets(ob, oh));
          auto vectorOf = [&](int64_t rows) { return VectorType::get({rows, fTile}, f32); };
          auto at3 = [&](OpBuilder &nb, int64_t row, int64_t column) -> SmallVector<Value> {
            return {index(nb, row), index(nb, column), index(nb, 0)};
          };
          // The output columns whose tap kw reads a real input column (the part is the whole row).
          auto columnsRead = [&](int64_t kw) { return rowsRead(cols, 0, kw); };
          struct Piece {
            int64_t row;
            Rows cols;
          };
          auto [kdLo, kdHi] = tapsFor(ob, 0, od);
          for (int64_t p0 = 0; p0 < positions; p0 += flatRows) {
            const int64_t p1 = std::min(positions, p0 + flatRows);
            // The tile's runs of positions in one output row, cut into pieces that each tap along W
            // reads whole or not at all.
            SmallVector<Piece> pieces;
            for (int64_t oh = p0 / OW; oh * OW < p1; ++oh) {
              const int64_t begin = std::max(p0, oh * OW) - oh * OW, end = std::min(p1, (oh + 1) * OW) - oh * OW;
              SmallVector<int64_t> cuts{begin, end};
              for (int64_t kw = 0; kw < k[2]; ++kw) {
                Rows read = columnsRead(kw);
                cuts.append({std::clamp(read.begin, begin, end), std::clamp(read.end, begin, end)});
              }
              llvm::sort(cuts);
              cuts.erase(llvm::unique(cuts), cuts.end());
              for (size_t i = 0; i + 1 < cuts.size(); ++i)
                pieces.push_back({oh, Rows{cuts[i], cuts[i + 1]}});
            }
            // Taps along H in ranges that the same rows read real input rows for.
            SmallVector<int64_t> khCuts{0, k[1]};
            for (const Piece &piece : pieces) {
              auto [first, end] = tapsRead(axes, k, s, 1, piece.row);
              khCuts.append({std::clamp<int64_t>(first, 0, k[1]), std::clamp<int64_t>(end, 0, k[1])});
            }
            llvm::sort(khCuts);
            khCuts.erase(llvm::unique(khCuts), khCuts.end());
            // The pieces' sums, from +0 (flat tiles are only for convs that start from zeros),
            // each its own small tensor until the tile's end: no read of the block between tap
            // rows.
            SmallVector<Value> accs;
            for (const Piece &piece : pieces)
              accs.push_back(zeroTile(ob, piece.cols.size()));
            accs = loopNestN(ob, loc, {kdLo}, {kdHi}, {1}, accs, [&](OpBuilder &db, ValueRange kd, ValueRange carried) {
              SmallVector<Value> accs(carried);
              for (size_t range = 0; range + 1 < khCuts.size(); ++range) {
                const int64_t khBegin = khCuts[range], khEnd = khCuts[range + 1];
                SmallVector<int64_t> reading; // the pieces whose row reads real rows at these taps
                for (auto [i, piece] : llvm::enumerate(pieces)) {
                  auto [first, end] = tapsRead(axes, k, s, 1, piece.row);
                  if (first <= khBegin && khEnd <= end)
                    reading.push_back(i);
                }
                // Runs of taps along W that read the same pieces.
                SmallVector<EdgeTile::Run> runs;
                for (int64_t kw = 0; kw < k[2]; ++kw) {
                  SmallVector<int64_t> read;
                  for (int64_t i : reading)
                    if (columnsRead(kw).contains(pieces[i].cols))
                      read.push_back(i);
                  EdgeTile::addTap(runs, kw, std::move(read));
                }
                if (runs.empty())
                  continue;
                SmallVector<Value> rangeAccs;
                for (int64_t i : reading)
                  rangeAccs.push_back(accs[i]);
                rangeAccs =
                    loopNestN(db, loc, {index(db, khBegin)}, {index(db, khEnd)}, {1}, rangeAccs,
                              [&](OpBuilder &hb, ValueRange kh, ValueRange carried) {
                                SmallVector<Value> partials(pieces.size());
                                for (int64_t i : reading)
                                  partials[i] = zeroTile(hb, pieces[i].cols.size());
                                for (const EdgeTile::Run &run : runs) {
                                  SmallVector<Rows> runPieces;
                                  SmallVector<Value> runPartials;
                                  SmallVector<int64_t> rows;
                                  for (int64_t i : run.pieces) {
                                    runPieces.push_back(pieces[i].cols);
                                    runPartials.push_back(partials[i]);
                                    rows.push_back(pieces[i].row);
                                  }
                                  SmallVector<Value> summed = loopNestN(
                                      hb, loc, {index(hb, run.kwBegin)}, {index(hb, run.kwEnd)}, {1}, runPartials,
                                      [&](OpBuilder &rb, ValueRange kw, ValueRange sums) {
                                        return accumulateRows(rb, runPieces, sums, n, od, index(rb, 0), index(rb, 0),
                                                              fb, kd[0], kh[0], kw[0], index(rb, 0), C, rows);
                                      });
                                  for (auto [i, sum] : llvm::zip(run.pieces, summed))
                                    partials[i] = sum;
                                }
                                SmallVector<Value> sums;
                                for (auto [i, acc] : llvm::zip(reading, carried))
                                  sums.push_back(addTiles(hb, acc, partials[i]));
                                return sums;
                              });
                for (auto [i, acc] : llvm::zip(reading, rangeAccs))
                  accs[i] = acc;
              }
              return accs;
            });
            for (auto [piece, acc] : llvm::zip(pieces, accs)) {
              Value sum = vector::TransferReadOp::create(ob, loc, vectorOf(piece.cols.size()), acc,
                                                         ValueRange{index(ob, 0), index(ob, 0)}, zero,
                                                         ArrayRef<bool>{true, true});
              block = vector::TransferWriteOp::create(ob, loc, sum, block, at3(ob, piece.row, piece.cols.begin),
                                                      ArrayRef<bool>{true, true})
                          .getResult();
            }
          }
          if (epilogue)
            for (int64_t oh = 0; oh < OH; ++oh)
              block = epilogueOnRow(ob, block, oh, OW, rowOffsets(ob, oh));
          result = block;
        } else if (loop.pairAxis) {
          // forall (n, od, f-block, oh) over frame pairs or row pairs (filter blocks inner when
          // the whole filter stays in L2, as below): the tile is the part's columns of rows
          // (od, oh) and (od + 1, oh), or (od, oh) and (od, oh + 1), each in its edge pieces (or
          // whole), all summed in one pass over the taps and channels.
          const int axis = loop.pairAxis;
          const bool filterInner = taps * C * paddedF * 4 <= kWholeFilterL2Bytes;
          const int64_t frames = axis == 1 ? out[1] / 2 : out[1], rows = axis == 2 ? out[2] / 2 : out[2];
          SmallVector<int64_t> shape = filterInner ? SmallVector<int64_t>{out[0], frames, rows, fBlocks}
                                                   : SmallVector<int64_t>{out[0], frames, fBlocks, rows};
          auto split = affine::AffineDelinearizeIndexOp::create(ob, loc, item, shape);
          Value n = split.getResult(0), od = times(ob, split.getResult(1), axis == 1 ? 2 : 1);
          Value oh = times(ob, split.getResult(filterInner ? 2 : 3), axis == 2 ? 2 : 1);
          Value fb = laneOf(ob, split.getResult(filterInner ? 3 : 2));
          const int64_t width = cols.columns;
          offsets = ofr({n, od, oh, index(ob, cols.base), fb});
          sizes = attrs(ob, {1, axis == 1 ? 2 : 1, axis == 2 ? 2 : 1, width, fTile});
          auto pairType = RankedTensorType::get({2, width, fTile}, f32);
          Value pair =
              tensor::ExtractSliceOp::create(ob, loc, pairType, shared, offsets, sizes, attrs(ob, {1, 1, 1, 1, 1}));
          auto frameOffsets = [&](OpBuilder &nb, int64_t member) {
            SmallVector<OpFoldResult> at(offsets);
            if (member > 0)
              at[axis] = arith::AddIOp::create(nb, loc, axis == 1 ? od : oh, index(nb, member)).getResult();
            return at;
          };
          if (epilogue)
            for (int64_t frame = 0; frame < 2; ++frame)
              vidnet::cpu::prefetchConvEpilogueInputs(ob, loc, *epilogue, width, fTile, frameOffsets(ob, frame));
          auto rowsType = [&](int64_t rows) { return VectorType::get({rows, fTile}, f32); };
          auto readRows = [&](OpBuilder &nb, Value from, ValueRange at, int64_t rows) -> Value {
            return vector::TransferReadOp::create(nb, loc, rowsType(rows), from, at, zero, ArrayRef<bool>{true, true});
          };
          auto writeRows = [&](OpBuilder &nb, Value v, Value into, ValueRange at) -> Value {
            return vector::TransferWriteOp::create(nb, loc, v, into, at, ArrayRef<bool>{true, true}).getResult();
          };
          Value acc0 = pair;
          if (fromZero) {
            Value zeros = arith::ConstantOp::create(ob, loc, DenseElementsAttr::get(rowsType(width), 0.0f));
            for (int64_t frame = 0; frame < 2; ++frame)
              acc0 = writeRows(ob, zeros, acc0, ValueRange{index(ob, frame), index(ob, 0), index(ob, 0)});
          }
          EdgeTile tile;
          if (edgeBlocks.empty()) {
            tile.pieces = {Rows{0, width}};
            tile.runs = {{0, k[2], {0}}};
          } else {
            tile = edgeTile(cols, 0);
          }
          const int64_t pieceCount = tile.pieces.size();
          auto [kdLo, kdHi] = tapsFor(ob, 0, od);
          auto [khLo, khHi] = tapsFor(ob, 1, oh);
          if (axis == 2) // the taps either row reads: from the second's first to the first's end
            khLo = tapsFor(ob, 1, arith::AddIOp::create(ob, loc, oh, index(ob, 1))).first;
          result = loopNest(
              ob, loc, {kdLo, khLo}, {kdHi, khHi}, {1, 1}, acc0, [&](OpBuilder &ib, ValueRange tap, Value acc) {
                // rows[frame * pieceCount + i]: piece i of the frame.
                SmallVector<Value> rows;
                for (int64_t frame = 0; frame < 2; ++frame)
                  for (Rows piece : tile.pieces)
                    rows.push_back(zeroTile(ib, piece.size()));
                for (const EdgeTile::Run &run : tile.runs) {
                  SmallVector<Rows> pieces;
                  SmallVector<Value> partials;
                  SmallVector<int64_t> members, at;
                  for (int64_t member = 0; member < 2; ++member)
                    for (int64_t i : run.pieces) {
                      pieces.push_back(tile.pieces[i]);
                      partials.push_back(rows[member * pieceCount + i]);
                      members.push_back(member);
                      at.push_back(member * pieceCount + i);
                    }
                  SmallVector<Value> summed =
                      loopNestN(ib, loc, {index(ib, run.kwBegin)}, {index(ib, run.kwEnd)}, {1}, partials,
                                [&](OpBuilder &rb, ValueRange kw, ValueRange partials) {
                                  return accumulateRows(rb, pieces, partials, n, od, oh, index(rb, cols.base), fb,
                                                        tap[0], tap[1], kw[0], index(rb, 0), C, members);
                                });
                  for (auto [i, sum] : llvm::zip(at, summed))
                    rows[i] = sum;
                }
                for (int64_t frame = 0; frame < 2; ++frame)
                  for (auto [piece, row] :
                       llvm::zip(tile.pieces, ArrayRef(rows).slice(frame * pieceCount, pieceCount))) {
                    SmallVector<Value> where{index(ib, frame), index(ib, piece.begin), index(ib, 0)};
                    Value sum = arith::AddFOp::create(ib, loc, readRows(ib, acc, where, piece.size()),
                                                      readRows(ib, row, {index(ib, 0), index(ib, 0)}, piece.size()));
                    acc = writeRows(ib, sum, acc, where);
                  }
                return acc;
              });
          if (epilogue)
            for (int64_t frame = 0; frame < 2; ++frame)
              result = epilogueOnRow(ob, result, frame, width, frameOffsets(ob, frame));
        } else if (!reductionOuter) {
          // forall (n, od, f-block, oh): row = out[n, od, oh, part's columns, f-block];
          //   for taps (kd, kh): for ow-block: row tile += its products of the tap row (kw x C).
          // Each filter block's rows are consecutive for one output frame, whose input frames
          // (2.6 MB for r3d_18's layer1) each block reads again from L3. With f-block above od,
          // at batch 2 each thread took one clip and streamed it from memory once per filter
          // block: the stride-2 convs, which read the most input per product, ran at 68-79% of
          // the peak in the train step against 87% for one clip (r3d_18's layer2.0.conv1.0
          // 16.3 -> 13.3 ms, torchvision r2plus1d_18's 1x3x3 64->230 25.3 -> 18.4 ms; Zen 4,
          // 2 threads, alternating runs).
          // Or, when the whole filter stays in L2, forall (n, od, oh, f-block): the rows of one
          // output position are consecutive and read the same input rows from L2 (3x1x1 convs
          // read each input row for one tap only, so with f-block outermost every f-block
          // streamed the whole input again from L3).
          // The tap rows are outside the row's tiles, so that one tap row's filter slice (kw x C
          // x lanes: 18 KB for torchvision r2plus1d_18's 1x3x3 64->144) serves all the row's
          // tiles from L1, where each tile read all its taps' slice (55 KB) from L2 before. The
          // tiles' sums wait in the row (L1) between tap rows and are added in the same order as
          // before: the same bits.
          const bool filterInner = taps * C * paddedF * 4 <= kWholeFilterL2Bytes;
          Value n, fb, od, oh;
          if (filterInner) {
            auto split = affine::AffineDelinearizeIndexOp::create(ob, loc, item,
                                                                  ArrayRef<int64_t>{out[0], out[1], out[2], fBlocks});
            n = split.getResult(0), od = split.getResult(1), oh = split.getResult(2);
            fb = laneOf(ob, split.getResult(3));
          } else {
            auto split = affine::AffineDelinearizeIndexOp::create(ob, loc, item,
                                                                  ArrayRef<int64_t>{out[0], out[1], fBlocks, out[2]});
            n = split.getResult(0), od = split.getResult(1), fb = laneOf(ob, split.getResult(2));
            oh = split.getResult(3);
          }
          offsets = ofr({n, od, oh, index(ob, cols.base), fb});
          sizes = attrs(ob, {1, 1, 1, cols.columns, fTile});
          // The output's own row (not a fresh tensor), so that bufferization writes the sums in
          // place instead of into a malloc'd scratch row per item.
          Value row = tensor::ExtractSliceOp::create(ob, loc, RankedTensorType::get({cols.columns, fTile}, f32), shared,
                                                     offsets, sizes, attrs(ob, {1, 1, 1, 1, 1}));
          // The residual's row is read from memory at the row's end, after all its products:
          // asked for at the start, it is in L2 by then. One clip on 1 thread, Zen 5: mc3_18's
          // convs with a residual add 3-9% faster, its forward 2.4%.
          if (epilogue)
            vidnet::cpu::prefetchConvEpilogueInputs(ob, loc, *epilogue, cols.columns, fTile, offsets);
          auto tileType = [&](int64_t rows) { return VectorType::get({rows, fTile}, f32); };
          auto readTile = [&](OpBuilder &nb, Value from, Value at, int64_t rows) -> Value {
            return vector::TransferReadOp::create(nb, loc, tileType(rows), from, ValueRange{at, index(nb, 0)}, zero,
                                                  ArrayRef<bool>{true, true});
          };
          auto writeTile = [&](OpBuilder &nb, Value v, Value into, Value at) -> Value {
            return vector::TransferWriteOp::create(nb, loc, v, into, ValueRange{at, index(nb, 0)},
                                                   ArrayRef<bool>{true, true})
                .getResult();
          };
          auto atBlock = [&](OpBuilder &nb, Value block) { return times(nb, block, owTile); };
          // Where every output row reads one tap row (1x1x1 kernels, no D or H padding) through
          // whole tiles, each tile's sum is the row's: written as it is (+0 + s is s, bit for bit),
          // not added onto zeros written first. The zero stores had to own each of the row's
          // lines before any product (an RFO from memory per line, the store queue full) and
          // were a quarter of the 1x1x1 /1x2x2 64->128 shortcut's samples (perf, mc3_18, Zen 3).
          const bool writesSums =
              fromZero && k[0] == 1 && k[1] == 1 && !axes.padded[0] && !axes.padded[1] && edgeBlocks.empty();
          // Each tile starts from +0 (as the sums of the whole-tile loops did).
          if (fromZero && !writesSums) {
            Value zeros = arith::ConstantOp::create(ob, loc, DenseElementsAttr::get(tileType(owTile), 0.0f));
            row = loopOver(ob, {owBlocks}, {1}, row, [&](OpBuilder &nb, ValueRange block, Value acc) {
              return writeTile(nb, zeros, acc, atBlock(nb, block[0]));
            });
          }
          // Row tile `block` += its products of tap row (kd, kh): each piece of its rows (the whole
          // tile, or an edge tile's pieces) summed over its runs of taps along W and all channels,
          // then added into the row as vectors.
          auto addTapRow = [&](OpBuilder &nb, Value acc, Value block, ValueRange tap, const EdgeTile &tile) {
            Value at = atBlock(nb, block);
            Value owb = cols.base == 0 ? at : arith::AddIOp::create(nb, loc, at, index(nb, cols.base)).getResult();
            SmallVector<Value> rows;
            for (Rows piece : tile.pieces)
              rows.push_back(zeroTile(nb, piece.size()));
            for (const EdgeTile::Run &run : tile.runs) {
              SmallVector<Rows> pieces;
              SmallVector<Value> partials;
              for (int64_t i : run.pieces)
                pieces.push_back(tile.pieces[i]), partials.push_back(rows[i]);
              SmallVector<Value> summed = loopNestN(nb, loc, {index(nb, run.kwBegin)}, {index(nb, run.kwEnd)}, {1},
                                                    partials, [&](OpBuilder &rb, ValueRange kw, ValueRange partials) {
                                                      return accumulateRows(rb, pieces, partials, n, od, oh, owb, fb,
                                                                            tap[0], tap[1], kw[0], index(rb, 0), C);
                                                    });
              for (auto [i, sum] : llvm::zip(run.pieces, summed))
                rows[i] = sum;
            }
            for (auto [piece, sum] : llvm::zip(tile.pieces, rows)) {
              Value where =
                  piece.begin == 0 ? at : arith::AddIOp::create(nb, loc, at, index(nb, piece.begin)).getResult();
              Value tileSum = readTile(nb, sum, index(nb, 0), piece.size());
              if (!writesSums)
                tileSum = arith::AddFOp::create(nb, loc, readTile(nb, acc, where, piece.size()), tileSum);
              acc = writeTile(nb, tileSum, acc, where);
            }
            return acc;
          };
          EdgeTile whole;
          whole.pieces = {Rows{0, owTile}};
          whole.runs = {{0, k[2], {0}}};
          auto [kdLo, kdHi] = tapsFor(ob, 0, od);
          auto [khLo, khHi] = tapsFor(ob, 1, oh);
          result =
              loopNest(ob, loc, {kdLo, khLo}, {kdHi, khHi}, {1, 1}, row, [&](OpBuilder &ib, ValueRange tap, Value acc) {
                return loopOver(ib, {owBlocks}, {1}, acc, [&](OpBuilder &tb, ValueRange block, Value acc) -> Value {
                  if (edgeBlocks.empty())
                    return addTapRow(tb, acc, block[0], tap, whole);
                  if (owBlocks == 1)
                    return addTapRow(tb, acc, block[0], tap, edgeTile(cols, edgeBlocks.front()));
                  // One case per edge block; the others (or the last edge block, when every block is
                  // one) are the default.
                  const bool allEdges = edgeBlocks.size() == static_cast<size_t>(owBlocks);
                  ArrayRef<int64_t> cases = allEdges ? ArrayRef(edgeBlocks).drop_back() : ArrayRef(edgeBlocks);
                  auto edges =
                      scf::IndexSwitchOp::create(tb, loc, TypeRange{acc.getType()}, block[0], cases, cases.size());
                  auto build = [&](Region &region, const EdgeTile &tile) {
                    OpBuilder rb = OpBuilder::atBlockBegin(&region.emplaceBlock());
                    scf::YieldOp::create(rb, loc, addTapRow(rb, acc, block[0], tap, tile));
                  };
                  for (auto [edgeBlock, region] : llvm::zip(cases, edges.getCaseRegions()))
                    build(region, edgeTile(cols, edgeBlock));
                  build(edges.getDefaultRegion(), allEdges ? edgeTile(cols, edgeBlocks.back()) : whole);
                  return edges.getResult(0);
                });
              });
          if (epilogue)
            result = loopOver(ob, {owBlocks}, {1}, result, [&](OpBuilder &nb, ValueRange block, Value acc) -> Value {
              Value at = atBlock(nb, block[0]);
              auto tileTensor = RankedTensorType::get({owTile, fTile}, f32);
              SmallVector<OpFoldResult> where = ofr({at, index(nb, 0)}), size = attrs(nb, {owTile, fTile}),
                                        unit = attrs(nb, {1, 1});
              Value tile = tensor::ExtractSliceOp::create(nb, loc, tileTensor, acc, where, size, unit);
              SmallVector<OpFoldResult> tileOffsets(offsets);
              tileOffsets[3] =
                  cols.base == 0 ? at : arith::AddIOp::create(nb, loc, at, index(nb, cols.base)).getResult();
              tile = vidnet::cpu::applyConvEpilogue(nb, loc, *epilogue, tile, tileOffsets);
              return tensor::InsertSliceOp::create(nb, loc, tile, acc, where, size, unit).getResult();
            });
        } else {
          // forall (clip group, f-block): block = out[clips, :, :, :, f-block]
          //   for taps, c-blocks: for clip, od, oh, ow-block: block tile += ... (cBlock channels)
          auto split = affine::AffineDelinearizeIndexOp::create(ob, loc, item,
                                                                ArrayRef<int64_t>{out[0] / clipsPerItem, fBlocks});
          Value n0 = times(ob, split.getResult(0), clipsPerItem), fb = laneOf(ob, split.getResult(1));
          offsets = ofr({n0, index(ob, 0), index(ob, 0), index(ob, 0), fb});
          sizes = attrs(ob, {clipsPerItem, out[1], out[2], paddedOW, fTile});
          auto blockType = RankedTensorType::get({clipsPerItem, out[1], out[2], paddedOW, fTile}, f32);
          Value block0 =
              tensor::ExtractSliceOp::create(ob, loc, blockType, shared, offsets, sizes, attrs(ob, {1, 1, 1, 1, 1}));
          // Only where each block serves a few tiles: there a block is read from memory about as
          // fast as it is used. With more tiles, the next block's lines in L2 only crowded the
          // caches (torchvision r2plus1d_18's 3x1x1 convs at 14x14: 10-20% slower).
          const int64_t tilesPerBlock = clipsPerItem * out[1] * out[2] * owBlocks;
          Value filterBuffer;
          if (tilesPerBlock <= kMaxTilesPrefetched)
            filterBuffer = vidnet::cpu::readOnlyBuffer(ob, loc, w);
          result = loopOver(
              ob, {k[0], k[1], k[2], C}, {1, 1, 1, cBlock}, block0, [&](OpBuilder &rb, ValueRange red, Value block) {
                if (filterBuffer)
                  prefetchNextBlock(rb, filterBuffer, red, fb, fTile);
                auto [odLo, odHi] = outputsFor(rb, 0, red[0]);
                auto [ohLo, ohHi] = outputsFor(rb, 1, red[1]);
                return loopNest(
                    rb, loc, {index(rb, 0), odLo, ohLo, index(rb, 0)},
                    {index(rb, clipsPerItem), odHi, ohHi, index(rb, paddedOW)}, {1, 1, 1, owTile}, block,
                    [&](OpBuilder &tb, ValueRange pos, Value current) {
                      Value n = arith::AddIOp::create(tb, loc, n0, pos[0]);
                      // The tile's rows that read real columns += their products in
                      // this reduction block.
                      auto addRows = [&](OpBuilder &cb, Rows rows) -> Value {
                        if (rows.size() == 0)
                          return current;
                        Value column = pos[3];
                        if (rows.begin != 0)
                          column = arith::AddIOp::create(cb, loc, column, index(cb, rows.begin));
                        SmallVector<OpFoldResult> at = ofr({pos[0], pos[1], pos[2], column, index(cb, 0)});
                        SmallVector<OpFoldResult> tile = attrs(cb, {1, 1, 1, rows.size(), fTile});
                        SmallVector<OpFoldResult> unit = attrs(cb, {1, 1, 1, 1, 1});
                        Value acc = tensor::ExtractSliceOp::create(
                            cb, loc, RankedTensorType::get({rows.size(), fTile}, f32), current, at, tile, unit);
                        Value partial = accumulateRows(cb, {rows}, ValueRange{zeroTile(cb, rows.size())}, n, pos[1],
                                                       pos[2], pos[3], fb, red[0], red[1], red[2], red[3], cBlock)[0];
                        return tensor::InsertSliceOp::create(cb, loc, addTiles(cb, acc, partial), current, at, tile,
                                                             unit)
                            .getResult();
                      };
                      if (edgeBlocks.empty())
                        return addRows(tb, Rows{0, owTile});
                      // One case per edge block and tap that reads fewer rows:
                      // edge * k[2] + kw, where edge is the block's index in
                      // edgeBlocks, and edgeBlocks.size() for the other blocks.
                      Value edge = index(tb, edgeBlocks.size());
                      for (int64_t i = edgeBlocks.size() - 1; i >= 0; --i) {
                        Value at = arith::CmpIOp::create(tb, loc, arith::CmpIPredicate::eq, pos[3],
                                                         index(tb, edgeBlocks[i] * owTile));
                        edge = arith::SelectOp::create(tb, loc, at, index(tb, i), edge);
                      }
                      Value which = arith::AddIOp::create(tb, loc, times(tb, edge, k[2]), red[2]);
                      SmallVector<int64_t> cases;
                      SmallVector<Rows> caseRows;
                      for (auto [i, block] : llvm::enumerate(edgeBlocks))
                        for (int64_t kw = 0; kw < k[2]; ++kw)
                          if (Rows rows = rowsRead(cols, block, kw); rows.size() < owTile) {
                            cases.push_back(static_cast<int64_t>(i) * k[2] + kw);
                            caseRows.push_back(rows);
                          }
                      auto edges =
                          scf::IndexSwitchOp::create(tb, loc, TypeRange{current.getType()}, which, cases, cases.size());
                      for (auto [rows, region] : llvm::zip(caseRows, edges.getCaseRegions())) {
                        OpBuilder cb = OpBuilder::atBlockBegin(&region.emplaceBlock());
                        scf::YieldOp::create(cb, loc, addRows(cb, rows));
                      }
                      OpBuilder cb = OpBuilder::atBlockBegin(&edges.getDefaultRegion().emplaceBlock());
                      scf::YieldOp::create(cb, loc, addRows(cb, Rows{0, owTile}));
                      return edges.getResult(0);
                    });
              });
        }
        ob.setInsertionPointToStart(forall.getTerminator().getBody());
        tensor::ParallelInsertSliceOp::create(ob, loc, result, shared, offsets, sizes, attrs(ob, {1, 1, 1, 1, 1}));
      }
      init = forall.getResult(0);
    }
    Value result = init;
    if (paddedOW != OW || paddedF != F)
      result = tensor::ExtractSliceOp::create(b, loc, outType, result, attrs(b, {0, 0, 0, 0, 0}), attrs(b, out),
                                              attrs(b, {1, 1, 1, 1, 1}));
    if (epilogue) {
      epilogue->op->getResult(0).replaceAllUsesWith(result);
      epilogue->op.erase();
    } else {
      op->getResult(0).replaceAllUsesWith(result);
    }
    op.erase();
  }
};

} // namespace
