// vidnet-cpu-parallelize-elementwise: large elementwise linalg ops (BN, ReLU, residual adds, the
// fused chains, SGD updates, fills) and reductions with leading parallel loops -> an scf.forall over
// their leading parallel dimensions; per-channel sums over every position -> partial sums over
// blocks of positions, in parallel, then their total.
#include "compiler/targets/cpu/CpuPasses.h"
#include "compiler/targets/cpu/LoopInfo.h"
#include "compiler/targets/cpu/TileSizes.h"
#include "compiler/transforms/LinalgBuilders.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/RegionUtils.h"

namespace vidnet::cpu {
#define GEN_PASS_DEF_PARALLELIZEELEMENTWISE
#include "compiler/targets/cpu/CpuPasses.h.inc"
} // namespace vidnet::cpu

using namespace mlir;

namespace {

// Below this many elements a loop is done before a worker could wake up.
constexpr int64_t kMinElements = 1 << 16;
// Items per loop: enough for the threads to balance, each still a whole row or more.
constexpr int64_t kMinItems = 32;

// The loop dimension an input reads contiguously when it is not the output's innermost one
// (a transpose, e.g. the data gradient's sub-filter: out[.., f, c] = w[.., c, f]).
std::optional<unsigned> transposedDim(linalg::LinalgOp op) {
  unsigned innermost = op.getNumLoops() - 1;
  if (!isa<linalg::GenericOp>(op) || op.getNumDpsInits() != 1 ||
      op.getMatchingIndexingMap(op.getDpsInitOperand(0)).getNumResults() == 0 ||
      op.getMatchingIndexingMap(op.getDpsInitOperand(0)).getResults().back() !=
          getAffineDimExpr(innermost, op->getContext()))
    return std::nullopt;
  for (OpOperand *input : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(input);
    if (map.getNumResults() == 0)
      continue;
    if (auto dim = dyn_cast<AffineDimExpr>(map.getResults().back()); dim && dim.getPosition() != innermost)
      return dim.getPosition();
  }
  return std::nullopt;
}

// Tile sizes: 1 on leading parallel dimensions until they make kMinItems items, 0 (whole) on
// the rest; the innermost dimension (channels, contiguous) always stays whole, and so does
// everything from the first reduction on (each item then reduces its own slice, in the same
// order). A transpose is cut into kTransposeBlock x kTransposeBlock blocks of its two
// contiguous dimensions as well: row by row, each output row would read one element of a
// cache line of every input row (6.5 GB/s measured on r3d_18's 512 x 512 sub-filters). Empty:
// leave the op alone.
constexpr int64_t kTransposeBlock = 16;
SmallVector<int64_t> leadingTiles(linalg::LinalgOp op) {
  if (!op.hasPureTensorSemantics() || op.getNumLoops() < 2)
    return {};
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  if (llvm::any_of(ranges, ShapedType::isDynamic))
    return {};
  int64_t elements = 1;
  for (int64_t r : ranges)
    elements *= r;
  if (elements < kMinElements)
    return {};
  SmallVector<int64_t> tiles(ranges.size(), 0);
  int64_t items = 1;
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  std::optional<unsigned> transposed = transposedDim(op);
  const size_t innermost = ranges.size() - 1;
  if (transposed && llvm::all_of(iterators, [](utils::IteratorType t) { return t == utils::IteratorType::parallel; })) {
    for (size_t d : {static_cast<size_t>(*transposed), innermost}) {
      tiles[d] = vidnet::cpu::largestDivisorUpTo(ranges[d], kTransposeBlock);
      items *= ranges[d] / tiles[d];
    }
  }
  // (A transpose's other dimensions are cut to 1 whatever the count: the sub-filters' maps
  // flip the taps, d -> 2 - d, which the tiling only slices correctly one tap at a time.)
  for (size_t d = 0;
       d < innermost && (items < kMinItems || tiles[innermost] != 0) && iterators[d] == utils::IteratorType::parallel;
       ++d) {
    if (tiles[d] != 0)
      continue;
    tiles[d] = 1;
    items *= ranges[d];
  }
  return items > 1 ? tiles : SmallVector<int64_t>{};
}

// The coefficient of loop dimension `d` in `e` when `e` is a sum of dimensions times constants
// (the maps of flips, transposes and packs); nullopt for a floordiv, ceildiv or mod.
std::optional<int64_t> coefficient(AffineExpr e, unsigned d, unsigned dims) {
  bool linear = true;
  e.walk([&](AffineExpr sub) {
    linear = linear && sub.getKind() != AffineExprKind::FloorDiv && sub.getKind() != AffineExprKind::CeilDiv &&
             sub.getKind() != AffineExprKind::Mod;
  });
  if (!linear)
    return std::nullopt;
  auto at = [&](int64_t v) -> std::optional<int64_t> {
    SmallVector<AffineExpr> values(dims, getAffineConstantExpr(0, e.getContext()));
    values[d] = getAffineConstantExpr(v, e.getContext());
    if (auto c = dyn_cast<AffineConstantExpr>(e.replaceDims(values)))
      return c.getValue();
    return std::nullopt;
  };
  std::optional<int64_t> one = at(1), zero = at(0);
  if (!one || !zero)
    return std::nullopt;
  return *one - *zero;
}

// A transpose whose blocks are 16 x 16 (`rows` is the dimension the input reads contiguously,
// `cols` the output's innermost) and that only copies: for each block, the input indices that
// step with those two dimensions (`inputRows`, `inputCols`).
struct TransposeBlocks {
  unsigned rows, cols, inputRows, inputCols;
};
std::optional<TransposeBlocks> vectorTranspose(linalg::LinalgOp op, ArrayRef<int64_t> tiles) {
  std::optional<unsigned> rows = transposedDim(op);
  const unsigned dims = op.getNumLoops(), cols = dims - 1;
  auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
  if (!rows || !generic || !vidnet::movesElements(generic) || tiles[*rows] != kTransposeBlock ||
      tiles[cols] != kTransposeBlock || !op.getMatchingIndexingMap(op.getDpsInitOperand(0)).isIdentity() ||
      llvm::is_contained(tiles, 0)) // the tiles are the forall's steps
    return std::nullopt;
  // Each of the two dimensions steps one input index by one and no other index.
  AffineMap read = op.getMatchingIndexingMap(op.getDpsInputOperand(0));
  std::optional<unsigned> inputRows, inputCols;
  for (auto [i, e] : llvm::enumerate(read.getResults())) {
    for (auto [d, found] : {std::pair{*rows, &inputRows}, std::pair{cols, &inputCols}}) {
      std::optional<int64_t> c = coefficient(e, d, dims);
      if (!c || (*c != 0 && (*c != 1 || *found)))
        return std::nullopt;
      if (*c == 1)
        *found = i;
    }
  }
  if (!inputRows || !inputCols || *inputRows == *inputCols)
    return std::nullopt;
  return TransposeBlocks{*rows, cols, *inputRows, *inputCols};
}

// The transpose as an scf.forall over its blocks, each read as one vector with the transposition
// in the read's permutation map (vidnet-cpu-vectorize-tiles lowers it to AVX-512 shuffles) and
// written as 16 rows (contiguous when the two dimensions are the output's last two, as in the
// sub-filters and packs). Copied element by element, r3d_18's 512 x 512 sub-filters ran
// at 7.3 GB/s, a third of a plain copy's speed.
Value emitVectorTranspose(OpBuilder &b, linalg::LinalgOp op, ArrayRef<int64_t> tiles, const TransposeBlocks &t) {
  Location loc = op.getLoc();
  MLIRContext *ctx = b.getContext();
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  Value input = op.getDpsInputOperand(0)->get(), init = op.getDpsInitOperand(0)->get();
  Type element = getElementTypeOrSelf(init.getType());
  auto forall = scf::ForallOp::create(b, loc, getAsIndexOpFoldResult(ctx, SmallVector<int64_t>(ranges.size(), 0)),
                                      getAsIndexOpFoldResult(ctx, ranges), getAsIndexOpFoldResult(ctx, tiles),
                                      ValueRange{init}, std::nullopt);
  OpBuilder ib(forall.getTerminator());
  ValueRange ivs = forall.getInductionVars();
  AffineMap read = op.getMatchingIndexingMap(op.getDpsInputOperand(0));
  SmallVector<Value> from;
  for (AffineExpr e : read.getResults())
    from.push_back(affine::AffineApplyOp::create(ib, loc, AffineMap::get(read.getNumDims(), 0, e), ivs));
  auto blockType = VectorType::get({tiles[t.rows], tiles[t.cols]}, element);
  Value padding = arith::ConstantOp::create(ib, loc, ib.getZeroAttr(element));
  Value block = vector::TransferReadOp::create(
      ib, loc, blockType, input, from, padding,
      AffineMap::get(read.getNumResults(), 0, {getAffineDimExpr(t.inputRows, ctx), getAffineDimExpr(t.inputCols, ctx)},
                     ctx),
      ArrayRef<bool>{true, true});
  Value shared = forall.getRegionIterArgs()[0];
  SmallVector<OpFoldResult> at(ivs.begin(), ivs.end()), sizes = getAsIndexOpFoldResult(ctx, tiles),
                                                        unit(ranges.size(), ib.getIndexAttr(1));
  Value slice = tensor::ExtractSliceOp::create(ib, loc, shared, at, sizes, unit);
  SmallVector<Value> origin(ranges.size(), arith::ConstantIndexOp::create(ib, loc, 0));
  Value written =
      vector::TransferWriteOp::create(
          ib, loc, block, slice, origin,
          AffineMap::get(ranges.size(), 0, {getAffineDimExpr(t.rows, ctx), getAffineDimExpr(t.cols, ctx)}, ctx),
          ArrayRef<bool>{true, true})
          .getResult();
  ib.setInsertionPointToStart(forall.getTerminator().getBody());
  tensor::ParallelInsertSliceOp::create(ib, loc, written, shared, at, sizes, unit);
  return forall.getResult(0);
}

// A transpose whose two blocked dimensions are not both multiples of kTransposeBlock (the data
// gradient's sub-filters of torchvision r2plus1d_18's 921 and 460 channels) got blocks of their
// largest divisor up to 16 (921 = 3 x 307: 3 x 16 blocks, copied element by element at 9-14
// GB/s). Split instead into the part whose dimensions are multiples of 16, which then takes the
// vector transpose, and the strips left over (at most 15 rows or columns, element by element).
// Each output element is still the same input element: a move, bit for bit.
void peelTranspose(IRRewriter &rewriter, linalg::GenericOp op) {
  std::optional<unsigned> rows = transposedDim(op);
  if (!rows || !op.hasPureTensorSemantics() || !vidnet::movesElements(op)) // one input, one init, all parallel
    return;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  const unsigned cols = ranges.size() - 1;
  if (llvm::any_of(ranges, ShapedType::isDynamic) || ranges[*rows] < kTransposeBlock ||
      ranges[cols] < kTransposeBlock || (ranges[*rows] % kTransposeBlock == 0 && ranges[cols] % kTransposeBlock == 0))
    return;
  // Only where the bulk is a transpose the vector path takes (blocks of 16 x 16, no other tiles).
  SmallVector<int64_t> probe(ranges.size(), 1);
  probe[*rows] = probe[cols] = kTransposeBlock;
  std::optional<TransposeBlocks> blocks = vectorTranspose(op, probe);
  if (!blocks)
    return;
  AffineMap read = op.getMatchingIndexingMap(op.getDpsInputOperand(0));
  if (read.getResult(blocks->inputRows) != getAffineDimExpr(*rows, op.getContext()) ||
      read.getResult(blocks->inputCols) != getAffineDimExpr(cols, op.getContext()))
    return;
  const int64_t bulkRows = ranges[*rows] / kTransposeBlock * kTransposeBlock;
  const int64_t bulkCols = ranges[cols] / kTransposeBlock * kTransposeBlock;
  struct Region {
    int64_t rowBegin, rowEnd, colBegin, colEnd;
  };
  const Region regions[] = {{0, bulkRows, 0, bulkCols},
                            {bulkRows, ranges[*rows], 0, ranges[cols]},
                            {0, bulkRows, bulkCols, ranges[cols]}};
  // Each part is the op over a sub-range of the two dimensions, on slices of its input (where
  // each of the two is one whole index) and of the result (tiling would slice the sub-filters'
  // flipped taps wrongly).
  rewriter.setInsertionPoint(op);
  MLIRContext *ctx = rewriter.getContext();
  Location loc = op.getLoc();
  Value result = op.getDpsInitOperand(0)->get();
  for (const Region &r : regions) {
    if (r.rowBegin == r.rowEnd || r.colBegin == r.colEnd)
      continue;
    SmallVector<int64_t> offsets(ranges.size(), 0), sizes(ranges);
    offsets[*rows] = r.rowBegin;
    sizes[*rows] = r.rowEnd - r.rowBegin;
    offsets[cols] = r.colBegin;
    sizes[cols] = r.colEnd - r.colBegin;
    SmallVector<AffineMap> maps;
    SmallVector<Value> inputs;
    for (OpOperand *input : op.getDpsInputOperands()) {
      AffineMap map = op.getMatchingIndexingMap(input);
      auto type = cast<RankedTensorType>(input->get().getType());
      SmallVector<int64_t> inOffsets(type.getRank(), 0), inSizes(type.getShape());
      for (auto [i, e] : llvm::enumerate(map.getResults()))
        for (unsigned d : {*rows, cols})
          if (e == getAffineDimExpr(d, ctx)) {
            inOffsets[i] = offsets[d];
            inSizes[i] = sizes[d];
          }
      inputs.push_back(tensor::ExtractSliceOp::create(rewriter, loc, input->get(), getAsIndexOpFoldResult(ctx, inOffsets),
                                                      getAsIndexOpFoldResult(ctx, inSizes),
                                                      SmallVector<OpFoldResult>(type.getRank(), rewriter.getIndexAttr(1))));
      maps.push_back(map);
    }
    maps.push_back(rewriter.getMultiDimIdentityMap(ranges.size()));
    SmallVector<OpFoldResult> at = getAsIndexOpFoldResult(ctx, offsets), extent = getAsIndexOpFoldResult(ctx, sizes),
                              unit(ranges.size(), rewriter.getIndexAttr(1));
    Value out = tensor::ExtractSliceOp::create(rewriter, loc, result, at, extent, unit);
    auto part = linalg::GenericOp::create(rewriter, loc, TypeRange{out.getType()}, inputs, ValueRange{out}, maps,
                                          op.getIteratorTypesArray());
    rewriter.cloneRegionBefore(op.getRegion(), part.getRegion(), part.getRegion().end());
    result = tensor::InsertSliceOp::create(rewriter, loc, part.getResult(0), result, at, extent, unit);
  }
  rewriter.replaceOp(op, result);
}

// A per-channel sum over every position (batch statistics, the BN backward's dbeta and dgamma):
// out[c] = init[c] + term(x[p, c], ...) summed over the positions p in order. Serial, those sums
// were 7-10% of a 2-thread step, each a pass over an activation at one core's memory bandwidth;
// items of 16 channels each made a pass over all of it (3x slower than serial). Split instead:
// kPartialSums contiguous blocks of positions, each summed from zero by one item of a parallel
// loop into a row of partials, which are then added to init in order. The split depends on the
// shape only, so the bits do not change with the thread count.
constexpr int64_t kPartialSums = 32;

// Whether `op` is such a sum, each of its outputs: every loop but the innermost (channels) a
// reduction, inputs read with the identity or the channel's map, outputs with the channel's, each
// yielded value term + that output.
bool isChannelSum(linalg::GenericOp op) {
  if (!op.hasPureTensorSemantics() || op.getNumDpsInits() == 0 || op.getNumLoops() < 2 ||
      !op.getBody()->getOps<linalg::IndexOp>().empty())
    return false;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  const unsigned rank = ranges.size();
  if (llvm::any_of(ranges, ShapedType::isDynamic) || iterators.back() != utils::IteratorType::parallel ||
      !llvm::all_of(ArrayRef(iterators).drop_back(),
                    [](utils::IteratorType t) { return t == utils::IteratorType::reduction; }))
    return false;
  AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, op.getContext());
  AffineMap channel = AffineMap::getMinorIdentityMap(rank, 1, op.getContext());
  for (OpOperand *input : op.getDpsInputOperands())
    if (AffineMap map = op.getMatchingIndexingMap(input); map != identity && map != channel)
      return false;
  return llvm::all_of(op.getDpsInitsMutable(), [&](OpOperand &init) {
    return op.getMatchingIndexingMap(&init) == channel && vidnet::sumsInto(op, init);
  });
}

