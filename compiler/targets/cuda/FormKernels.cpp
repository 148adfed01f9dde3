// vidnet-cuda-form-kernels: each linalg.generic of a bufferized entry point -> one gpu.launch,
// with zero padding read in place, constant inits folded and elementwise epilogues fused.
#include "compiler/targets/cuda/BufferViews.h"
#include "compiler/targets/cuda/CudaPasses.h"
#include "compiler/transforms/LinalgBuilders.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Utils/Utils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"

namespace vidnet::cuda {
#define GEN_PASS_DEF_FORMKERNELS
#include "compiler/targets/cuda/CudaPasses.h.inc"
} // namespace vidnet::cuda

using namespace mlir;
using vidnet::cuda::isView;
using vidnet::cuda::rootOf;

namespace {

constexpr int64_t kThreadsPerBlock = 256;
// A sum with fewer output elements than this is split over its reduction: one thread per output
// element left an H100 mostly idle (r3d_18's stem filter gradient: 192 threads each summing
// 50,176 products; BN statistics: 64 threads). About what an H100 or H200 holds at once (132 SMs
// x 2048 threads): below 32,768, r3d_18's layer4 convolutions (50,176 outputs, 13,824 products
// each) ran as 196 blocks of one long chain per thread, 2.6 ms each. On an H200 this bound (and
// the target below) against 32,768 (and 131,072), bundles alternating: r3d_18's step at batch 2
// 88 ms against 117, r2plus1d_18's 80 against 98; the forwards 1-35% faster.
constexpr int64_t kSplitBelowThreads = 262144;
// The split aims at this many threads, each summing at least kMinSplitIterations terms.
constexpr int64_t kSplitTargetThreads = 524288;
constexpr int64_t kMinSplitIterations = 128;

bool allParallel(linalg::GenericOp op) { return llvm::all_of(op.getIteratorTypesArray(), linalg::isParallelIterator); }

// The scalar a fill-like generic writes everywhere (a linalg.fill or an input-less map after
// generalization), or null.
Value filledValue(linalg::GenericOp op) {
  if (op.getNumDpsInits() != 1 || !allParallel(op))
    return {};
  for (OpOperand *in : op.getDpsInputOperands())
    if (isa<ShapedType>(in->get().getType()))
      return {};
  Value yielded = op.getBlock()->getTerminator()->getOperand(0);
  if (auto arg = dyn_cast<BlockArgument>(yielded)) {
    if (arg.getOwner() != op.getBlock() || arg.getArgNumber() >= op.getNumDpsInputs())
      return {};
    return op.getDpsInputOperand(arg.getArgNumber())->get();
  }
  if (yielded.getParentRegion() == &op.getRegion())
    return {};
  return yielded;
}

bool isZero(Value v) { return v && matchPattern(v, m_AnyZeroFloat()); }

// How a sum is split: `parts` threads per output element, each over a contiguous range of the
// first `prefix` reduction dimensions flattened (and all of the others).
struct Split {
  int64_t parts = 1;
  unsigned prefix = 0;
  int64_t prefixExtent = 1;
};

Split splitOf(linalg::GenericOp op, ArrayRef<int64_t> ranges, ArrayRef<unsigned> reduction, int64_t outputs) {
  int64_t terms = 1;
  for (unsigned d : reduction)
    terms *= ranges[d];
  if (outputs >= kSplitBelowThreads || !vidnet::isFloatSum(op) || terms < 2 * kMinSplitIterations)
    return {};
  const int64_t target =
      std::min<int64_t>(llvm::divideCeil(kSplitTargetThreads, outputs), terms / kMinSplitIterations);
  Split split;
  while (split.prefix < reduction.size() && split.prefixExtent < target)
    split.prefixExtent *= ranges[reduction[split.prefix++]];
  for (int64_t parts = std::min(target, split.prefixExtent); parts > 1; --parts)
    if (split.prefixExtent % parts == 0) {
      split.parts = parts;
      return split;
    }
  return {};
}

// An identity copy of one shaped input into one output.
bool isCopy(linalg::GenericOp op) {
  return vidnet::movesElements(op) &&
         llvm::all_of(op.getIndexingMapsArray(), [](AffineMap m) { return m.isIdentity(); });
}

// A zero-padded buffer never materialized: reads at `offsets + i` come from source[i].
struct PaddedBuffer {
  Value source;
  SmallVector<int64_t> offsets;
  SmallVector<Operation *> builders; // fill, subview, copy: erased with the allocation
};

class KernelFormer {
public:
  explicit KernelFormer(func::FuncOp func) : func_(func) {}

