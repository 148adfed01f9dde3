// How each vidnet op is trained and differentiated: the VJP rule of every differentiable op and
// the training form of batch norm (the methods of the interfaces in VidnetInterfaces.td).
#include "dialects/vidnet/VidnetOps.h"

#include "dialects/vidnet/VidnetInterfaces.cpp.inc"

using namespace mlir;

namespace vidnet {

LogicalResult ConvOp::emitVjp(OpBuilder &b, Value dy, Cotangents &cotangents) {
  Location loc = getLoc();
  if (cotangents.needed(getInput()))
    cotangents.add(getInput(), ConvBackwardDataOp::create(b, loc, getInput().getType(), dy, getFilter(),
                                                           getStridesAttr(), getPaddingAttr(), getGroupsAttr()));
  if (cotangents.needed(getFilter()))
    cotangents.add(getFilter(), ConvBackwardFilterOp::create(b, loc, getFilter().getType(), getInput(), dy,
                                                              getStridesAttr(), getPaddingAttr(), getGroupsAttr()));
  return success();
}

// Batch norm trains with the batch's statistics and, as PyTorch does during the forward,
// moves its running statistics towards them (momentum 0.1, unbiased variance).
Operation *BatchNormOp::emitTrainingForm(OpBuilder &b, IRMapping &mapping, StateUpdates &state) {
  Location loc = getLoc();
  Type channelVector = getGamma().getType();
  auto train = BatchNormTrainOp::create(b, loc, TypeRange{getType(), channelVector, channelVector},
                                        mapping.lookup(getInput()), mapping.lookup(getGamma()),
                                        mapping.lookup(getBeta()), getEpsilonAttr());
  mapping.map(getResult(), train.getOutput());
  auto x = cast<RankedTensorType>(getInput().getType());
  int64_t count = x.getNumElements() / x.getShape().back();
  Value mean = mapping.lookup(getRunningMean()), var = mapping.lookup(getRunningVar());
  auto stats = RunningStatsUpdateOp::create(b, loc, TypeRange{mean.getType(), var.getType()}, mean, var,
                                            train.getBatchMean(), train.getBatchVar(),
                                            b.getF32FloatAttr(static_cast<float>(kBatchNormMomentum)),
                                            b.getI64IntegerAttr(count));
  state.replace(mean, stats.getNewRunningMean());
  state.replace(var, stats.getNewRunningVar());
  return train;
}

LogicalResult BatchNormTrainOp::emitVjp(OpBuilder &b, Value dy, Cotangents &cotangents) {
  Type channelVector = getGamma().getType();
  auto back = BatchNormTrainBackwardOp::create(b, getLoc(), TypeRange{getInput().getType(), channelVector, channelVector},
                                               dy, getInput(), getBatchMean(), getBatchVar(), getGamma(),
                                               getEpsilonAttr());
  if (cotangents.needed(getInput()))
    cotangents.add(getInput(), back.getInputGrad());
  if (cotangents.needed(getGamma()))
    cotangents.add(getGamma(), back.getGammaGrad());
  if (cotangents.needed(getBeta()))
    cotangents.add(getBeta(), back.getBetaGrad());
  return success();
}

LogicalResult ReluOp::emitVjp(OpBuilder &b, Value dy, Cotangents &cotangents) {
  if (cotangents.needed(getInput()))
    cotangents.add(getInput(), ReluBackwardOp::create(b, getLoc(), dy, getOutput()));
  return success();
}

LogicalResult AddOp::emitVjp(OpBuilder &, Value dy, Cotangents &cotangents) {
  for (Value operand : {getLhs(), getRhs()})
    if (cotangents.needed(operand))
      cotangents.add(operand, dy);
  return success();
}

LogicalResult GlobalAvgPoolOp::emitVjp(OpBuilder &b, Value dy, Cotangents &cotangents) {
  if (cotangents.needed(getInput()))
    cotangents.add(getInput(), GlobalAvgPoolBackwardOp::create(b, getLoc(), getInput().getType(), dy));
  return success();
}

LogicalResult MaxPoolOp::emitVjp(OpBuilder &b, Value dy, Cotangents &cotangents) {
  if (cotangents.needed(getInput()))
    cotangents.add(getInput(), MaxPoolBackwardOp::create(b, getLoc(), getInput().getType(), dy, getInput(),
                                                         getKernelAttr(), getStridesAttr(), getPaddingAttr()));
  return success();
}

LogicalResult FoldTimeOp::emitVjp(OpBuilder &b, Value dy, Cotangents &cotangents) {
  if (cotangents.needed(getInput()))
    cotangents.add(getInput(), UnfoldTimeOp::create(b, getLoc(), getInput().getType(), dy));
  return success();
}

LogicalResult DenseOp::emitVjp(OpBuilder &b, Value dy, Cotangents &cotangents) {
  auto back = DenseBackwardOp::create(
      b, getLoc(), TypeRange{getInput().getType(), getWeight().getType(), getBias().getType()}, dy, getInput(),
      getWeight());
  if (cotangents.needed(getInput()))
    cotangents.add(getInput(), back.getInputGrad());
  if (cotangents.needed(getWeight()))
    cotangents.add(getWeight(), back.getWeightGrad());
  if (cotangents.needed(getBias()))
    cotangents.add(getBias(), back.getBiasGrad());
  return success();
}

} // namespace vidnet
