// Verifiers of the `vidnet` ops: every shape relation the lowering relies on is checked here,
// with messages that give both shapes (the op's location names the spec line).
#include "dialects/vidnet/VidnetOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"

#define GET_OP_CLASSES
#include "dialects/vidnet/VidnetOps.cpp.inc"

using namespace mlir;

namespace {

std::string shapeString(ShapedType t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  llvm::interleave(t.getShape(), os, "x");
  return s;
}

LogicalResult verifyTriples(Operation *op, ArrayRef<int64_t> strides, ArrayRef<int64_t> padding) {
  if (strides.size() != 3 || padding.size() != 3)
    return op->emitOpError("strides and padding need 3 values (D, H, W), got ")
           << strides.size() << " and " << padding.size();
  for (int i = 0; i < 3; ++i) {
    if (strides[i] < 1)
      return op->emitOpError("stride ") << i << " must be positive, got " << strides[i];
    if (padding[i] < 0)
      return op->emitOpError("padding ") << i << " must be non-negative, got " << padding[i];
  }
  return success();
}

// Checks out = conv(in, kernel) on D, H, W (dims 1..3) and the batch dimension; `verb` names the
// window op in the message ("convolved", "pooled").
LogicalResult verifyConvShape(Operation *op, ShapedType in, ArrayRef<int64_t> kernel,
                              ArrayRef<int64_t> strides, ArrayRef<int64_t> padding, ShapedType out,
                              StringRef verb = "convolved") {
  if (out.getDimSize(0) != in.getDimSize(0))
    return op->emitOpError("batch of the result (") << out.getDimSize(0)
           << ") differs from the input's (" << in.getDimSize(0) << ")";
  for (int i = 0; i < 3; ++i) {
    int64_t expected = vidnet::convOutputExtent(in.getDimSize(i + 1), kernel[i], strides[i], padding[i]);
    if (expected < 1)
      return op->emitOpError("kernel ") << kernel[i] << " with padding " << padding[i]
             << " does not fit input extent " << in.getDimSize(i + 1) << " in dimension " << i + 1;
    if (out.getDimSize(i + 1) != expected)
      return op->emitOpError("result shape ") << shapeString(out) << " does not match input "
             << shapeString(in) << " " << verb << " with kernel " << kernel[0] << "x" << kernel[1] << "x"
             << kernel[2] << ": expected extent " << expected << " in dimension " << i + 1;
  }
  return success();
}

// PyTorch's max_pool3d rules: positive kernel and stride, 0 <= pad <= kernel / 2 (so no window
// lies wholly in the padding), and out = pool(in) with floor-mode extents, same batch and channels.
LogicalResult verifyMaxPool(Operation *op, ShapedType in, ArrayRef<int64_t> kernel, ArrayRef<int64_t> strides,
                            ArrayRef<int64_t> padding, ShapedType out) {
  if (!in.hasStaticShape() || !out.hasStaticShape())
    return op->emitOpError("needs static shapes");
  if (kernel.size() != 3 || strides.size() != 3 || padding.size() != 3)
    return op->emitOpError("kernel, strides and padding need 3 values (D, H, W), got ")
           << kernel.size() << ", " << strides.size() << " and " << padding.size();
  for (int i = 0; i < 3; ++i) {
    if (kernel[i] < 1 || strides[i] < 1)
      return op->emitOpError("kernel and stride must be positive, got kernel ")
             << kernel[i] << " and stride " << strides[i] << " in dimension " << i + 1;
    if (padding[i] < 0 || padding[i] > kernel[i] / 2)
      return op->emitOpError("padding ") << padding[i] << " in dimension " << i + 1
             << " must be between 0 and half of kernel " << kernel[i];
  }
  if (out.getDimSize(0) != in.getDimSize(0) || out.getDimSize(4) != in.getDimSize(4))
    return op->emitOpError("result shape ") << shapeString(out) << " must keep the batch and channels of input "
           << shapeString(in);
  return verifyConvShape(op, in, kernel, strides, padding, out, "pooled");
}

LogicalResult verifyChannelVectors(Operation *op, int64_t channels, ArrayRef<Value> vectors) {
  for (Value v : vectors) {
    int64_t n = cast<ShapedType>(v.getType()).getDimSize(0);
    if (n != channels)
      return op->emitOpError("batch-norm parameters have ") << n << " entries, expected "
             << channels << " (the channel dimension)";
  }
  return success();
}

} // namespace

