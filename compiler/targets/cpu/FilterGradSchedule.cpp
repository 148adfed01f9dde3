// The filter-gradient schedule: tiles, operand copies, chunks and parts of the reduction. The
// measurements beside the constants are per filter gradient, at batch 2 on 2 threads unless said.
#include "compiler/targets/cpu/FilterGradSchedule.h"

#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <sstream>
#include <utility>

namespace vidnet::cpu {
namespace {

// Output positions per chunk: a chunk's rows of dy and x stay in L2 while every tile of the
// filter gradient reads them.
constexpr int64_t kChunkPositions = 256;
// Unless dy at every output position fits in L2 (1 MB on AMD Zen 4 and 5): then the reduction
// is one chunk. The tiles of one filter-block of dW read dy's lanes of that block, and the
// tiles take turns over the blocks, so dy is what must stay; each chunk more is another pass
// that reads and writes all of dW. r3d_18's 3x3x3 256->256 filter gradients at batch 2 (784
// positions, dy 800 KB, dW 7 MB) took 9.3-9.5 ms in one chunk against 11.4-11.8 in 4 (Zen 4, 2
// threads, alternating runs).
constexpr int64_t kWholeReductionDyBytes = 1024 * 1024;
// Input channels of a tile (its rows) at most, each row two vectors of lanes: 8 x 2 of the 32
// AVX-512 registers accumulate, 6 x 2 of AVX2's 16 (with the two vectors of dy and one
// broadcast, 15 live). And the rows (input channels x taps along W) of a tile whose C tile is
// only a few channels: 12 x 2 and 6 x 2 accumulators. On a Zen 4 running AVX2 code, r3d_18's
// filter gradients at batch 2 took 367-386 ms as 6 x 16 tiles against 429-437 as 4 x 16 ones
// (2 threads; 4 x 16 is 8 chains of dependent FMAs, just the FMA pipes' latency x width, so
// any late load stalls them). On a Zen 3, 6 x 16 tiles of 2 channels x 3 taps were slower
// than 4 x 16 (150 ms against 100 for layer1).
int64_t filterTileChannels(const VectorRegisters &regs) { return regs.count >= 32 ? 8 : 6; }
int64_t groupedTileRows(const VectorRegisters &regs) { return regs.count >= 32 ? 12 : 6; }

// Filter gradients with many chunks per element of dW (the first stages' and the stems') sum
// their chunks in kParts parts at once, each part one item of the parallel loop with its own
// copy of dW, added in order at the end: one loop instead of one per chunk, whose every call
// makes both threads wait for the slower one (r3d_18's layer1 at 81% of the peak on 2 threads,
// 91% on one), and each thread reads only its own positions. The parts are fixed by the shape,
// so the bits do not change with the thread count. 8 parts balanced worse (r3d_18's layer1 on
// 2 threads: 83-92% of the peak against 91-95%).
constexpr int64_t kParts = 16;
// A filter gradient summed in one chunk writes each tile of dW once, and only the optimizer's
// update reads it, after every tile is written. Where dW is at least this size (more than a core's
// share of L3 keeps until then), each plain store first reads its line from memory to own it: its
// tiles are streamed (non-temporal) stores instead, half the traffic. A tile's rows start at
// multiples of its lanes in rows of a multiple of them, in an allocation aligned to 64 bytes
// (one-shot-bufferize's), so each row is aligned to its size, as non-temporal vector stores need.
// r3d_18 (Zen 3, 5 alternating step profiles, min-max, plain against streamed stores): its three
// 3x3x3 512->512 filter gradients at 1x7x7 (28 MB each) 12.9-15.7 against 9.4-12.2 ms, its
// 256->512 /2x2x2 3.3-4.3 against 3.0-4.2, its 256->256 at 2x14x14 (7 MB) 37-48 against 34-50; the
// update reading dW did not slow for it (its 512 x 512 loop 23.9 against 18.4 ms at best).
constexpr int64_t kMinStreamedDwBytes = 4 * 1024 * 1024;

// The parts' copies are written and read once more: only where the products are at least this
// many times their bytes (r3d_18's layer1, 64 -> 64: 780; layer2, 128 -> 128: 97).
constexpr int64_t kMinFlopsPerPartialByte = 320;

// 1x1x1 filter gradients (the downsampling shortcuts) have 2 products per x and dy element
// pair, so their tiles wait on L2 when each of a chunk's tiles (one 6 x 16 block of dW, on AVX2)
// reads its channels of every position of a 256 x (C + F) float chunk from there. Where dW is at
// most this size they sum in kParts parts (whose copies of dW then stay in cache), over chunks of
// x and dy rows of at most kPointwiseChunkBytes, which every tile reads from L1. On the Zen 2
// (chunks of 12, 24 and 48 KB tried; 24 best), against 256-position chunks: mc3_18's 1x1x1
// 64->128 /1x2x2 1.9 ms against 2.8 and 128->256 1.8 against 2.7, r3d_18's /2x2x2 ones 1.1
// against 1.5 and 0.4 against 0.7. The 256->512 ones (512 KB of dW per part) gain nothing.
constexpr int64_t kMaxPointwisePartBytes = 128 * 1024;
constexpr int64_t kPointwiseChunkBytes = 24 * 1024;

// The products that read W padding (x's zero columns) are skipped per column block where they
// are at least kMinSkippedWShare of a filter gradient's (9.5% at 7x7 outputs with 3 taps along W,
// 4.8% at 14x14; not 28x28's 2.4%), for rows of at most kMaxSkippingBlocks blocks, each of which
// is then built on its own. Zen 2, alternating step profiles, skipping against not: mc3_18's
// 1x3x3 512->512 at 8x7x7 18.0-18.9 ms against 19.2-19.5, its 256->256 at 8x14x14 18.4-18.7
// against 18.8-19.5, torchvision r2plus1d_18's layer4 1x3x3 ones 79-82% of the peak against 73-76%.
constexpr int64_t kMaxSkippingBlocks = 4;

// x and dy in channel blocks of one tile each, [C / cT][N][D][H][W][cT] and [F / FT][...][FT],
// so that a tile reads its positions' channels from consecutive bytes, not a few of them every
// row of channels (2 KB apart at 512 channels: every other position a new page, and only 24 of
// each 64-byte line of x used by 6-channel tiles). A hand-written kernel of mc3_18's 1x3x3
// 512->512 filter gradient at 2x8x7x7 (Zen 2): 20.8 ms blocked (the copies 0.3 ms) against 26.4
// in place, 25.2 with dy's rows padded to 528 lanes instead. The copies are passes over memory,
// worth it where the products are at least this many per byte copied. Zen 2, blocked against in
// place: mc3_18's 3x3x3 64->64 at 8x56x56 (373 flops per byte) 54 ms against 60 for 2.5 ms of
// copies, its 1x3x3 128->256 /1x2x2 at 8x14x14 (171) 10.9 against 15.3 for 0.6; torchvision
// r2plus1d_18's 1x3x3 64->144 at 8x56x56 (190) 43.5 against 48 for 2.2-2.9, its 3x1x1 460->256
// at 2x14x14 (164) 2.0 against 3.2 for 0.15; its 3x1x1 288->128 at 4x28x28 (110) 6.9 against
// 7.4 for 1.2, and its 3x1x1 144->64 at 8x56x56 (60) lost more than they gained. Where x is one
// block of channels (a stem's 3 colours) its rows are consecutive already: r3d_18's stem (163)
// 14.6 against 14.8 ms for 0.75. Those between this bound and 150 gain too (Zen 2, two
// alternating profiles each, ms of filter gradient saved net of the copies): r3d_18's 3x3x3
// 64->128 /2x2x2 (65% of the peak unblocked) 1.7 and 1.4, mc3_18's 1x3x3 64->128 /1x2x2 (90) 2.0
// and 0.3, torchvision r2plus1d_18's 1x3x3 64->230 /1x2x2 2.7 and 2.0, its 3x1x1 230->128 and
// 288->128 at 4x28x28 0.3-1.6 each, its 3x1x1 460->256 /2x1x1 (57% unblocked) 0.9 and 0.9; its
// 3x1x1 230->128 /2x1x1 (68) 2.0 and 0.7, but the 144->64 ones (61) lost 2.3-4.0 each.
constexpr int64_t kMinFlopsPerBlockedByte = 80;
// A strided conv's tiles read x in place with gaps (every other column, row or frame), and its
// copies pay for themselves sooner: r2plus1d_18's 3x1x1 230->128 /2x1x1 at 4x28x28 (68 products
// per byte) 5.6-6.0 ms blocked against 7.5-9.0 in place, for 1.1-1.2 ms of copies (the only conv
// of the three models that this bound blocks and the other does not).
// A strided 1x1x1 conv's blocked x is only its positions at the stride, compact (a quarter or an
// eighth of x), summed as a stride-1 conv's: mc3_18's 1x1x1 256->512 /1x2x2 (85 products per
// byte) 1.2 ms against 2.0 for 0.23 of copies (78-83% of the peak against 47%), r3d_18's /2x2x2
// one 0.13-0.17 against 0.19 for 0.03. Its 128->256 (43) and 64->128 (21) ones lose: 1.33 against
// 1.64 for 0.45, 1.8 against 2.05 for 0.7-0.8 (Zen 2, alternating step profiles).
constexpr int64_t kMinStridedFlopsPerBlockedByte = 60;
// With several chunks the items are then the channel blocks of dW, each summing every tap over
// each chunk in turn: the chunk's x and dy rows of its blocks stay in L1 across the taps, and
// its tiles of dW across the chunks (mc3_18's 1x3x3 512->512 filter gradients at 8x7x7, 4
// chunks: 19 ms against 24 in tap order, its layer2 and layer3 ones 8-12% faster). Where there
// are this many blocks. With one chunk too, unless dW is streamed: an item's x and dy blocks then
// stay in L2 across its taps, where items in tap order read all of dy again for every (tap,
// c-block) (800 KB for r3d_18's 3x3x3 128->256 /2x2x2 at 2x2x14x14, more than a Zen 3's 512 KB
// L2). That filter gradient, in a model of r3d_18's layer3.0 alone (Zen 3, 20 calls in turns
// with a copy in tap order): median 9.81 ms against 11.35 (the copy 11.99), least 8.45 against
// 10.02 (9.87); torchvision r2plus1d_18's layer3 3x1x1 ones (one chunk, 1.4-1.8 MB of dW) do not
// change. Streamed, an item's taps write to as many places of dW, which streams worse than one
// tap's tiles in a row (torchvision r2plus1d_18's 1x3x3 512->1152 at 1x7x7: 6.5 ms against 5.2).
constexpr int64_t kMinBlockItems = 64;

// Parts of a reduction of `chunks` chunks into dW of `paddedDwElements` floats (1: no parts).
int64_t partsFor(int64_t flops, int64_t paddedDwElements, int64_t chunks) {
  const int64_t parts = largestDivisorUpTo(chunks, kParts);
  const int64_t bytes = 2 * parts * paddedDwElements * 4;
  return parts >= kParts / 2 && flops >= kMinFlopsPerPartialByte * bytes ? parts : 1;
}

// The elements of `x` [N, D, H, W, C] in `blocks` blocks of `lanes` channels with padW zero
// columns on either side (the pass's blockedShape).
int64_t blockedElements(const std::array<int64_t, 5> &x, int64_t lanes, int64_t blocks, int64_t padW) {
  return blocks * x[0] * x[1] * x[2] * (x[3] + 2 * padW) * lanes;
}

// The register tile: channels, lanes and taps along W.
void chooseTile(const FilterGradProblem &p, const VectorRegisters &regs, FilterGradSchedule &s) {
  const int64_t C = p.filter[3], F = p.filter[4];
  // A tile is cT input channels x fT output channels of one tap, summed over OWT positions per
  // vector.contract (A: OWT x cT of x, read transposed and broadcast; B: OWT x fT of dy).
  // C not a multiple of the tile's channels (torchvision r2plus1d_18's 83, 230, 460 and 921;
  // on AVX2 every C but the stem's) takes full tiles and one tail tile of the last C % cT
  // channels, into dW's rows padded to a whole tile (zero, sliced away), where that pads at
  // most an eighth: a 1 x 32 tile (83 channels) is two accumulators, each a chain of
  // dependent FMAs (18% of the peak), and a 5 x 32 tile (230) ten. The tail reads x's real
  // channels only, so x is not copied with zero channels: with that copy, r3d_18's AVX2 step
  // spent 41 ms in serial code instead of 16, half of what its 6-channel tiles saved.
  const int64_t maxChannels = filterTileChannels(regs);
  s.cTile = largestDivisorUpTo(C, maxChannels);
  s.paddedC = C;
  if (s.cTile < maxChannels && roundUp(C, maxChannels) - C <= C / 8) {
    s.paddedC = roundUp(C, maxChannels);
    s.cTile = maxChannels;
  }
  s.tailChannels = C % s.cTile;
  // F in 32-lane tiles (a 16-lane tile loads one vector of dy and broadcasts cT inputs for only
  // cT FMAs). dy's lanes are padded to a multiple of 16; where that leaves half a block (144 =
  // 4 x 32 + 16, 230 -> 240, 460 -> 464, 45 -> 48) the last tile sums 16 lanes and is stored
  // as a 32-lane one whose upper half is zero, into dW's lanes padded to a multiple of 32 (dy
  // padded to 32 too would make a ninth of torchvision r2plus1d_18's products at 144 lanes zero).
  // (In vectors: blocks of two, dy padded to one, 16 lanes on AVX-512 and 8 on AVX2.)
  s.dyLanes = roundUp(F, regs.lanes);
  const int64_t blockLanes = 2 * regs.lanes;
  s.halfBlock = s.dyLanes % blockLanes != 0 && s.dyLanes > regs.lanes;
  s.paddedF = s.halfBlock ? s.dyLanes + regs.lanes : s.dyLanes;
  s.fTile = s.paddedF % blockLanes == 0 ? blockLanes : regs.lanes;
  s.owTile = largestDivisorUpTo(p.output[3], 8);
  s.cBlocks = s.paddedC / s.cTile;
  s.fBlocks = s.paddedF / s.fTile;
  // Where C's tile is only a few channels (a stem's 3 colours), a cT x 32 tile is 2 x cT
  // accumulators, each a chain of dependent FMAs over the positions: r3d_18's 3x7x7 stem ran
  // at 58% of the peak, torchvision r2plus1d_18's 1x7x7 (3 -> 45, a 16-lane half block: 3
  // accumulators) at 43-46%. There a tile takes several taps along W, (taps x cT) x FT, up to
  // groupedTileRows rows: the same dy vectors serve every tap. 7 taps come in groups of 4 and
  // 3; dW's taps along W are padded to a whole number of groups (the last group's padding tap
  // stays zero and is sliced away).
  const int64_t KW = p.filter[2];
  s.kwGroups = llvm::divideCeil(KW, std::max<int64_t>(1, groupedTileRows(regs) / s.cTile));
  s.kwTaps = llvm::divideCeil(KW, s.kwGroups);
  s.lastKwTaps = KW - (s.kwGroups - 1) * s.kwTaps;
  s.paddedKW = s.kwGroups * s.kwTaps;
  s.items = p.filter[0] * p.filter[1] * s.kwGroups * s.cBlocks * s.fBlocks;
}

// Whether x and dy are copied into channel blocks, and the x the tiles read.
void chooseOperands(const FilterGradProblem &p, FilterGradSchedule &s) {
  const auto &k = p.filter, &out = p.output;
  const bool strided = p.strides[0] * p.strides[1] * p.strides[2] > 1;
  // A strided 1x1x1 conv reads only every s-th position of x: copied in channel blocks, that
  // is x's positions at the stride, compact (see kMinStridedFlopsPerBlockedByte).
  s.pointwiseStrided = strided && k[0] * k[1] * k[2] == 1 &&
                       std::all_of(p.padding.begin(), p.padding.end(), [](int64_t pad) { return pad == 0; });
  const std::array<int64_t, 5> compactX = {out[0], out[1], out[2], out[3], k[3]};
  const std::array<int64_t, 5> &copiedX = s.pointwiseStrided ? compactX : p.input;
  const int64_t blockedBytes = 4 * (blockedElements(copiedX, s.cTile, s.cBlocks, p.padding[2]) +
                                    blockedElements(out, s.fTile, s.fBlocks, 0));
  s.blocked = s.cBlocks > 1 &&
              p.flops >= (strided ? kMinStridedFlopsPerBlockedByte : kMinFlopsPerBlockedByte) * blockedBytes;
  // A blocked compact x is summed as a stride-1 conv's.
  s.subsampled = s.pointwiseStrided && s.blocked;
  s.xStrides = s.subsampled ? std::array<int64_t, 3>{1, 1, 1} : p.strides;
  s.xShape = s.subsampled ? compactX : p.input;
}

// The chunks of the reduction over the output rows, their parts and the loops' order.
void chooseReduction(const FilterGradProblem &p, FilterGradSchedule &s) {
  const auto &k = p.filter, &out = p.output;
  const int64_t C = k[3], F = k[4], OW = out[3];
  s.rows = out[0] * out[1] * out[2]; // (n, od, oh): each row is OW positions
  s.pointwise = k[0] * k[1] * k[2] == 1 && C * F * 4 <= kMaxPointwisePartBytes;
  // No zero fill: the first chunk's sums are written, the later ones added (0 + s is s, bit for
  // bit: a sum from +0 is never -0). r3d_18's 28 MB 512 x 512 gradients at 8 frames are one
  // chunk, where a fill and its read would be most of their time (2.7 ms each without, 4.4
  // with, on 1 thread).
  const int64_t paddedDwElements = k[0] * k[1] * s.paddedKW * s.paddedC * s.paddedF;
  // A kernel of one tap along H and W (3x1x1, 1x1x1) summed from x and dy in place, in parts:
  // chunks of one row (a few for 1x1x1), each item prefetching its share of the next one's rows
  // (the pass's prefetchNextChunk). Its tiles read each input column for one tap only, so the
  // rows come from memory; chunks of 4 rows (3 frames of x, 387 KB at 144 channels and 56
  // columns) do not fit L2 beside dW's part either. torchvision r2plus1d_18's 3x1x1 144->64
  // filter gradients at 8x56x56 (Zen 2, alternating step profiles on a noisy machine, 3 runs):
  // 4-row chunks 15.6-19.2 ms, 1-row ones 15.3-17.3, with the prefetches 14.5-15.6 (78-82% of the
  // peak). Read in place, each chunk's rows come from memory (x at the stride: 4 of every 8
  // lines of a row at /2), and the first tiles to touch them wait on it. The 1x1x1 ones with a
  // small dW, Zen 2, alternating step profiles, with the prefetches against without: the 128->256
  // ones mc3_18's /1x2x2 1.36-1.53 ms against 1.53-1.68 (63-71% of the peak against 57-63%),
  // r3d_18's /2x2x2 median of 5 0.407 against 0.428, r2plus1d_18's 0.40 against 0.42-0.44; the
  // 64->128 ones about the same (r3d_18's median of 5 0.905 against 0.922 ms): their dW part
  // (34 KB) and a chunk's rows (21 KB) do not fit L1 together, so their tiles wait on L2 instead.
  s.prefetchesRows = !s.blocked && k[1] == 1 && k[2] == 1;
  s.wholeReduction = s.rows * OW * s.dyLanes * 4 <= kWholeReductionDyBytes;
  s.rowChunks = s.prefetchesRows && !s.pointwise && !s.wholeReduction && partsFor(p.flops, paddedDwElements, s.rows) > 1;
  s.chunkRows =
      s.pointwise        ? largestDivisorUpTo(s.rows, std::max<int64_t>(1, kPointwiseChunkBytes / (OW * (C + F) * 4)))
      : s.wholeReduction ? s.rows
      : s.rowChunks      ? 1
                         : largestDivisorUpTo(s.rows, std::max<int64_t>(1, kChunkPositions / OW));
  s.chunks = s.rows / s.chunkRows;
  s.streamsDw = s.chunks == 1 && paddedDwElements * 4 >= kMinStreamedDwBytes;
  s.parts = s.pointwise ? largestDivisorUpTo(s.chunks, kParts) : partsFor(p.flops, paddedDwElements, s.chunks);
  if (s.parts > 1) {
    s.order = FilterGradOrder::Parts;
    s.chunksPerPart = s.chunks / s.parts;
  } else if (s.blocked && (s.chunks > 1 || !s.streamsDw) && s.cBlocks * s.fBlocks >= kMinBlockItems) {
    s.order = FilterGradOrder::BlockThenChunks;
  } else {
    s.order = FilterGradOrder::ChunkThenTiles;
  }
}

// Whether the products that read W padding are skipped, and each column block's taps that do.
void chooseColumnBlocks(const FilterGradProblem &p, FilterGradSchedule &s) {
  const int64_t KW = p.filter[2], OW = p.output[3];
  // The positions [first, end) of positions [begin, begin + count) whose tap kwTap reads a real
  // input column. Skipping the others leaves every sum as it was, bit for bit: their products
  // are +-0, and a sum from +0 is never -0.
  auto realColumns = [&](int64_t kwTap, int64_t begin, int64_t count) -> std::pair<int64_t, int64_t> {
    auto [first, end] = outputsReadingInput(begin, begin + count, kwTap, s.xStrides[2], p.padding[2], s.xShape[3]);
    return {first, std::max(first, end)};
  };
  int64_t paddingProducts = 0;
  for (int64_t kwTap = 0; kwTap < KW; ++kwTap) {
    auto [first, end] = realColumns(kwTap, 0, OW);
    paddingProducts += OW - (end - first);
  }
  s.skipsW = s.kwTaps == 1 && OW / s.owTile <= kMaxSkippingBlocks &&
             static_cast<double>(paddingProducts) >= kMinSkippedWShare * static_cast<double>(KW * OW);
  if (!s.skipsW)
    return;
  for (int64_t begin = 0; begin < OW; begin += s.owTile) {
    ColumnBlock block{begin, {}};
    for (int64_t kwTap = 0; kwTap < KW; ++kwTap)
      if (auto range = realColumns(kwTap, begin, s.owTile); range != std::pair<int64_t, int64_t>{begin, begin + s.owTile})
        block.edgeTaps.push_back({kwTap, range.first, range.second});
    s.columnBlocks.push_back(std::move(block));
  }
}

template <size_t N> std::string joined(const std::array<int64_t, N> &values, size_t count = N) {
  std::string text;
  for (size_t i = 0; i < count; ++i)
    text += (i ? "x" : "") + std::to_string(values[i]);
  return text;
}

} // namespace

FilterGradSchedule chooseFilterGradSchedule(const FilterGradProblem &problem, const VectorRegisters &regs) {
  FilterGradSchedule s;
  s.problem = problem;
  chooseTile(problem, regs, s);
  chooseOperands(problem, s);
  chooseReduction(problem, s);
  chooseColumnBlocks(problem, s);
  return s;
}

std::string describe(const FilterGradSchedule &s) {
  const FilterGradProblem &p = s.problem;
  std::ostringstream line;
  line << joined(p.filter, 3) << " " << p.filter[3] << "->" << p.filter[4] << " /" << joined(p.strides) << ", out "
       << joined(p.output, 4) << ":";
  line << " tile=" << s.cTile << "x" << s.fTile << " ow=" << s.owTile << " kw=" << s.kwGroups << "x" << s.kwTaps;
  if (s.lastKwTaps != s.kwTaps)
    line << " last-kw=" << s.lastKwTaps;
  line << " c=" << s.paddedC << "/" << s.cBlocks;
  if (s.tailChannels)
    line << " tail=" << s.tailChannels;
  line << " f=" << s.paddedF << "/" << s.fBlocks << " dy=" << s.dyLanes;
  if (s.halfBlock)
    line << " half-block";
  line << " items=" << s.items;
  line << " operands=" << (s.subsampled ? "blocked-compact" : s.blocked ? "blocked" : "in-place");
  line << " chunks=" << s.chunks << "x" << s.chunkRows;
  if (s.pointwise)
    line << " pointwise";
  else if (s.wholeReduction)
    line << " whole";
  else if (s.rowChunks)
    line << " row-chunks";
  switch (s.order) {
  case FilterGradOrder::ChunkThenTiles:
    line << " order=chunk-then-tiles";
    break;
  case FilterGradOrder::BlockThenChunks:
    line << " order=block-then-chunks";
    break;
  case FilterGradOrder::Parts:
    line << " order=parts parts=" << s.parts << "x" << s.chunksPerPart;
    if (s.prefetchesRows)
      line << " prefetch";
    break;
  }
  if (s.streamsDw)
    line << " streamed-dw";
  if (s.skipsW)
    line << " skip-w=" << s.columnBlocks.size();
  return line.str();
}

} // namespace vidnet::cpu