  LogicalResult run() {
    findPaddedBuffers();
    SmallVector<linalg::GenericOp> ops;
    for (Operation &op : func_.getBody().front())
      if (auto generic = dyn_cast<linalg::GenericOp>(op))
        ops.push_back(generic);
    // Inits first: a fill comes before the op it initializes.
    for (linalg::GenericOp op : ops)
      if (!consumed_.contains(op) && !filledValue(op))
        for (OpOperand &out : op.getDpsInitsMutable())
          if (linalg::GenericOp fill = foldableInit(op, out)) {
            inits_[&out] = fill;
            consumed_.insert(fill);
          }
    for (linalg::GenericOp op : ops) {
      if (consumed_.contains(op))
        continue;
      if (failed(form(op)))
        return failure();
    }
    for (Operation *op : llvm::reverse(toErase_))
      op->erase();
    for (auto &[alloc, pad] : padded_) {
      for (Operation *op : llvm::reverse(pad.builders))
        op->erase();
      if (alloc.use_empty())
        alloc.getDefiningOp()->erase();
    }
    return checkHost();
  }

private:
  // Only zero fill, one interior copy and generic readers.
  void findPaddedBuffers() {
    func_.walk([&](memref::AllocOp alloc) {
      Value buffer = alloc.getResult();
      linalg::GenericOp fill, copy;
      memref::SubViewOp interior;
      for (Operation *user : buffer.getUsers()) {
        auto generic = dyn_cast<linalg::GenericOp>(user);
        if (auto view = dyn_cast<memref::SubViewOp>(user)) {
          if (interior || !view->hasOneUse())
            return;
          interior = view;
          copy = dyn_cast<linalg::GenericOp>(*view->getUsers().begin());
          if (!copy || !isCopy(copy) || copy.getDpsInitOperand(0)->get() != view.getResult())
            return;
        } else if (generic && generic.getNumDpsInits() == 1 && generic.getDpsInitOperand(0)->get() == buffer) {
          if (fill || !isZero(filledValue(generic)))
            return;
          fill = generic;
        } else if (!generic ||
                   llvm::any_of(generic.getDpsInitsMutable(), [&](OpOperand &o) { return o.get() == buffer; })) {
          return;
        }
      }
      if (!fill || !interior || !interior.hasUnitStride() || !fill->isBeforeInBlock(copy))
        return;
      Operation *lastReader = copy;
      for (Operation *user : buffer.getUsers()) {
        if (user == fill || user == interior)
          continue;
        if (!copy->isBeforeInBlock(user))
          return;
        if (lastReader->isBeforeInBlock(user))
          lastReader = user;
      }
      // Readers load the source later than the copy did: nothing may overwrite it in between
      // (bufferization writes in place into buffers whose tensors are dead, such as a pad's).
      Value sourceRoot = rootOf(copy.getDpsInputOperand(0)->get());
      for (Operation *op = copy->getNextNode(); op != lastReader; op = op->getNextNode())
        if (auto writer = dyn_cast<linalg::GenericOp>(op))
          for (OpOperand &init : writer.getDpsInitsMutable())
            if (rootOf(init.get()) == sourceRoot)
              return;
      PaddedBuffer pad{
          copy.getDpsInputOperand(0)->get(), SmallVector<int64_t>(interior.getStaticOffsets()), {fill, interior, copy}};
      if (llvm::any_of(pad.offsets, ShapedType::isDynamic))
        return;
      padded_[buffer] = std::move(pad);
      for (Operation *op : {fill.getOperation(), copy.getOperation()})
        consumed_.insert(op);
    });
  }

