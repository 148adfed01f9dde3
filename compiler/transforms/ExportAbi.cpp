// vidnet-export-abi: tensor-form @forward / @train_step -> C entry points over caller-owned
// flat buffers.
#include "compiler/transforms/BufferLayout.h"
#include "compiler/transforms/Passes.h"

#include "mlir/IR/Builders.h"

namespace vidnet {
#define GEN_PASS_DEF_EXPORTABI
#include "compiler/transforms/Passes.h.inc"
} // namespace vidnet

using namespace mlir;

namespace {

SmallVector<int64_t> rowMajorStrides(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int i = static_cast<int>(shape.size()) - 2; i >= 0; --i)
    strides[i] = strides[i + 1] * shape[i + 1];
  return strides;
}

// Rewrites `func`'s tensor arguments and results into memref arguments, in place.
class AbiRewriter {
public:
  AbiRewriter(func::FuncOp func, ArrayRef<Type> abi) : func_(func), b_(func.getContext()) {
    Block &entry = func.front();
    oldArgs_ = entry.getNumArguments();
    for (Type t : abi)
      buffers_.push_back(entry.addArgument(t, func.getLoc()));
    b_.setInsertionPointToStart(&entry);
  }

  Value buffer(unsigned i) const { return buffers_[i]; }

  // A tensor argument read whole from buffer `b`.
  void argFromBuffer(unsigned arg, unsigned b) {
    replaceArg(arg, bufferization::ToTensorOp::create(b_, func_.getLoc(), argType(arg), buffers_[b], true));
  }
  // A tensor argument read from its slot in a flat buffer.
  void argFromSlot(unsigned arg, unsigned b, const vidnet::BufferSlot &slot) {
    replaceArg(arg, bufferization::ToTensorOp::create(b_, func_.getLoc(), argType(arg), view(b, slot), true));
  }

  // Stores result `r` into buffer `b` (or its slot) instead of returning it; `finish` drops
  // the results.
  void resultToBuffer(unsigned r, unsigned b) { stores_.push_back({r, b, std::nullopt}); }
  void resultToSlot(unsigned r, unsigned b, const vidnet::BufferSlot &slot) { stores_.push_back({r, b, slot}); }

  void finish(ArrayRef<const char *> names, StringRef symbol) {
    Block &entry = func_.front();
    func_.walk([&](func::ReturnOp ret) {
      b_.setInsertionPoint(ret);
      for (const Store &s : stores_) {
        Value dest = s.slot ? view(s.buffer, *s.slot) : buffers_[s.buffer];
        auto store = bufferization::MaterializeInDestinationOp::create(b_, ret.getLoc(), ret.getOperand(s.result),
                                                                       dest);
        store.setRestrict(true);
        store.setWritable(true);
      }
      ret->setOperands({});
    });
    entry.eraseArguments(0, oldArgs_);
    SmallVector<Type> abi;
    for (Value v : buffers_)
      abi.push_back(v.getType());
    func_.setType(FunctionType::get(func_.getContext(), abi, {}));
    func_.setAllArgAttrs(ArrayRef<DictionaryAttr>{});
    for (auto [i, name] : llvm::enumerate(names))
      func_.setArgAttr(i, "vidnet.abi", b_.getStringAttr(name));
    func_.setSymName(symbol);
  }

private:
  struct Store {
    unsigned result, buffer;
    std::optional<vidnet::BufferSlot> slot;
  };

  RankedTensorType argType(unsigned arg) { return cast<RankedTensorType>(func_.getArgumentTypes()[arg]); }
  void replaceArg(unsigned arg, Value v) { func_.getArgument(arg).replaceAllUsesWith(v); }

  Value view(unsigned b, const vidnet::BufferSlot &slot) {
    SmallVector<int64_t> strides = rowMajorStrides(slot.shape);
    auto type = MemRefType::get(slot.shape, Float32Type::get(func_.getContext()),
                                StridedLayoutAttr::get(func_.getContext(), slot.offset, strides));
    return memref::ReinterpretCastOp::create(b_, func_.getLoc(), type, buffers_[b], slot.offset, slot.shape,
                                             strides);
  }