LogicalResult vidnet::ConvOp::verify() {
  auto in = cast<ShapedType>(getInput().getType());
  auto filter = cast<ShapedType>(getFilter().getType());
  auto out = cast<ShapedType>(getOutput().getType());
  if (!in.hasStaticShape() || !filter.hasStaticShape() || !out.hasStaticShape())
    return emitOpError("needs static shapes");
  if (failed(verifyTriples(*this, getStrides(), getPadding())))
    return failure();
  int64_t groups = getGroups();
  int64_t c = in.getDimSize(4), f = filter.getDimSize(4);
  if (c % groups != 0 || f % groups != 0)
    return emitOpError("groups ") << groups << " must divide input channels " << c
           << " and output channels " << f;
  if (filter.getDimSize(3) * groups != c)
    return emitOpError("filter ") << shapeString(filter) << " expects " << filter.getDimSize(3) * groups
           << " input channels, the input " << shapeString(in) << " has " << c;
  if (out.getDimSize(4) != f)
    return emitOpError("result has ") << out.getDimSize(4) << " channels, the filter produces " << f;
  return verifyConvShape(*this, in, filter.getShape().take_front(3), getStrides(), getPadding(), out);
}

LogicalResult vidnet::Conv2Plus1dOp::verify() {
  auto in = cast<ShapedType>(getInput().getType());
  auto spatial = cast<ShapedType>(getSpatialFilter().getType());
  auto temporal = cast<ShapedType>(getTemporalFilter().getType());
  auto out = cast<ShapedType>(getOutput().getType());
  if (!in.hasStaticShape() || !spatial.hasStaticShape() || !temporal.hasStaticShape() ||
      !out.hasStaticShape())
    return emitOpError("needs static shapes");
  if (failed(verifyTriples(*this, getStrides(), getPadding())))
    return failure();
  int64_t mid = getMid();
  if (spatial.getDimSize(0) != 1 || spatial.getDimSize(3) != in.getDimSize(4) ||
      spatial.getDimSize(4) != mid)
    return emitOpError("spatial filter ") << shapeString(spatial) << " must be 1 x d x d x "
           << in.getDimSize(4) << " x " << mid << " (mid)";
  if (temporal.getDimSize(1) != 1 || temporal.getDimSize(2) != 1 || temporal.getDimSize(3) != mid ||
      temporal.getDimSize(4) != out.getDimSize(4))
    return emitOpError("temporal filter ") << shapeString(temporal) << " must be t x 1 x 1 x "
           << mid << " (mid) x " << out.getDimSize(4);
  if (failed(verifyChannelVectors(*this, mid, {getGamma()})))
    return failure();
  int64_t kernel[3] = {temporal.getDimSize(0), spatial.getDimSize(1), spatial.getDimSize(2)};
  return verifyConvShape(*this, in, kernel, getStrides(), getPadding(), out);
}

// Types of input/output and of the four channel vectors are equal by ODS traits.
LogicalResult vidnet::BatchNormOp::verify() {
  return verifyChannelVectors(*this, cast<ShapedType>(getInput().getType()).getShape().back(),
                              {getGamma()});
}

LogicalResult vidnet::BatchNormTrainOp::verify() {
  return verifyChannelVectors(*this, cast<ShapedType>(getInput().getType()).getShape().back(),
                              {getGamma()});
}

LogicalResult vidnet::MaxPoolOp::verify() {
  return verifyMaxPool(*this, cast<ShapedType>(getInput().getType()), getKernel(), getStrides(), getPadding(),
                       cast<ShapedType>(getOutput().getType()));
}