// Two channel sums over the same positions that read the same tensor (the BN backward's dbeta,
// of dy, and dgamma, of dy and x) as one generic with both outputs: one pass over dy instead of
// two. Each output's sum is the same chain of the same terms as before (the bodies are cloned
// as they were), so the bits do not change. `first` comes before `second` in the block; the
// merged op takes `first`'s place, where what `second` reads that is made between them (its
// zero init, a channel vector) is moved first. Not where `second` depends on `first` (a
// variance on its mean).
bool mergeChannelSums(IRRewriter &rewriter, linalg::GenericOp first, linalg::GenericOp second) {
  if (first->getBlock() != second->getBlock() || first.getStaticLoopRanges() != second.getStaticLoopRanges())
    return false;
  const unsigned rank = first.getNumLoops();
  AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, first.getContext());
  bool shared = false;
  for (OpOperand *a : first.getDpsInputOperands())
    for (OpOperand *b : second.getDpsInputOperands())
      shared |= a->get() == b->get() && first.getMatchingIndexingMap(a) == identity &&
                second.getMatchingIndexingMap(b) == identity;
  if (!shared)
    return false;
  if (failed(moveOperationDependencies(rewriter, second, first)))
    return false;
  // The inputs of both, each (tensor, map) once (the shared tensor is read once per element);
  // then the outputs of both.
  SmallVector<Value> inputs, inits;
  SmallVector<AffineMap> maps;
  SmallVector<SmallVector<unsigned>> inputIndex(2);
  for (auto [which, op] : llvm::enumerate(SmallVector<linalg::GenericOp>{first, second}))
    for (OpOperand *input : op.getDpsInputOperands()) {
      AffineMap map = op.getMatchingIndexingMap(input);
      unsigned i = 0;
      while (i < inputs.size() && !(inputs[i] == input->get() && maps[i] == map))
        ++i;
      if (i == inputs.size()) {
        inputs.push_back(input->get());
        maps.push_back(map);
      }
      inputIndex[which].push_back(i);
    }
  for (linalg::GenericOp op : {first, second})
    for (OpOperand &init : op.getDpsInitsMutable()) {
      inits.push_back(init.get());
      maps.push_back(op.getMatchingIndexingMap(&init));
    }
  rewriter.setInsertionPoint(first);
  auto merged = linalg::GenericOp::create(rewriter, second.getLoc(), ValueRange(inits).getTypes(), inputs, inits, maps,
                                          second.getIteratorTypesArray());
  SmallVector<Type> argTypes;
  SmallVector<Location> argLocs;
  for (Value v : llvm::concat<Value>(inputs, inits)) {
    argTypes.push_back(getElementTypeOrSelf(v.getType()));
    argLocs.push_back(v.getLoc());
  }
  Block *body = rewriter.createBlock(&merged.getRegion(), {}, argTypes, argLocs);
  const unsigned firstInits = first.getNumDpsInits();
  SmallVector<Value> yielded;
  auto cloneBody = [&](linalg::GenericOp op, ArrayRef<unsigned> inputArgs, unsigned initBase) {
    IRMapping mapping;
    for (auto [i, arg] : llvm::enumerate(inputArgs))
      mapping.map(op.getBody()->getArgument(i), body->getArgument(arg));
    for (unsigned i = 0; i < op.getNumDpsInits(); ++i)
      mapping.map(op.getBody()->getArgument(op.getNumDpsInputs() + i), body->getArgument(initBase + i));
    for (Operation &inner : op.getBody()->without_terminator())
      rewriter.clone(inner, mapping);
    for (Value v : op.getBody()->getTerminator()->getOperands())
      yielded.push_back(mapping.lookupOrDefault(v));
  };
  cloneBody(first, inputIndex[0], inputs.size());
  cloneBody(second, inputIndex[1], inputs.size() + firstInits);
  linalg::YieldOp::create(rewriter, second.getLoc(), yielded);
  rewriter.replaceOp(first, merged.getResults().take_front(firstInits));
  rewriter.replaceOp(second, merged.getResults().drop_front(firstInits));
  return true;
}