  func::FuncOp func_;
  OpBuilder b_;
  unsigned oldArgs_ = 0;
  SmallVector<Value> buffers_;
  SmallVector<Store> stores_;
};

MemRefType memrefOf(Type tensor) {
  auto t = cast<RankedTensorType>(tensor);
  return MemRefType::get(t.getShape(), t.getElementType());
}

// With `prepare` (the CPU target's @forward_prepare), forward takes the prepared buffer after
// the state: void vidnet_forward(clips, params, state, prepared, logits[, features]).
LogicalResult exportForward(func::FuncOp forward, func::FuncOp prepare) {
  FunctionType type = forward.getFunctionType();
  if (type.getNumInputs() < 1 || type.getNumResults() < 1 || type.getNumResults() > 2 ||
      !llvm::all_of(type.getInputs(), llvm::IsaPred<RankedTensorType>) ||
      !llvm::all_of(type.getResults(), llvm::IsaPred<RankedTensorType>))
    return forward.emitError("vidnet-export-abi expects forward(tensor...) -> (logits[, features])");
  vidnet::BufferLayout layout = vidnet::layoutForwardArguments(forward);
  // The prepared tensors in a buffer of their own, laid out like the weights (none is state).
  vidnet::BufferLayout preparedLayout =
      vidnet::layoutArguments(forward, vidnet::firstPreparedArgument(forward), forward.getNumArguments());
  const std::vector<vidnet::BufferSlot> &prepared = preparedLayout.slots;
  const int64_t preparedElements = preparedLayout.paramElements;
  if (!prepare && !prepared.empty())
    return forward.emitError("forward has prepared arguments but the module has no @forward_prepare");
  Type f32 = Float32Type::get(forward.getContext());
  SmallVector<Type> buffers = {memrefOf(type.getInput(0)), MemRefType::get({layout.paramElements}, f32),
                               MemRefType::get({layout.stateElements}, f32)};
  SmallVector<const char *> names = {"clips", "params", "state"};
  const unsigned clips = 0, params = 1, state = 2, preparedBuffer = 3;
  if (prepare) {
    buffers.push_back(MemRefType::get({preparedElements}, f32));
    names.push_back("prepared");
  }
  const unsigned logits = buffers.size(), features = logits + 1;
  buffers.push_back(memrefOf(type.getResult(0)));
  names.push_back("logits");
  if (type.getNumResults() == 2) {
    buffers.push_back(memrefOf(type.getResult(1)));
    names.push_back("features");
  }
  AbiRewriter abi(forward, buffers);
  abi.argFromBuffer(0, clips);
  for (auto [i, slot] : llvm::enumerate(layout.slots))
    abi.argFromSlot(i + 1, slot.state ? state : params, slot);
  for (auto [i, slot] : llvm::enumerate(prepared))
    abi.argFromSlot(i + 1 + layout.slots.size(), preparedBuffer, slot);
  abi.resultToBuffer(0, logits);
  if (type.getNumResults() == 2)
    abi.resultToBuffer(1, features);
  abi.finish(names, "vidnet_forward");
  if (!prepare)
    return success();

  // void vidnet_forward_prepare(const float *params, const float *state, float *prepared), and
  // int64_t vidnet_forward_prepared_elements(): the size of that buffer, for the runtime.
  if (prepare.getNumArguments() != layout.slots.size() || prepare.getNumResults() != prepared.size())
    return prepare.emitError("@forward_prepare does not match @forward's weights and prepared arguments");
  AbiRewriter prep(prepare, {MemRefType::get({layout.paramElements}, f32), MemRefType::get({layout.stateElements}, f32),
                             MemRefType::get({preparedElements}, f32)});
  for (auto [i, slot] : llvm::enumerate(layout.slots))
    prep.argFromSlot(i, slot.state ? 1 : 0, slot);
  for (auto [i, slot] : llvm::enumerate(prepared))
    prep.resultToSlot(i, 2, slot);
  prep.finish({"params", "state", "prepared"}, "vidnet_forward_prepare");
  OpBuilder b(prepare);
  b.setInsertionPointAfter(prepare);
  auto size = func::FuncOp::create(b, prepare.getLoc(), "vidnet_forward_prepared_elements",
                                   b.getFunctionType({}, {b.getI64Type()}));
  b.setInsertionPointToStart(size.addEntryBlock());
  func::ReturnOp::create(
      b, prepare.getLoc(),
      ValueRange{arith::ConstantOp::create(b, prepare.getLoc(), b.getI64IntegerAttr(preparedElements)).getResult()});
  return success();
}