LogicalResult vidnet::FoldTimeOp::verify() {
  auto in = cast<ShapedType>(getInput().getType());
  auto out = cast<ShapedType>(getOutput().getType());
  if (out.getDimSize(0) != in.getDimSize(0) || out.getDimSize(1) != 1 ||
      out.getDimSize(2) != in.getDimSize(2) || out.getDimSize(3) != in.getDimSize(3) ||
      out.getDimSize(4) != in.getDimSize(1) * in.getDimSize(4))
    return emitOpError("result ") << shapeString(out) << " is not the input " << shapeString(in)
           << " with its frames folded into channels";
  return success();
}

LogicalResult vidnet::GlobalAvgPoolOp::verify() {
  auto in = cast<ShapedType>(getInput().getType());
  auto out = cast<ShapedType>(getOutput().getType());
  if (out.getDimSize(0) != in.getDimSize(0) || out.getDimSize(1) != in.getDimSize(4))
    return emitOpError("result ") << shapeString(out) << " must be N x C of the input "
           << shapeString(in);
  return success();
}

LogicalResult vidnet::DenseOp::verify() {
  auto in = cast<ShapedType>(getInput().getType());
  auto w = cast<ShapedType>(getWeight().getType());
  auto b = cast<ShapedType>(getBias().getType());
  auto out = cast<ShapedType>(getOutput().getType());
  if (w.getDimSize(0) != in.getDimSize(1))
    return emitOpError("weight ") << shapeString(w) << " needs " << in.getDimSize(1)
           << " rows for input " << shapeString(in);
  if (b.getDimSize(0) != w.getDimSize(1) || out.getDimSize(1) != w.getDimSize(1) ||
      out.getDimSize(0) != in.getDimSize(0))
    return emitOpError("bias ") << shapeString(b) << " and result " << shapeString(out)
           << " must match weight " << shapeString(w) << " and input " << shapeString(in);
  return success();
}

LogicalResult vidnet::SoftmaxCrossEntropyOp::verify() {
  auto logits = cast<ShapedType>(getLogits().getType());
  auto labels = cast<ShapedType>(getLabels().getType());
  if (labels.getDimSize(0) != logits.getDimSize(0))
    return emitOpError("has ") << labels.getDimSize(0) << " labels for a batch of "
           << logits.getDimSize(0);
  return success();
}

// The backward ops are checked against the forward op they differentiate: the conv whose input
// and output have these shapes must verify.
namespace {

// The forward conv's channel relation: its groups divide both channel counts.
LogicalResult verifyBackwardGroups(Operation *op, int64_t groups, int64_t inputChannels, int64_t outputChannels) {
  if (inputChannels % groups != 0 || outputChannels % groups != 0)
    return op->emitOpError("groups ") << groups << " must divide input channels " << inputChannels
           << " and output channels " << outputChannels;
  return success();
}

} // namespace

LogicalResult vidnet::ConvBackwardDataOp::verify() {
  auto dy = cast<ShapedType>(getOutputGrad().getType());
  auto filter = cast<ShapedType>(getFilter().getType());
  auto dx = cast<ShapedType>(getInputGrad().getType());
  if (!dy.hasStaticShape() || !filter.hasStaticShape() || !dx.hasStaticShape())
    return emitOpError("needs static shapes");
  if (failed(verifyTriples(*this, getStrides(), getPadding())))
    return failure();
  if (failed(verifyBackwardGroups(*this, getGroups(), dx.getDimSize(4), dy.getDimSize(4))))
    return failure();
  if (filter.getDimSize(3) * static_cast<int64_t>(getGroups()) != dx.getDimSize(4) || filter.getDimSize(4) != dy.getDimSize(4))
    return emitOpError("filter ") << shapeString(filter) << " does not map " << shapeString(dx)
           << " to " << shapeString(dy);
  return verifyConvShape(*this, dx, filter.getShape().take_front(3), getStrides(), getPadding(), dy);
}

// The gradient has the forward's result shape; the input's own shape is the result's (ODS).
LogicalResult vidnet::MaxPoolBackwardOp::verify() {
  return verifyMaxPool(*this, cast<ShapedType>(getInput().getType()), getKernel(), getStrides(), getPadding(),
                       cast<ShapedType>(getOutputGrad().getType()));
}