  // The value of `memref[indices]`, reading padded buffers from their source.
  Value read(OpBuilder &b, Location loc, Value memref, ArrayRef<Value> indices) {
    auto it = padded_.find(memref);
    if (it == padded_.end())
      return memref::LoadOp::create(b, loc, memref, indices);
    const PaddedBuffer &pad = it->second;
    auto sourceShape = cast<MemRefType>(pad.source.getType()).getShape();
    auto paddedShape = cast<MemRefType>(memref.getType()).getShape();
    Value inside;
    SmallVector<Value> sourceIndices;
    for (auto [i, index] : llvm::enumerate(indices)) {
      if (pad.offsets[i] == 0 && sourceShape[i] == paddedShape[i]) {
        sourceIndices.push_back(index);
        continue;
      }
      // One unsigned compare: below the offset wraps around to a huge index.
      Value shifted = arith::SubIOp::create(b, loc, index, arith::ConstantIndexOp::create(b, loc, pad.offsets[i]));
      Value ok = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, shifted,
                                       arith::ConstantIndexOp::create(b, loc, sourceShape[i]));
      inside = inside ? arith::AndIOp::create(b, loc, inside, ok).getResult() : ok;
      sourceIndices.push_back(shifted);
    }
    Type element = cast<MemRefType>(memref.getType()).getElementType();
    if (!inside)
      return memref::LoadOp::create(b, loc, pad.source, sourceIndices);
    auto branch = scf::IfOp::create(b, loc, TypeRange{element}, inside, true, true);
    OpBuilder then = branch.getThenBodyBuilder();
    scf::YieldOp::create(then, loc, ValueRange{memref::LoadOp::create(then, loc, pad.source, sourceIndices)});
    OpBuilder otherwise = branch.getElseBodyBuilder();
    scf::YieldOp::create(otherwise, loc,
                         ValueRange{arith::ConstantOp::create(otherwise, loc, otherwise.getZeroAttr(element))});
    return branch.getResult(0);
  }

  static SmallVector<Value> apply(OpBuilder &b, Location loc, AffineMap map, ArrayRef<Value> ivs) {
    SmallVector<Value> r;
    for (AffineExpr e : map.getResults()) {
      if (auto dim = dyn_cast<AffineDimExpr>(e))
        r.push_back(ivs[dim.getPosition()]);
      else if (auto c = dyn_cast<AffineConstantExpr>(e))
        r.push_back(arith::ConstantIndexOp::create(b, loc, c.getValue()));
      else
        r.push_back(affine::AffineApplyOp::create(b, loc, AffineMap::get(map.getNumDims(), 0, e), ivs));
    }
    return r;
  }

  // The body of `op` at iteration `ivs`; operands in `given` (operand number -> value) are not
  // loaded. Outputs whose block argument is used are loaded unless given.
  SmallVector<Value> body(OpBuilder &b, Location loc, linalg::GenericOp op, ArrayRef<Value> ivs,
                          const DenseMap<unsigned, Value> &given) {
    IRMapping map;
    Block *block = op.getBlock();
    for (OpOperand &operand : op->getOpOperands()) {
      BlockArgument arg = op.getMatchingBlockArgument(&operand);
      if (auto it = given.find(operand.getOperandNumber()); it != given.end())
        map.map(arg, it->second);
      else if (!isa<ShapedType>(operand.get().getType()))
        map.map(arg, operand.get());
      else if (!arg.use_empty())
        map.map(arg, read(b, loc, operand.get(), apply(b, loc, op.getMatchingIndexingMap(&operand), ivs)));
    }
    for (Operation &inner : block->without_terminator()) {
      if (auto index = dyn_cast<linalg::IndexOp>(inner))
        map.map(index.getResult(), ivs[index.getDim()]);
      else
        b.clone(inner, map);
    }
    SmallVector<Value> results;
    for (Value v : block->getTerminator()->getOperands())
      results.push_back(map.lookupOrDefault(v));
    return results;
  }

