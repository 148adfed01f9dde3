// vidnet-derive-train-step: @forward -> @train_step (training-mode forward, loss, VJPs, SGD).
#include "compiler/transforms/Passes.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/TypeSwitch.h"

namespace vidnet {
#define GEN_PASS_DEF_DERIVETRAINSTEP
#include "compiler/transforms/Passes.h.inc"
} // namespace vidnet

using namespace mlir;

namespace {

struct TrainedBatchNorm {
  vidnet::BatchNormTrainOp op;
  Value runningMean, runningVar;
};

class TrainStepBuilder {
public:
  TrainStepBuilder(func::FuncOp forward) : forward_(forward), b_(forward.getContext()) {}

  func::FuncOp build() {
    FunctionType fwdType = forward_.getFunctionType();
    MLIRContext *ctx = forward_.getContext();
    auto clipsType = cast<RankedTensorType>(fwdType.getInput(0));
    auto logitsType = cast<RankedTensorType>(fwdType.getResult(0));
    int64_t batch = clipsType.getDimSize(0);
    Type f32 = Float32Type::get(ctx);

    SmallVector<Type> inputs = {clipsType, RankedTensorType::get({batch}, IntegerType::get(ctx, 64))};
    SmallVector<Type> results;
    SmallVector<unsigned> trainable;
    for (unsigned i = 1; i < fwdType.getNumInputs(); ++i) {
      inputs.push_back(fwdType.getInput(i));
      results.push_back(fwdType.getInput(i));
      if (!forward_.getArgAttr(i, "vidnet.state"))
        trainable.push_back(i);
    }
    for (unsigned i : trainable) {
      inputs.push_back(fwdType.getInput(i));
      results.push_back(fwdType.getInput(i));
    }
    inputs.push_back(RankedTensorType::get({3}, f32));
    results.push_back(RankedTensorType::get({}, f32));
    results.push_back(logitsType);

    b_.setInsertionPointAfter(forward_);
    Location loc = forward_.getLoc();
    auto step = func::FuncOp::create(b_, loc, "train_step", FunctionType::get(ctx, inputs, results));
    Block *entry = step.addEntryBlock();
    unsigned firstMomentum = fwdType.getNumInputs() + 1;
    for (unsigned i = 1; i < fwdType.getNumInputs(); ++i)
      for (NamedAttribute attr : forward_.getArgAttrDict(i) ? forward_.getArgAttrDict(i).getValue() : ArrayRef<NamedAttribute>{})
        step.setArgAttr(i + 1, attr.getName(), attr.getValue());
    for (auto [k, i] : llvm::enumerate(trainable))
      step.setArgAttr(firstMomentum + k, "vidnet.momentum", forward_.getArgAttr(i, "vidnet.name"));
    step.setArgAttr(1, "vidnet.name", b_.getStringAttr("labels"));
    step.setArgAttr(inputs.size() - 1, "vidnet.name", b_.getStringAttr("hyper"));

    IRMapping map;
    for (unsigned i = 0; i < fwdType.getNumInputs(); ++i)
      map.map(forward_.getArgument(i), entry->getArgument(i == 0 ? 0 : i + 1));
    for (unsigned i : trainable)
      needsGrad_.insert(entry->getArgument(i + 1));
    b_.setInsertionPointToEnd(entry);
    Value labels = entry->getArgument(1);

    // 1. The forward in training form.
    Value logits;
    for (Operation &op : forward_.front()) {
      if (auto ret = dyn_cast<func::ReturnOp>(op)) {
        logits = map.lookup(ret.getOperand(0));
        break;
      }
      Operation *copy;
      if (auto bn = dyn_cast<vidnet::BatchNormOp>(op)) {
        auto train = vidnet::BatchNormTrainOp::create(
            b_, bn.getLoc(), TypeRange{bn.getType(), bn.getGamma().getType(), bn.getGamma().getType()},
            map.lookup(bn.getInput()), map.lookup(bn.getGamma()), map.lookup(bn.getBeta()),
            bn.getEpsilonAttr());
        batchNorms_.push_back({train, map.lookup(bn.getRunningMean()), map.lookup(bn.getRunningVar())});
        map.map(bn.getResult(), train.getOutput());
        copy = train;
      } else {
        copy = b_.clone(op, map);
      }
      forwardOps_.push_back(copy);
      if (llvm::any_of(copy->getOperands(), [&](Value v) { return needsGrad_.contains(v); }))
        needsGrad_.insert(copy->getResult(0));
    }

    // 2. The loss and 3. the backward, one VJP per forward op in reverse order.
    Value loss = vidnet::SoftmaxCrossEntropyOp::create(b_, loc, RankedTensorType::get({}, f32), logits, labels);
    grads_[logits] = vidnet::SoftmaxCrossEntropyBackwardOp::create(b_, loc, logitsType, logits, labels);
    for (Operation *op : llvm::reverse(forwardOps_)) {
      Value dy = grads_.lookup(op->getResult(0));
      if (!dy)
        continue;
      b_.setInsertionPointToEnd(entry);
      if (failed(emitVjp(op, dy)))
        return {};
    }

    // 4. SGD for every trainable argument; running statistics for every BN.
    Value hyper = entry->getArgument(inputs.size() - 1);
    DenseMap<Value, Value> updated;
    SmallVector<Value> newMomentum;
    for (auto [k, i] : llvm::enumerate(trainable)) {
      Value param = entry->getArgument(i + 1);
      Value grad = grads_.lookup(param);
      if (!grad) {
        forward_.emitError("parameter ") << forward_.getArgAttr(i, "vidnet.name") << " does not affect the loss";
        return {};
      }
      auto sgd = vidnet::SgdUpdateOp::create(b_, loc, TypeRange{param.getType(), param.getType()}, param,
                                             grad, entry->getArgument(firstMomentum + k), hyper);
      updated[param] = sgd.getNewParam();
      newMomentum.push_back(sgd.getNewMomentumBuffer());
    }
    for (TrainedBatchNorm &bn : batchNorms_) {
      auto x = cast<RankedTensorType>(bn.op.getInput().getType());
      int64_t count = x.getNumElements() / x.getShape().back();
      auto stats = vidnet::RunningStatsUpdateOp::create(
          b_, bn.op.getLoc(), TypeRange{bn.runningMean.getType(), bn.runningMean.getType()}, bn.runningMean,
          bn.runningVar, bn.op.getBatchMean(), bn.op.getBatchVar(), b_.getF32FloatAttr(static_cast<float>(vidnet::kBatchNormMomentum)),
          b_.getI64IntegerAttr(count));
      updated[bn.runningMean] = stats.getNewRunningMean();
      updated[bn.runningVar] = stats.getNewRunningVar();
    }

    SmallVector<Value> returned;
    for (unsigned i = 1; i < fwdType.getNumInputs(); ++i) {
      Value arg = entry->getArgument(i + 1);
      returned.push_back(updated.lookup(arg) ? updated.lookup(arg) : arg);
    }
    returned.append(newMomentum);
    returned.push_back(loss);
    returned.push_back(logits);
    func::ReturnOp::create(b_, loc, returned);
    return step;
  }

private:
  void accumulate(Value v, Value grad) {
    if (!needsGrad_.contains(v))
      return;
    Value &slot = grads_[v];
    slot = slot ? vidnet::AddOp::create(b_, grad.getLoc(), slot, grad).getResult() : grad;
  }