// Rewrites `op` into the partial sums' generic (made a parallel loop below, over its leading
// dimension) and their totals, one per output, if it is such a sum.
void splitChannelSum(IRRewriter &rewriter, linalg::GenericOp op) {
  if (!isChannelSum(op))
    return;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  const unsigned rank = ranges.size(), innermost = rank - 1;
  vidnet::Emitter e(rewriter, op.getLoc());
  AffineMap identity = AffineMap::getMultiDimIdentityMap(rank, op.getContext());
  MLIRContext *ctx = op.getContext();
  const int64_t channels = ranges[innermost];
  int64_t positions = 1;
  for (int64_t n : ArrayRef(ranges).drop_back())
    positions *= n;
  const int64_t parts = vidnet::cpu::largestDivisorUpTo(positions, kPartialSums);
  if (positions * channels < kMinElements || parts < 2)
    return;

  Location loc = e.loc;
  rewriter.setInsertionPoint(op);
  ReassociationIndices leading = llvm::to_vector(llvm::seq<int64_t>(0, innermost));
  SmallVector<Value> inputs;
  SmallVector<AffineMap> maps;
  for (OpOperand *input : op.getDpsInputOperands()) {
    Value v = input->get();
    if (op.getMatchingIndexingMap(input) == identity) {
      // [.., C] -> [positions, C] -> [parts, positions / parts, C]: views of the same buffer.
      auto type = cast<RankedTensorType>(v.getType());
      Value flat = tensor::CollapseShapeOp::create(rewriter, loc, v, {leading, {innermost}});
      v = tensor::ExpandShapeOp::create(
          rewriter, loc, RankedTensorType::get({parts, positions / parts, channels}, type.getElementType()), flat,
          {{0, 1}, {2}});
      maps.push_back(rewriter.getMultiDimIdentityMap(3));
    } else {
      maps.push_back(e.lastDimMap(3));
    }
    inputs.push_back(v);
  }
  SmallVector<Type> partialsTypes;
  SmallVector<Value> zeros;
  for (OpOperand &init : op.getDpsInitsMutable()) {
    auto type = RankedTensorType::get({parts, channels}, getElementTypeOrSelf(init.get().getType()));
    partialsTypes.push_back(type);
    zeros.push_back(e.filled(type, 0.0));
    maps.push_back(AffineMap::get(3, 0, {getAffineDimExpr(0, ctx), getAffineDimExpr(2, ctx)}, ctx));
  }
  auto partials = linalg::GenericOp::create(
      rewriter, loc, partialsTypes, inputs, zeros, maps,
      {utils::IteratorType::parallel, utils::IteratorType::reduction, utils::IteratorType::parallel});
  rewriter.cloneRegionBefore(op.getRegion(), partials.getRegion(), partials.getRegion().end());
  SmallVector<Value> totals;
  for (OpOperand &init : op.getDpsInitsMutable())
    totals.push_back(e.generic(
        init.get().getType(), {partials.getResult(op.getTiedOpResult(&init).getResultNumber())}, init.get(),
        {rewriter.getMultiDimIdentityMap(2), e.lastDimMap(2)},
        {utils::IteratorType::reduction, utils::IteratorType::parallel},
        [](OpBuilder &nb, Location l, ValueRange a) { return arith::AddFOp::create(nb, l, a[0], a[1]).getResult(); }));
  rewriter.replaceOp(op, totals);
}