  // The constant fill `out` got last, if nothing else touched the buffer since and `op`
  // overwrites all of it.
  linalg::GenericOp foldableInit(linalg::GenericOp op, OpOperand &out) {
    AffineMap map = op.getMatchingIndexingMap(&out);
    if (!map.isProjectedPermutation() || map.getNumResults() != op.getNumParallelLoops())
      return {};
    for (Operation *prev = op->getPrevNode(); prev; prev = prev->getPrevNode()) {
      auto generic = dyn_cast<linalg::GenericOp>(prev);
      if (generic && generic.getNumDpsInits() == 1 && generic.getDpsInitOperand(0)->get() == out.get() &&
          filledValue(generic) && !consumed_.contains(generic))
        return generic;
      if (llvm::any_of(prev->getOperands(), [&](Value v) { return rootOf(v) == rootOf(out.get()); }))
        return {};
    }
    return {};
  }

  // Whether `other`, after `op` in the block, may run before it instead: it neither reads nor
  // writes op's output, nor writes anything op reads.
  static bool independentOf(linalg::GenericOp other, linalg::GenericOp op) {
    Value outRoot = rootOf(op.getDpsInitOperand(0)->get());
    if (llvm::any_of(other->getOperands(), [&](Value v) { return rootOf(v) == outRoot; }))
      return false;
    for (OpOperand &init : other.getDpsInitsMutable())
      if (llvm::any_of(op->getOperands(), [&](Value v) { return rootOf(v) == rootOf(init.get()); }))
        return false;
    return true;
  }

  // The elementwise generic after `op` that reads its only output at the same index: the next
  // generic, past allocations, views, constants and generics independent of `op` (a BN's
  // per-channel scale sits between its conv and the normalization; it stays a kernel of its
  // own, launched before the fused one, which takes the epilogue's place).
  linalg::GenericOp epilogueOf(linalg::GenericOp op, unsigned &producedOperand) {
    if (op.getNumDpsInits() != 1)
      return {};
    Value out = op.getDpsInitOperand(0)->get();
    Operation *next = op->getNextNode();
    while (next) {
      auto generic = dyn_cast<linalg::GenericOp>(next);
      if (generic && !independentOf(generic, op))
        break;
      if (!generic && !isa<memref::AllocOp, arith::ConstantOp>(next) && !isView(next))
        return {};
      next = next->getNextNode();
    }
    auto consumer = dyn_cast_or_null<linalg::GenericOp>(next);
    if (!consumer || !allParallel(consumer) || consumed_.contains(consumer) ||
        consumer.getNumLoops() != static_cast<unsigned>(op.getNumParallelLoops()))
      return {};
    int reads = 0;
    for (OpOperand *in : consumer.getDpsInputOperands()) {
      if (rootOf(in->get()) != rootOf(out))
        continue;
      if (in->get() != out || !consumer.getMatchingIndexingMap(in).isPermutation())
        return {};
      producedOperand = in->getOperandNumber();
      ++reads;
    }
    // The consumer's writes must not reach what other threads of the producer still read.
    for (OpOperand &init : consumer.getDpsInitsMutable()) {
      if (rootOf(init.get()) == rootOf(out))
        return {};
      for (OpOperand *in : op.getDpsInputOperands())
        if (rootOf(in->get()) == rootOf(init.get()))
          return {};
    }
    return reads == 1 ? consumer : linalg::GenericOp{};
  }