  LogicalResult emitVjp(Operation *op, Value dy) {
    Location loc = op->getLoc();
    return llvm::TypeSwitch<Operation *, LogicalResult>(op)
        .Case([&](vidnet::ConvOp conv) {
          if (needsGrad_.contains(conv.getInput()))
            accumulate(conv.getInput(), vidnet::ConvBackwardDataOp::create(
                                            b_, loc, conv.getInput().getType(), dy, conv.getFilter(),
                                            conv.getStridesAttr(), conv.getPaddingAttr(), conv.getGroupsAttr()));
          accumulate(conv.getFilter(), vidnet::ConvBackwardFilterOp::create(
                                           b_, loc, conv.getFilter().getType(), conv.getInput(), dy,
                                           conv.getStridesAttr(), conv.getPaddingAttr(), conv.getGroupsAttr()));
          return success();
        })
        .Case([&](vidnet::BatchNormTrainOp bn) {
          auto back = vidnet::BatchNormTrainBackwardOp::create(
              b_, loc, TypeRange{bn.getInput().getType(), bn.getGamma().getType(), bn.getGamma().getType()}, dy,
              bn.getInput(), bn.getBatchMean(), bn.getBatchVar(), bn.getGamma(), bn.getEpsilonAttr());
          accumulate(bn.getInput(), back.getInputGrad());
          accumulate(bn.getGamma(), back.getGammaGrad());
          accumulate(bn.getBeta(), back.getBetaGrad());
          return success();
        })
        .Case([&](vidnet::ReluOp relu) {
          accumulate(relu.getInput(), vidnet::ReluBackwardOp::create(b_, loc, dy, relu.getOutput()));
          return success();
        })
        .Case([&](vidnet::AddOp add) {
          accumulate(add.getLhs(), dy);
          accumulate(add.getRhs(), dy);
          return success();
        })
        .Case([&](vidnet::GlobalAvgPoolOp pool) {
          accumulate(pool.getInput(),
                     vidnet::GlobalAvgPoolBackwardOp::create(b_, loc, pool.getInput().getType(), dy));
          return success();
        })
        .Case([&](vidnet::FoldTimeOp fold) {
          accumulate(fold.getInput(), vidnet::UnfoldTimeOp::create(b_, loc, fold.getInput().getType(), dy));
          return success();
        })
        .Case([&](vidnet::DenseOp dense) {
          auto back = vidnet::DenseBackwardOp::create(
              b_, loc,
              TypeRange{dense.getInput().getType(), dense.getWeight().getType(), dense.getBias().getType()}, dy,
              dense.getInput(), dense.getWeight());
          accumulate(dense.getInput(), back.getInputGrad());
          accumulate(dense.getWeight(), back.getWeightGrad());
          accumulate(dense.getBias(), back.getBiasGrad());
          return success();
        })
        .Case([&](vidnet::Conv2Plus1dOp o) {
          return o.emitOpError("run vidnet-decompose-2plus1d before vidnet-derive-train-step");
        })
        .Default([](Operation *o) { return o->emitOpError("has no VJP rule"); });
  }

  func::FuncOp forward_;
  OpBuilder b_;
  SmallVector<Operation *> forwardOps_;
  SmallVector<TrainedBatchNorm> batchNorms_;
  DenseSet<Value> needsGrad_;
  DenseMap<Value, Value> grads_;
};

struct DeriveTrainStep : vidnet::impl::DeriveTrainStepBase<DeriveTrainStep> {
  using DeriveTrainStepBase::DeriveTrainStepBase;

  void runOnOperation() override {
    auto forward = getOperation().lookupSymbol<func::FuncOp>("forward");
    if (!forward) {
      getOperation().emitError("vidnet-derive-train-step needs a @forward function");
      return signalPassFailure();
    }
    FunctionType type = forward.getFunctionType();
    if (type.getNumInputs() < 1 || type.getNumResults() < 1 || !forward.getBody().hasOneBlock()) {
      forward.emitError("vidnet-derive-train-step expects forward(clips, params...) -> (logits, ...) in one block");
      return signalPassFailure();
    }
    func::FuncOp step = TrainStepBuilder(forward).build();
    if (!step)
      return signalPassFailure();
    if (!keepForward)
      forward.erase();
  }
};

} // namespace
