// Emission of the `vidnet` forward function from a ModelGraph.
#include "compiler/MLIRGen.h"

#include "dialects/vidnet/VidnetOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"

#include <map>

namespace vidnet {

void loadMLIRGenDialects(mlir::MLIRContext &context) {
  context.loadDialect<VidnetDialect, mlir::func::FuncDialect>();
}

namespace {

// PyTorch layout -> channels-last: conv O x I x T x H x W becomes T x H x W x I x O, the
// fc weight O x I becomes I x O; vectors stay as they are.
std::vector<int64_t> channelsLast(const std::vector<int64_t> &shape) {
  if (shape.size() == 5)
    return {shape[2], shape[3], shape[4], shape[1], shape[0]};
  if (shape.size() == 2)
    return {shape[1], shape[0]};
  return shape;
}

class Generator {
public:
  Generator(mlir::MLIRContext &context, const ModelGraph &graph, int64_t batch)
      : ctx_(context), g_(graph), batch_(batch), builder_(&context) {}

  mlir::OwningOpRef<mlir::ModuleOp> run() {
    mlir::Location fileLoc = mlir::FileLineColLoc::get(&ctx_, g_.specPath, 1, 1);
    mlir::OwningOpRef<mlir::ModuleOp> module = mlir::ModuleOp::create(fileLoc, g_.name);

    // Arguments: the clip batch, then every float tensor a forward op reads.
    std::vector<mlir::Type> argTypes = {activation(g_.input)};
    std::vector<mlir::Attribute> argNames = {builder_.getStringAttr("input")};
    std::vector<unsigned> stateArgs;
    for (const Layer &l : g_.layers)
      for (const TensorInfo &t : l.tensors)
        if (!t.isInteger) {
          argIndex_[t.name] = static_cast<unsigned>(argTypes.size());
          if (!t.trainable)
            stateArgs.push_back(argIndex_[t.name]);
          std::vector<int64_t> shape = channelsLast(t.shape);
          argTypes.push_back(mlir::RankedTensorType::get(shape, builder_.getF32Type()));
          argNames.push_back(builder_.getStringAttr(t.name));
        }
    // Results: the logits, then the pooled features the classifier reads (for `vidrun
    // features`: returning them costs a copy of N x C floats, a second entry point would
    // compile the whole network twice).
    std::vector<mlir::Type> resultTypes = {
        mlir::RankedTensorType::get({batch_, g_.classes}, builder_.getF32Type()),
        mlir::RankedTensorType::get({batch_, g_.featureWidth()}, builder_.getF32Type())};
    auto func = mlir::func::FuncOp::create(builder_, fileLoc, "forward",
                                           builder_.getFunctionType(argTypes, resultTypes));
    for (unsigned i = 0; i < argNames.size(); ++i)
      func.setArgAttr(i, "vidnet.name", argNames[i]);
    for (unsigned i : stateArgs)
      func.setArgAttr(i, "vidnet.state", builder_.getUnitAttr());
    module->push_back(func);
    mlir::Block *entry = func.addEntryBlock();
    builder_.setInsertionPointToStart(entry);
    args_ = entry->getArguments();

    for (const Layer &l : g_.layers)
      values_.push_back(emit(l));
    mlir::func::ReturnOp::create(builder_, fileLoc,
                                 mlir::ValueRange{values_.back(), input(g_.layers.back())});
    return module;
  }

private:
  mlir::RankedTensorType activation(const Shape &s) {
    return mlir::RankedTensorType::get({batch_, s.l, s.h, s.w, s.c}, builder_.getF32Type());
  }
  mlir::Value input(const Layer &l, size_t i = 0) {
    int index = l.inputs.at(i);
    return index < 0 ? args_[0] : values_[static_cast<size_t>(index)];
  }
  mlir::Value param(const Layer &l, TensorRole role) { return args_[argIndex_.at(l.tensorName(role))]; }
  mlir::DenseI64ArrayAttr triple(const Dims3 &d) { return builder_.getDenseI64ArrayAttr({d.t, d.h, d.w}); }

  mlir::Value emit(const Layer &l) {
    mlir::Location loc = mlir::FileLineColLoc::get(&ctx_, g_.specPath, l.loc.line, l.loc.col);
    loc = mlir::NameLoc::get(builder_.getStringAttr(l.name), loc);
    mlir::FloatAttr eps = builder_.getF32FloatAttr(g_.bnEpsilon);
    switch (l.kind) {
    case LayerKind::FoldTime:
      return FoldTimeOp::create(builder_, loc, activation(l.output), input(l));
    case LayerKind::Conv:
      return ConvOp::create(builder_, loc, activation(l.output), input(l), param(l, TensorRole::ConvWeight),
                            triple(l.stride), triple(l.pad), builder_.getI64IntegerAttr(l.groups));
    case LayerKind::Conv2Plus1d:
      return Conv2Plus1dOp::create(builder_, loc, activation(l.output), input(l), param(l, TensorRole::SpatialWeight),
                                   param(l, TensorRole::BnGamma), param(l, TensorRole::BnBeta),
                                   param(l, TensorRole::BnRunningMean), param(l, TensorRole::BnRunningVar),
                                   param(l, TensorRole::TemporalWeight), builder_.getI64IntegerAttr(l.mid),
                                   triple(l.stride), triple(l.pad), eps);
    case LayerKind::BatchNorm:
      return BatchNormOp::create(builder_, loc, input(l), param(l, TensorRole::BnGamma), param(l, TensorRole::BnBeta),
                                 param(l, TensorRole::BnRunningMean), param(l, TensorRole::BnRunningVar), eps);
    case LayerKind::ReLU:
      return ReluOp::create(builder_, loc, input(l));
    case LayerKind::Add:
      return AddOp::create(builder_, loc, input(l, 0), input(l, 1));
    case LayerKind::MaxPool:
      return MaxPoolOp::create(builder_, loc, activation(l.output), input(l), triple(l.kernel), triple(l.stride),
                               triple(l.pad));
    case LayerKind::GlobalAvgPool:
      return GlobalAvgPoolOp::create(
          builder_, loc, mlir::RankedTensorType::get({batch_, l.output.c}, builder_.getF32Type()),
          input(l));
    case LayerKind::Linear:
      return DenseOp::create(builder_, loc,
                             mlir::RankedTensorType::get({batch_, l.outChannels}, builder_.getF32Type()),
                             input(l), param(l, TensorRole::LinearWeight), param(l, TensorRole::LinearBias));
    }
    return {};
  }

  mlir::MLIRContext &ctx_;
  const ModelGraph &g_;
  int64_t batch_;
  mlir::OpBuilder builder_;
  std::map<std::string, unsigned> argIndex_;
  mlir::Block::BlockArgListType args_;
  std::vector<mlir::Value> values_;
};

} // namespace

mlir::OwningOpRef<mlir::ModuleOp> generateForward(mlir::MLIRContext &context, const ModelGraph &graph,
                                                  int64_t batch) {
  return Generator(context, graph, batch).run();
}

} // namespace vidnet