  // Whether anything but `except` uses `buffer` or a view of it (an argument always counts: the
  // caller reads it).
  static bool usedElsewhere(Value buffer, ArrayRef<Operation *> except) {
    if (isa<BlockArgument>(buffer))
      return true;
    for (Operation *user : buffer.getUsers()) {
      if (llvm::is_contained(except, user))
        continue;
      if (!isView(user) || usedElsewhere(user->getResult(0), except))
        return true;
    }
    return false;
  }

  static Location fusedLoc(ArrayRef<Operation *> ops) {
    SmallVector<Location> locs;
    for (Operation *op : ops)
      if (op)
        locs.push_back(op->getLoc());
    return FusedLoc::get(locs.front()->getContext(), locs);
  }

  // A one-dimensional launch of `threads` threads at the host builder's point (blocks of up to
  // kThreadsPerBlock, a multiple of a warp): `body` is a builder inside it, past the guard that
  // leaves out the ids from `threads` up, and `id` the thread's id.
  struct Kernel {
    gpu::LaunchOp launch;
    OpBuilder body;
    Value id;
  };
  static Kernel beginKernel(OpBuilder &host, Location launchLoc, Location loc, int64_t threads) {
    const int64_t block = std::min<int64_t>(kThreadsPerBlock, (threads + 31) / 32 * 32);
    Value one = arith::ConstantIndexOp::create(host, loc, 1);
    Value grid = arith::ConstantIndexOp::create(host, loc, (threads + block - 1) / block);
    Value blockSize = arith::ConstantIndexOp::create(host, loc, block);
    auto launch = gpu::LaunchOp::create(host, launchLoc, grid, one, one, blockSize, one, one);
    OpBuilder b = OpBuilder::atBlockBegin(&launch.getBody().front());
    gpu::TerminatorOp::create(b, loc);
    b.setInsertionPointToStart(&launch.getBody().front());
    Value id = arith::AddIOp::create(b, loc, arith::MulIOp::create(b, loc, launch.getBlockIds().x, blockSize),
                                     launch.getThreadIds().x);
    Value inRange =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, id, arith::ConstantIndexOp::create(b, loc, threads));
    auto guard = scf::IfOp::create(b, loc, TypeRange{}, inRange, /*addThenBlock=*/true, /*addElseBlock=*/false);
    b.setInsertionPointToStart(guard.thenBlock());
    scf::YieldOp::create(b, loc);
    b.setInsertionPointToStart(guard.thenBlock());
    return {launch, b, id};
  }

  // The loop indices of output element `id`: threads walk the output in row-major order.
  static SmallVector<Value> outputIndices(OpBuilder &b, Location loc, Value id, unsigned loops,
                                          ArrayRef<unsigned> order, ArrayRef<int64_t> ranges) {
    SmallVector<Value> ivs(loops);
    Value rest = id;
    for (unsigned d : llvm::reverse(order)) {
      Value size = arith::ConstantIndexOp::create(b, loc, ranges[d]);
      ivs[d] = arith::RemUIOp::create(b, loc, rest, size);
      rest = arith::DivUIOp::create(b, loc, rest, size);
    }
    return ivs;
  }

  // A kernel of split.parts x `outputs` threads: thread (part, element) sums its part of the
  // terms from zero into partials[part, element], which the op's own kernel then adds up.
  Value partialSums(OpBuilder &host, linalg::GenericOp op, ArrayRef<int64_t> ranges, ArrayRef<unsigned> order,
                    ArrayRef<unsigned> reduction, const Split &split, int64_t outputs) {
    Location loc = op.getLoc();
    Type elementType = cast<MemRefType>(op.getDpsInitOperand(0)->get().getType()).getElementType();
    Value partials = memref::AllocOp::create(host, loc, MemRefType::get({split.parts, outputs}, elementType));
    auto [launch, b, id] = beginKernel(host, loc, loc, split.parts * outputs);
    auto index = [&](int64_t v) -> Value { return arith::ConstantIndexOp::create(b, loc, v); };
    // Consecutive threads take consecutive output elements of one part (coalesced as before).
    Value part = arith::DivUIOp::create(b, loc, id, index(outputs));
    Value element = arith::RemUIOp::create(b, loc, id, index(outputs));
    SmallVector<Value> ivs = outputIndices(b, loc, element, op.getNumLoops(), order, ranges);
    Value zero = arith::ConstantOp::create(b, loc, b.getZeroAttr(elementType));
    const int64_t perPart = split.prefixExtent / split.parts;
    Value first = arith::MulIOp::create(b, loc, part, index(perPart));
    unsigned outOperand = op.getDpsInitOperand(0)->getOperandNumber();
    auto prefixLoop = scf::ForOp::create(
        b, loc, first, arith::AddIOp::create(b, loc, first, index(perPart)), index(1), ValueRange{zero},
        [&](OpBuilder &pb, Location l, Value flat, ValueRange prefixAcc) {
          SmallVector<Value> all(ivs);
          Value rest = flat;
          for (unsigned i = split.prefix; i-- > 0;) {
            Value size = arith::ConstantIndexOp::create(pb, l, ranges[reduction[i]]);
            all[reduction[i]] = arith::RemUIOp::create(pb, l, rest, size);
            rest = arith::DivUIOp::create(pb, l, rest, size);
          }
          SmallVector<Value> lbs, ubs, steps;
          for (unsigned d : ArrayRef(reduction).drop_front(split.prefix)) {
            lbs.push_back(arith::ConstantIndexOp::create(pb, l, 0));
            ubs.push_back(arith::ConstantIndexOp::create(pb, l, ranges[d]));
            steps.push_back(arith::ConstantIndexOp::create(pb, l, 1));
          }
          scf::LoopNest nest = scf::buildLoopNest(
              pb, l, lbs, ubs, steps, prefixAcc, [&](OpBuilder &nb, Location il, ValueRange rivs, ValueRange acc) {
                SmallVector<Value> at(all);
                for (auto [d, iv] : llvm::zip(ArrayRef(reduction).drop_front(split.prefix), rivs))
                  at[d] = iv;
                return scf::ValueVector(body(nb, il, op, at, {{outOperand, acc[0]}}));
              });
          scf::YieldOp::create(pb, l, nest.results);
        });
    memref::StoreOp::create(b, loc, prefixLoop.getResult(0), partials, ValueRange{part, element});
    sinkHostScalars(launch);
    return partials;
  }

  LogicalResult form(linalg::GenericOp op) {
    Location loc = op.getLoc();
    SmallVector<int64_t> ranges = op.getStaticLoopRanges();
    if (llvm::any_of(ranges, ShapedType::isDynamic))
      return op.emitError("vidnet-cuda-form-kernels: dynamic loop range");
    SmallVector<unsigned> parallel, reduction;
    for (auto [d, type] : llvm::enumerate(op.getIteratorTypesArray()))
      (linalg::isParallelIterator(type) ? parallel : reduction).push_back(d);

    // Threads walk the first output in row-major order.
    AffineMap outMap = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
    SmallVector<unsigned> order;
    for (AffineExpr e : outMap.getResults()) {
      auto dim = dyn_cast<AffineDimExpr>(e);
      if (!dim)
        return op.emitError("vidnet-cuda-form-kernels: output map is not a projection");
      order.push_back(dim.getPosition());
    }
    if (order.size() != parallel.size())
      return op.emitError("vidnet-cuda-form-kernels: every parallel dimension must index the first output");
    int64_t total = 1;
    for (unsigned d : parallel)
      total *= ranges[d];
    // Kernels index in 32 bits.
    for (Value operand : op->getOperands())
      if (auto type = dyn_cast<MemRefType>(operand.getType()); type && type.getNumElements() >= (int64_t{1} << 31))
        return op.emitError("vidnet-cuda-form-kernels: a buffer of 2^31 elements or more (")
               << type << "); use a smaller batch";

    SmallVector<linalg::GenericOp> inits;
    for (OpOperand &out : op.getDpsInitsMutable())
      inits.push_back(inits_.lookup(&out));
    unsigned producedOperand = 0;
    linalg::GenericOp epilogue = epilogueOf(op, producedOperand);

    OpBuilder host(epilogue ? epilogue.getOperation() : op.getOperation());
    const Split split = splitOf(op, ranges, reduction, total);
    Value partials = split.parts > 1 ? partialSums(host, op, ranges, order, reduction, split, total) : Value();
    SmallVector<Operation *> covered{op};
    for (linalg::GenericOp init : inits)
      covered.push_back(init);
    covered.push_back(epilogue);
    auto [launch, b, id] = beginKernel(host, fusedLoc(covered), loc, total);
    SmallVector<Value> ivs = outputIndices(b, loc, id, op.getNumLoops(), order, ranges);

    // Accumulators start at the folded fill's scalar, else at the output's current value.
    SmallVector<Value> accs;
    DenseMap<unsigned, Value> given;
    for (OpOperand &out : op.getDpsInitsMutable()) {
      unsigned k = out.getOperandNumber() - op.getNumDpsInputs();
      if (reduction.empty() && op.getMatchingBlockArgument(&out).use_empty())
        continue;
      Value acc = inits[k] ? filledValue(inits[k])
                           : read(b, loc, out.get(), apply(b, loc, op.getMatchingIndexingMap(&out), ivs));
      accs.push_back(acc);
      given[out.getOperandNumber()] = acc;
    }
    SmallVector<Value> results;
    if (partials) {
      // The output's value plus each part's sum, in order.
      auto sum = scf::ForOp::create(
          b, loc, arith::ConstantIndexOp::create(b, loc, 0), arith::ConstantIndexOp::create(b, loc, split.parts),
          arith::ConstantIndexOp::create(b, loc, 1), ValueRange{accs[0]},
          [&](OpBuilder &nb, Location l, Value part, ValueRange acc) {
            Value term = memref::LoadOp::create(nb, l, partials, ValueRange{part, id});
            scf::YieldOp::create(nb, l, ValueRange{arith::AddFOp::create(nb, l, acc[0], term).getResult()});
          });
      results = SmallVector<Value>(sum.getResults());
    } else if (reduction.empty()) {
      results = body(b, loc, op, ivs, given);
    } else {
      SmallVector<Value> lbs, ubs, steps;
      for (unsigned d : reduction) {
        lbs.push_back(arith::ConstantIndexOp::create(b, loc, 0));
        ubs.push_back(arith::ConstantIndexOp::create(b, loc, ranges[d]));
        steps.push_back(arith::ConstantIndexOp::create(b, loc, 1));
      }
      scf::LoopNest nest = scf::buildLoopNest(b, loc, lbs, ubs, steps, accs,
                                              [&](OpBuilder &nb, Location l, ValueRange rivs, ValueRange iterAccs) {
                                                SmallVector<Value> all(ivs);
                                                for (auto [d, iv] : llvm::zip(reduction, rivs))
                                                  all[d] = iv;
                                                DenseMap<unsigned, Value> current;
                                                for (auto [k, acc] : llvm::enumerate(iterAccs))
                                                  current[op.getNumDpsInputs() + k] = acc;
                                                return scf::ValueVector(body(nb, l, op, all, current));
                                              });
      results = SmallVector<Value>(nest.results);
    }

    Value produced = op.getDpsInitOperand(0)->get();
    bool storeProduced = !epilogue || usedElsewhere(rootOf(produced), {op, epilogue, inits[0]});
    for (OpOperand &out : op.getDpsInitsMutable()) {
      unsigned k = out.getOperandNumber() - op.getNumDpsInputs();
      if (k == 0 && !storeProduced)
        continue;
      memref::StoreOp::create(b, loc, results[k], out.get(), apply(b, loc, op.getMatchingIndexingMap(&out), ivs));
    }
    if (epilogue) {
      // The consumer's loop c_j is the producer's loop its read of the output maps to.
      AffineMap readMap = epilogue.getMatchingIndexingMap(&epilogue->getOpOperand(producedOperand));
      SmallVector<Value> eivs(epilogue.getNumLoops());
      for (auto [k, e] : llvm::enumerate(readMap.getResults()))
        eivs[cast<AffineDimExpr>(e).getPosition()] = ivs[order[k]];
      DenseMap<unsigned, Value> fromProducer{{producedOperand, results[0]}};
      SmallVector<Value> outs = body(b, loc, epilogue, eivs, fromProducer);
      for (OpOperand &out : epilogue.getDpsInitsMutable())
        memref::StoreOp::create(b, loc, outs[out.getOperandNumber() - epilogue.getNumDpsInputs()], out.get(),
                                apply(b, loc, epilogue.getMatchingIndexingMap(&out), eivs));
      consumed_.insert(epilogue);
      toErase_.push_back(epilogue);
    }
    sinkHostScalars(launch);
    for (linalg::GenericOp init : inits)
      if (init)
        toErase_.push_back(init);
    consumed_.insert(op);
    toErase_.push_back(op);
    return success();
  }

  // Scalars defined on the host are recomputed in the kernel: constants (kernel arguments
  // otherwise) and loads (the host's learning rate and momentum: on the GPU that buffer is in
  // device memory).
  static void sinkHostScalars(gpu::LaunchOp launch) {
    auto sinkable = [&](OpOperand &operand) {
      Operation *def = operand.get().getDefiningOp();
      return def && isa<memref::LoadOp, arith::ConstantOp>(def) && !launch->isProperAncestor(def);
    };
    SmallVector<OpOperand *> uses;
    launch.getBody().walk([&](Operation *inner) {
      for (OpOperand &operand : inner->getOpOperands())
        if (sinkable(operand))
          uses.push_back(&operand);
    });
    DenseMap<Operation *, Value> sunk;
    OpBuilder b = OpBuilder::atBlockBegin(&launch.getBody().front());
    while (!uses.empty()) {
      OpOperand *use = uses.pop_back_val();
      Operation *def = use->get().getDefiningOp();
      Value &copy = sunk[def];
      if (!copy) {
        Operation *clone = b.clone(*def);
        b.setInsertionPoint(clone); // a load's index constants go before it
        copy = clone->getResult(0);
        for (OpOperand &operand : clone->getOpOperands())
          if (sinkable(operand))
            uses.push_back(&operand);
      }
      use->set(copy);
    }
  }

  LogicalResult checkHost() {
    for (Operation &op : llvm::make_early_inc_range(func_.getBody().front())) {
      if (isa<memref::LoadOp, arith::ConstantOp>(op) && op.use_empty()) {
        op.erase();
        continue;
      }
      if (!isa<memref::AllocOp, arith::ConstantOp, gpu::LaunchOp, func::ReturnOp>(op) && !isView(&op))
        return op.emitError("vidnet-cuda-form-kernels: cannot run on the GPU: ") << op.getName();
    }
    return success();
  }

  func::FuncOp func_;
  DenseMap<Value, PaddedBuffer> padded_;
  DenseMap<OpOperand *, linalg::GenericOp> inits_; // output -> the fill folded into it
  DenseSet<Operation *> consumed_;
  SmallVector<Operation *> toErase_;
};

struct FormKernels : vidnet::cuda::impl::FormKernelsBase<FormKernels> {
  void runOnOperation() override {
    if (getOperation().isExternal())
      return;
    if (failed(KernelFormer(getOperation()).run()))
      signalPassFailure();
  }
};

} // namespace