// train_step(clips, labels, tensors..., momentum..., hyper) -> (tensors..., momentum..., loss,
// logits), as vidnet-derive-train-step builds it: old and new values in separate buffers, so
// the runtime swaps pointers after a step instead of the code updating in place.
LogicalResult exportTrainStep(func::FuncOp step) {
  FunctionType type = step.getFunctionType();
  unsigned firstMomentum = 2;
  while (firstMomentum + 1 < type.getNumInputs() && !step.getArgAttr(firstMomentum, "vidnet.momentum"))
    ++firstMomentum;
  unsigned tensors = firstMomentum - 2, momenta = type.getNumInputs() - 1 - firstMomentum;
  if (type.getNumInputs() < 3 || type.getNumResults() != tensors + momenta + 2)
    return step.emitError("vidnet-export-abi expects train_step as vidnet-derive-train-step builds it");
  vidnet::BufferLayout layout = vidnet::layoutArguments(step, 2, firstMomentum);
  Type f32 = Float32Type::get(step.getContext());
  auto params = MemRefType::get({layout.paramElements}, f32);
  auto state = MemRefType::get({layout.stateElements}, f32);
  enum { Clips, Labels, Params, State, Momentum, Hyper, NewParams, NewState, NewMomentum, Loss, Logits };
  AbiRewriter abi(step, {memrefOf(type.getInput(0)), memrefOf(type.getInput(1)), params, state, params,
                         memrefOf(type.getInputs().back()), params, state, params,
                         memrefOf(type.getResult(tensors + momenta)), memrefOf(type.getResults().back())});
  abi.argFromBuffer(0, Clips);
  abi.argFromBuffer(1, Labels);
  unsigned momentum = 0;
  for (auto [i, slot] : llvm::enumerate(layout.slots)) {
    abi.argFromSlot(i + 2, slot.state ? State : Params, slot);
    abi.resultToSlot(i, slot.state ? NewState : NewParams, slot);
    if (!slot.state) {
      abi.argFromSlot(firstMomentum + momentum, Momentum, slot);
      abi.resultToSlot(tensors + momentum, NewMomentum, slot);
      ++momentum;
    }
  }
  if (momentum != momenta)
    return step.emitError("train_step has ") << momenta << " momentum buffers for " << momentum << " trainable tensors";
  abi.argFromBuffer(type.getNumInputs() - 1, Hyper);
  abi.resultToBuffer(tensors + momenta, Loss);
  abi.resultToBuffer(tensors + momenta + 1, Logits);
  abi.finish({"clips", "labels", "params", "state", "momentum", "hyper", "new_params", "new_state", "new_momentum",
              "loss", "logits"},
             "vidnet_train_step");
  return success();
}

struct ExportAbi : vidnet::impl::ExportAbiBase<ExportAbi> {
  void runOnOperation() override {
    if (auto forward = getOperation().lookupSymbol<func::FuncOp>("forward"))
      if (failed(exportForward(forward, getOperation().lookupSymbol<func::FuncOp>(vidnet::kForwardPrepareName))))
        return signalPassFailure();
    if (auto step = getOperation().lookupSymbol<func::FuncOp>("train_step"))
      if (failed(exportTrainStep(step)))
        return signalPassFailure();
  }
};

} // namespace