LogicalResult vidnet::ConvBackwardFilterOp::verify() {
  auto x = cast<ShapedType>(getInput().getType());
  auto dy = cast<ShapedType>(getOutputGrad().getType());
  auto dfilter = cast<ShapedType>(getFilterGrad().getType());
  if (!x.hasStaticShape() || !dy.hasStaticShape() || !dfilter.hasStaticShape())
    return emitOpError("needs static shapes");
  if (failed(verifyTriples(*this, getStrides(), getPadding())))
    return failure();
  if (failed(verifyBackwardGroups(*this, getGroups(), x.getDimSize(4), dy.getDimSize(4))))
    return failure();
  if (dfilter.getDimSize(3) * static_cast<int64_t>(getGroups()) != x.getDimSize(4) || dfilter.getDimSize(4) != dy.getDimSize(4))
    return emitOpError("filter gradient ") << shapeString(dfilter) << " does not map "
           << shapeString(x) << " to " << shapeString(dy);
  return verifyConvShape(*this, x, dfilter.getShape().take_front(3), getStrides(), getPadding(), dy);
}

// Types of the gradients and of the channel vectors are equal by ODS traits.
LogicalResult vidnet::BatchNormTrainBackwardOp::verify() {
  auto x = cast<ShapedType>(getInput().getType());
  if (x.getRank() < 1)
    return emitOpError("needs a channel dimension");
  return verifyChannelVectors(*this, x.getShape().back(), {getGamma()});
}

LogicalResult vidnet::SgdUpdateOp::verify() {
  int64_t n = cast<ShapedType>(getHyper().getType()).getDimSize(0);
  if (n != 3)
    return emitOpError("hyper holds (lr, momentum, weight_decay): expected 3 entries, got ") << n;
  return success();
}

LogicalResult vidnet::GlobalAvgPoolBackwardOp::verify() {
  auto dy = cast<ShapedType>(getOutputGrad().getType());
  auto dx = cast<ShapedType>(getInputGrad().getType());
  if (dy.getDimSize(0) != dx.getDimSize(0) || dy.getDimSize(1) != dx.getDimSize(4))
    return emitOpError("gradient ") << shapeString(dy) << " must be N x C of the result "
           << shapeString(dx);
  return success();
}

LogicalResult vidnet::UnfoldTimeOp::verify() {
  auto in = cast<ShapedType>(getInput().getType());
  auto out = cast<ShapedType>(getOutput().getType());
  if (in.getDimSize(0) != out.getDimSize(0) || in.getDimSize(1) != 1 ||
      in.getDimSize(2) != out.getDimSize(2) || in.getDimSize(3) != out.getDimSize(3) ||
      in.getDimSize(4) != out.getDimSize(1) * out.getDimSize(4))
    return emitOpError("input ") << shapeString(in) << " is not the result " << shapeString(out)
           << " with its frames folded into channels";
  return success();
}

LogicalResult vidnet::DenseBackwardOp::verify() {
  auto dy = cast<ShapedType>(getOutputGrad().getType());
  auto x = cast<ShapedType>(getInput().getType());
  auto w = cast<ShapedType>(getWeight().getType());
  if (dy.getDimSize(0) != x.getDimSize(0) || w.getDimSize(0) != x.getDimSize(1) ||
      w.getDimSize(1) != dy.getDimSize(1) || getInputGrad().getType() != x ||
      getWeightGrad().getType() != w ||
      cast<ShapedType>(getBiasGrad().getType()).getDimSize(0) != w.getDimSize(1))
    return emitOpError("shapes do not match a dense layer: dy ") << shapeString(dy) << ", x "
           << shapeString(x) << ", weight " << shapeString(w);
  return success();
}

LogicalResult vidnet::SoftmaxCrossEntropyBackwardOp::verify() {
  auto logits = cast<ShapedType>(getLogits().getType());
  if (cast<ShapedType>(getLabels().getType()).getDimSize(0) != logits.getDimSize(0) ||
      getLogitsGrad().getType() != logits)
    return emitOpError("needs one label per row and a gradient shaped like the logits ")
           << shapeString(logits);
  return success();
}