// For `vidrun profile`: the iteration space and the bytes of every operand, read or written once.
vidnet::cpu::LoopInfo describe(linalg::LinalgOp op) {
  vidnet::cpu::LoopInfo info;
  info.kind = isa<linalg::FillOp>(op) ? vidnet::bundle::loop_kind::kFill : vidnet::bundle::loop_kind::kElementwise;
  info.shape = vidnet::shapeString(op.getStaticLoopRanges());
  for (OpOperand &operand : op->getOpOperands())
    if (auto type = dyn_cast<ShapedType>(operand.get().getType()); type && type.hasStaticShape())
      info.bytes += type.getNumElements() * static_cast<int64_t>(type.getElementTypeBitWidth() / 8);
  return info;
}

// The op's loop location for `vidrun profile`: as described where the op was made (a filter
// gradient's total of its parts is timed with it), else as an elementwise loop.
Location loopLocation(linalg::LinalgOp op) {
  if (!vidnet::cpu::loopInfo(op.getLoc()).kind.empty())
    return op.getLoc();
  return vidnet::cpu::describeLoop(op.getLoc(), describe(op));
}

struct ParallelizeElementwise : vidnet::cpu::impl::ParallelizeElementwiseBase<ParallelizeElementwise> {
  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    // Each rewrite below walks the generics not yet inside a loop, as the one before left them.
    auto outsideLoops = [&] {
      SmallVector<linalg::GenericOp> ops;
      getOperation().walk([&](linalg::GenericOp op) {
        if (!op->getParentOfType<scf::ForallOp>())
          ops.push_back(op);
      });
      return ops;
    };
    // Each channel sum with the nearest one before it that reads a tensor it reads.
    SmallVector<linalg::GenericOp> sums;
    for (linalg::GenericOp op : outsideLoops())
      if (isChannelSum(op))
        sums.push_back(op);
    for (size_t i = 1; i < sums.size(); ++i)
      if (sums[i - 1] && mergeChannelSums(rewriter, sums[i - 1], sums[i]))
        sums[i] = nullptr;
    for (linalg::GenericOp op : outsideLoops())
      splitChannelSum(rewriter, op);
    for (linalg::GenericOp op : outsideLoops())
      peelTranspose(rewriter, op);
    SmallVector<std::pair<linalg::LinalgOp, SmallVector<int64_t>>> work;
    getOperation().walk([&](linalg::LinalgOp op) {
      if (!isa<linalg::GenericOp, linalg::FillOp>(op) || op->getParentOfType<scf::ForallOp>())
        return;
      if (SmallVector<int64_t> tiles = leadingTiles(op); !tiles.empty())
        work.push_back({op, tiles});
    });
    for (auto &[op, tiles] : work) {
      if (std::optional<TransposeBlocks> blocks = vectorTranspose(op, tiles)) {
        rewriter.setInsertionPoint(op);
        Value result = emitVectorTranspose(rewriter, op, tiles, *blocks);
        result.getDefiningOp()->setLoc(loopLocation(op));
        rewriter.replaceOp(op, result);
        continue;
      }
      scf::SCFTilingOptions options;
      options.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
      options.setTileSizes(getAsIndexOpFoldResult(&getContext(), tiles));
      rewriter.setInsertionPoint(op);
      FailureOr<scf::SCFTilingResult> tiled =
          scf::tileUsingSCF(rewriter, cast<TilingInterface>(op.getOperation()), options);
      if (failed(tiled)) {
        op->emitError("vidnet-cpu-parallelize-elementwise: cannot tile this op");
        return signalPassFailure();
      }
      tiled->loops.front().getOperation()->setLoc(loopLocation(op));
      rewriter.replaceOp(op, tiled->replacements);
    }
  }
};

} // namespace
