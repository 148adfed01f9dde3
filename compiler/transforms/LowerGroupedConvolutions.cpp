// vidnet-lower-to-linalg for grouped convolutions (groups > 1): the forward and both gradients.
//
// Each is one linalg.generic over tensors whose channels are split into (group, channel in
// group), PyTorch's grouping: group g reads input channels [g C/G, (g+1) C/G) and writes output
// channels [g F/G, (g+1) F/G). Depthwise convs (one input channel per group) put the group, the
// channel, innermost, so that the loops the CPU target gets from linalg read and write
// channels-last tensors contiguously along it and LLVM vectorizes them over channels.
#include "compiler/transforms/LinalgBuilders.h"

#include <algorithm>

using namespace mlir;
using utils::IteratorType;

namespace vidnet {
namespace {

// The loops of a grouped conv by role: N, the three positions P (of the result for the forward
// and the data gradient, of the output for the filter gradient), the taps K, the group G and the
// channels in a group of the input (CG) and of the output (FG).
enum Role : unsigned { kN, kP0, kP1, kP2, kK0, kK1, kK2, kG, kCG, kFG, kRoles };

struct Nest {
  MLIRContext *ctx;
  unsigned at[kRoles];                  // the loop position of each role
  SmallVector<IteratorType> iterators;  // by loop position

