// Small builders the vidnet-lower-to-linalg patterns share (linalg.generic, fills, per-channel
// reductions, padding), and the pattern that runs one lowering function.
#pragma once

#include "dialects/vidnet/VidnetOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Builders.h"
#include "mlir/Transforms/DialectConversion.h"

namespace vidnet {

// On a linalg convolution that computes a gradient: which (bundle::loop_kind's data or filter
// gradient), and the forward convolution's describeConv; for `vidrun profile`'s loop names.
inline constexpr llvm::StringLiteral kConvRoleAttr = "vidnet.conv_role";
inline constexpr llvm::StringLiteral kConvShapeAttr = "vidnet.conv_shape";

// A linalg.generic that only moves elements: one input, one init, all loops parallel, the body
// yields the input's element (a copy, transpose, flip or pack, whatever its maps).
bool movesElements(mlir::linalg::GenericOp op);

// Whether a linalg.generic sums into the float output `init`: the body yields term + out for it
// and uses out nowhere else, so its terms may be summed in parts, each from zero, and the parts
// added to the output in order (a max, a product or any other combination could not).
bool sumsInto(mlir::linalg::GenericOp op, mlir::OpOperand &init);

// A linalg.generic with one output, which it sums into (sumsInto).
bool isFloatSum(mlir::linalg::GenericOp op);

// "AxBxC" for a shape.
std::string shapeString(llvm::ArrayRef<int64_t> shape);

// A forward convolution as `vidrun profile` names it: "3x3x3 64->128 /2x2x2, out 2x4x28x28"
// (filter DHWCF, strides, output NDHWC).
std::string describeConv(llvm::ArrayRef<int64_t> filter, llvm::ArrayRef<int64_t> strides, llvm::ArrayRef<int64_t> out);

// Builds at one builder's insertion point and location.
class Emitter {
public:
  Emitter(mlir::OpBuilder &b, mlir::Location loc) : b(b), loc(loc) {}

  mlir::Value f32(double v);
  mlir::Value empty(mlir::RankedTensorType type);
  mlir::Value filled(mlir::RankedTensorType type, double value);

  // (d0, ..., d_{rank-1}) -> (d_{rank-1}): a per-channel vector over a channels-last tensor.
  mlir::AffineMap lastDimMap(unsigned rank);

  using Body = llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location, mlir::ValueRange)>;

  // A linalg.generic with one result, the given maps and iterators; `body` gets the block's
  // arguments (inputs, then the init) and returns the value to yield.
  mlir::Value generic(mlir::Type result, mlir::ValueRange inputs, mlir::Value init,
                      llvm::ArrayRef<mlir::AffineMap> maps, llvm::ArrayRef<mlir::utils::IteratorType> iterators,
                      Body body);

  // Elementwise over the shape of `like`; channel vectors broadcast along the last dim.
  mlir::Value elementwise(mlir::ValueRange full, mlir::ValueRange perChannel, mlir::RankedTensorType like, Body body);

  mlir::OpBuilder &b;
  mlir::Location loc;
};

// `v` is a linalg.fill of +0 (the zeros Emitter::filled makes), which a sum can start from or a
// value be added to without changing its bits; not -0: a sum from -0 that only adds -0 stays -0.
bool isPositiveZeroFill(mlir::Value v);

// x zero-padded by p[i] on both sides of D, H and W (x itself when p is all zero).
mlir::Value padSpatial(Emitter &e, mlir::Value x, llvm::ArrayRef<int64_t> p);

// Per-channel float64 sum over every other dimension of term(args) (a float64 value), args full
// tensors or channel vectors: one linalg.generic whose body yields term + out, which the CPU
// target splits into partial sums run in parallel, late (vidnet-cpu-parallelize-elementwise).
mlir::Value channelSumF64(Emitter &e, mlir::ValueRange full, mlir::ValueRange perChannel,
                          llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location, mlir::ValueRange)> term);

// channelSumF64 of a float32 term, extended exactly, rounded to float32 once at the end.
mlir::Value channelSum(Emitter &e, mlir::ValueRange full, mlir::ValueRange perChannel,
                       llvm::function_ref<mlir::Value(mlir::OpBuilder &, mlir::Location, mlir::ValueRange)> term);

// A conversion pattern that lowers one op with one function; the function replaces the op
// through the rewriter, or emits an error that says what is not supported and fails.
template <typename Op, mlir::LogicalResult (*Lower)(Op, mlir::ConversionPatternRewriter &)>
struct LoweringPattern : mlir::OpConversionPattern<Op> {
  using mlir::OpConversionPattern<Op>::OpConversionPattern;
  mlir::LogicalResult matchAndRewrite(Op op, typename Op::Adaptor,
                                      mlir::ConversionPatternRewriter &rewriter) const override {
    return Lower(op, rewriter);
  }
};

// A conv, conv_backward_data or conv_backward_filter with groups > 1 as a linalg.generic
// (LowerGroupedConvolutions.cpp); the groups = 1 patterns hand those over.
mlir::LogicalResult lowerGroupedConvolution(mlir::Operation *op, mlir::ConversionPatternRewriter &rewriter);

// The patterns of vidnet-lower-to-linalg, one function per op family.
void populateConvolutionLoweringPatterns(mlir::RewritePatternSet &patterns);
void populateBatchNormLoweringPatterns(mlir::RewritePatternSet &patterns);
void populateElementwiseLoweringPatterns(mlir::RewritePatternSet &patterns);
void populateHeadLoweringPatterns(mlir::RewritePatternSet &patterns);
void populateLossLoweringPatterns(mlir::RewritePatternSet &patterns);
void populatePoolingLoweringPatterns(mlir::RewritePatternSet &patterns);
void populateReshapeLoweringPatterns(mlir::RewritePatternSet &patterns);

} // namespace vidnet