  // `order` lists the roles outermost first; `reduced` are the roles summed over.
  Nest(MLIRContext *ctx, ArrayRef<Role> order, std::initializer_list<Role> reduced)
      : ctx(ctx), iterators(kRoles, IteratorType::parallel) {
    for (auto [position, role] : llvm::enumerate(order))
      at[role] = position;
    for (Role r : reduced)
      iterators[at[r]] = IteratorType::reduction;
  }
  AffineExpr d(Role r) const { return getAffineDimExpr(at[r], ctx); }
  SmallVector<AffineExpr> dims(std::initializer_list<Role> roles) const {
    return llvm::map_to_vector(roles, [&](Role r) { return d(r); });
  }
  AffineMap map(ArrayRef<AffineExpr> results) const { return AffineMap::get(kRoles, 0, results, ctx); }
};

// Loop orders. Depthwise: the group (the channel) innermost, after the taps and the unit or
// multiplier loops, so that every operand steps through contiguous channels (the output with
// a stride of the multiplier F/C where that is not 1).
constexpr Role kForwardOrder[] = {kN, kP0, kP1, kP2, kG, kFG, kK0, kK1, kK2, kCG};
constexpr Role kDataGradOrder[] = {kN, kP0, kP1, kP2, kG, kCG, kK0, kK1, kK2, kFG};
constexpr Role kFilterGradOrder[] = {kK0, kK1, kK2, kCG, kG, kFG, kN, kP0, kP1, kP2};
constexpr Role kDepthwiseOrder[] = {kN, kP0, kP1, kP2, kK0, kK1, kK2, kCG, kFG, kG};
constexpr Role kDepthwiseFilterGradOrder[] = {kK0, kK1, kK2, kN, kP0, kP1, kP2, kCG, kFG, kG};

// Every dimension on its own but the last two of `rank` + 1, which are one.
SmallVector<ReassociationIndices> lastTwoAsOne(int64_t rank) {
  SmallVector<ReassociationIndices> groupsOf;
  for (int64_t i = 0; i + 1 < rank; ++i)
    groupsOf.push_back({i});
  groupsOf.push_back({rank - 1, rank});
  return groupsOf;
}

// The last dimension of `v` split into (groups, rest): a view, no copy. A filter
// D x H x W x CG x F becomes D x H x W x CG x G x FG.
Value splitChannels(Emitter &e, Value v, int64_t groups) {
  auto type = cast<RankedTensorType>(v.getType());
  SmallVector<int64_t> shape(type.getShape());
  const int64_t last = shape.back();
  shape.back() = groups;
  shape.push_back(last / groups);
  return tensor::ExpandShapeOp::create(e.b, e.loc, RankedTensorType::get(shape, type.getElementType()), v,
                                       lastTwoAsOne(type.getRank()));
}

// The inverse of splitChannels, into `type`.
Value joinChannels(Emitter &e, Value v, RankedTensorType type) {
  return tensor::CollapseShapeOp::create(e.b, e.loc, type, v, lastTwoAsOne(type.getRank()));
}

// sum += a * b, the body of every generic here.
Value multiplyAdd(OpBuilder &b, Location loc, ValueRange args) {
  Value product = arith::MulFOp::create(b, loc, args[0], args[1]);
  return arith::AddFOp::create(b, loc, args[2], product);
}

// The generic over `nest` that sums `lhs` x `rhs` into zeros of `joined`'s shape with its
// channels split into groups (rank 6), then that sum with its channels joined again.
Value sumOfProducts(Emitter &e, const Nest &nest, Value lhs, Value rhs, ArrayRef<AffineExpr> lhsAt,
                    ArrayRef<AffineExpr> rhsAt, ArrayRef<AffineExpr> resultAt, RankedTensorType joined,
                    int64_t groups) {
  SmallVector<int64_t> shape(joined.getShape());
  shape.back() /= groups;
  shape.insert(shape.end() - 1, groups);
  auto split = RankedTensorType::get(shape, joined.getElementType());
  Value sum = e.generic(split, {lhs, rhs}, e.filled(split, 0.0), {nest.map(lhsAt), nest.map(rhsAt), nest.map(resultAt)},
                        nest.iterators, multiplyAdd);
  return joinChannels(e, sum, joined);
}

bool isDepthwise(RankedTensorType filter) { return filter.getDimSize(3) == 1; }

// x_padded[n, p s + k, g, cg]: where the forward and the filter gradient read the padded input.
SmallVector<AffineExpr> paddedInputAt(const Nest &nest, ArrayRef<int64_t> s) {
  SmallVector<AffineExpr> at = {nest.d(kN)};
  for (int i = 0; i < 3; ++i)
    at.push_back(nest.d(Role(kP0 + i)) * s[i] + nest.d(Role(kK0 + i)));
  at.append({nest.d(kG), nest.d(kCG)});
  return at;
}

// y[n, p, g, fg] = sum over k, cg of x_padded[n, p s + k, g, cg] w[k, cg, g, fg].
LogicalResult lowerGroupedConv(vidnet::ConvOp op, ConversionPatternRewriter &b) {
  Emitter e(b, op.getLoc());
  const int64_t groups = op.getGroups();
  auto filterType = cast<RankedTensorType>(op.getFilter().getType());
  Nest nest(b.getContext(), isDepthwise(filterType) ? ArrayRef(kDepthwiseOrder) : ArrayRef(kForwardOrder),
            {kK0, kK1, kK2, kCG});
  ArrayRef<int64_t> s = op.getStrides();
  Value x = splitChannels(e, padSpatial(e, op.getInput(), op.getPadding()), groups);
  Value w = splitChannels(e, op.getFilter(), groups);
  SmallVector<AffineExpr> xAt = paddedInputAt(nest, s);
  Value y = sumOfProducts(e, nest, x, w, xAt, nest.dims({kK0, kK1, kK2, kCG, kG, kFG}),
                          nest.dims({kN, kP0, kP1, kP2, kG, kFG}), cast<RankedTensorType>(op.getType()), groups);
  b.replaceOp(op, y);
  return success();
}

// dy spread out with stride s into zeros and shifted so that the data gradient is a stride-1
// correlation with the flipped filter: dx[i] = sum over k of spread[i + k + m] w[K - 1 - k],
// dy[o] sitting at o s + K - 1 - p + m. The margin m (per axis, in `margins`) keeps that
// position non-negative where the padding exceeds K - 1.
Value spreadOutputGrad(Emitter &e, Value dy, ArrayRef<int64_t> inputExtent, ArrayRef<int64_t> k, ArrayRef<int64_t> s,
                       ArrayRef<int64_t> p, SmallVector<int64_t> &margins) {
  auto dyType = cast<RankedTensorType>(dy.getType());
  SmallVector<int64_t> shape(dyType.getShape());
  SmallVector<OpFoldResult> offsets(5, e.b.getIndexAttr(0)), sizes, strides(5, e.b.getIndexAttr(1));
  for (int64_t extent : dyType.getShape())
    sizes.push_back(e.b.getIndexAttr(extent));
  margins.clear();
  for (int i = 0; i < 3; ++i) {
    const int64_t first = k[i] - 1 - p[i], outputs = dyType.getDimSize(i + 1);
    const int64_t margin = std::max<int64_t>(0, -first);
    margins.push_back(margin);
    shape[i + 1] = std::max(inputExtent[i] + k[i] - 1, (outputs - 1) * s[i] + first + 1) + margin;
    offsets[i + 1] = e.b.getIndexAttr(first + margin);
    strides[i + 1] = e.b.getIndexAttr(s[i]);
  }
  auto spreadType = RankedTensorType::get(shape, dyType.getElementType());
  return tensor::InsertSliceOp::create(e.b, e.loc, dy, e.filled(spreadType, 0.0), offsets, sizes, strides);
}

// The filter with its taps in reverse order along D, H and W: flipped[k] = w[K - 1 - k].
Value flipTaps(Emitter &e, Value filter) {
  auto type = cast<RankedTensorType>(filter.getType());
  SmallVector<AffineExpr> source;
  for (int i = 0; i < 5; ++i)
    source.push_back(i < 3 ? e.b.getAffineConstantExpr(type.getDimSize(i) - 1) - e.b.getAffineDimExpr(i)
                           : e.b.getAffineDimExpr(i));
  return e.generic(type, {filter}, e.empty(type),
                   {AffineMap::get(5, 0, source, e.b.getContext()), e.b.getMultiDimIdentityMap(5)},
                   SmallVector<IteratorType>(5, IteratorType::parallel),
                   [](OpBuilder &, Location, ValueRange a) { return a[0]; });
}

// dx[n, i, g, cg] = sum over k, fg of spread[n, i + k + m, g, fg] flipped[k, cg, g, fg]:
// every product of a strided conv's zeros too, which the groups = 1 lowering's phases avoid;
// grouped convs have C/G times fewer products per output to begin with.
LogicalResult lowerGroupedConvBackwardData(vidnet::ConvBackwardDataOp op, ConversionPatternRewriter &b) {
  Emitter e(b, op.getLoc());
  const int64_t groups = op.getGroups();
  auto filterType = cast<RankedTensorType>(op.getFilter().getType());
  auto dxType = cast<RankedTensorType>(op.getInputGrad().getType());
  Nest nest(b.getContext(), isDepthwise(filterType) ? ArrayRef(kDepthwiseOrder) : ArrayRef(kDataGradOrder),
            {kK0, kK1, kK2, kFG});
  ArrayRef<int64_t> k = filterType.getShape().take_front(3);
  SmallVector<int64_t> margins;
  Value spread = spreadOutputGrad(e, op.getOutputGrad(), dxType.getShape().slice(1, 3), k, op.getStrides(),
                                  op.getPadding(), margins);
  // Tap k' of the flipped filter reads spread[i + k' + m]. The flip is a copy of the filter:
  // written into dy's map instead (i - k + K - 1 + m), the map's negative coefficient would make
  // the CPU target's tiling of the loops over i take a one-element slice of dy for all the taps.
  SmallVector<AffineExpr> dyAt = {nest.d(kN)};
  for (int i = 0; i < 3; ++i)
    dyAt.push_back(nest.d(Role(kP0 + i)) + nest.d(Role(kK0 + i)) + margins[i]);
  dyAt.append({nest.d(kG), nest.d(kFG)});
  Value flipped = splitChannels(e, flipTaps(e, op.getFilter()), groups);
  Value dx = sumOfProducts(e, nest, splitChannels(e, spread, groups), flipped, dyAt,
                           nest.dims({kK0, kK1, kK2, kCG, kG, kFG}), nest.dims({kN, kP0, kP1, kP2, kG, kCG}), dxType,
                           groups);
  b.replaceOp(op, dx);
  return success();
}

// dw[k, cg, g, fg] = sum over n, o of x_padded[n, o s + k, g, cg] dy[n, o, g, fg].
LogicalResult lowerGroupedConvBackwardFilter(vidnet::ConvBackwardFilterOp op, ConversionPatternRewriter &b) {
  Emitter e(b, op.getLoc());
  const int64_t groups = op.getGroups();
  auto dwType = cast<RankedTensorType>(op.getFilterGrad().getType());
  Nest nest(b.getContext(), isDepthwise(dwType) ? ArrayRef(kDepthwiseFilterGradOrder) : ArrayRef(kFilterGradOrder),
            {kN, kP0, kP1, kP2});
  ArrayRef<int64_t> s = op.getStrides();
  Value x = splitChannels(e, padSpatial(e, op.getInput(), op.getPadding()), groups);
  Value dy = splitChannels(e, op.getOutputGrad(), groups);
  SmallVector<AffineExpr> xAt = paddedInputAt(nest, s);
  Value dw = sumOfProducts(e, nest, x, dy, xAt, nest.dims({kN, kP0, kP1, kP2, kG, kFG}),
                           nest.dims({kK0, kK1, kK2, kCG, kG, kFG}), dwType, groups);
  b.replaceOp(op, dw);
  return success();
}

} // namespace

LogicalResult lowerGroupedConvolution(Operation *op, ConversionPatternRewriter &rewriter) {
  if (auto conv = dyn_cast<vidnet::ConvOp>(op))
    return lowerGroupedConv(conv, rewriter);
  if (auto data = dyn_cast<vidnet::ConvBackwardDataOp>(op))
    return lowerGroupedConvBackwardData(data, rewriter);
  if (auto filter = dyn_cast<vidnet::ConvBackwardFilterOp>(op))
    return lowerGroupedConvBackwardFilter(filter, rewriter);
  return op->emitOpError("is not a convolution");
}

} // namespace vidnet
