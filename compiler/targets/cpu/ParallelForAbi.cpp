// vidnet-cpu-parallel-for-abi: defines each parallel dispatch (from vidnet-cpu-outline-parallel)
// in the LLVM dialect: its arguments packed into 8-byte slots, handed with a range function to
// the runtime's parallel-for hook with the loop's number, or run in place when no runtime set
// one; and for each exported function F, `F_loops`: what each of its numbered loops computes
// (for `vidrun profile`).
#include "compiler/targets/cpu/CpuPasses.h"
#include "compiler/targets/cpu/LoopInfo.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/SymbolTable.h"

#include "llvm/Support/JSON.h"

#include <map>

namespace vidnet::cpu {
#define GEN_PASS_DEF_PARALLELFORABI
#include "compiler/targets/cpu/CpuPasses.h.inc"
} // namespace vidnet::cpu

using namespace mlir;

namespace {

constexpr const char *kHook = "vidnet_parallel_for";
constexpr llvm::StringLiteral kLoopTableSuffix = "_loops";

struct ParallelForAbi : vidnet::cpu::impl::ParallelForAbiBase<ParallelForAbi> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<LLVM::LLVMFuncOp> dispatches;
    module.walk([&](LLVM::LLVMFuncOp f) {
      if (f->hasAttr(vidnet::cpu::kParallelBodyAttr))
        dispatches.push_back(f);
    });
    SymbolTable symbols(module);
    // One table per exported function, its loops numbered from 0 in module order.
    std::map<std::string, llvm::json::Array> tables; // ordered: the output does not depend on hashing
    if (!dispatches.empty()) {
      LLVM::GlobalOp hook = declareHook(module, symbols);
      for (LLVM::LLVMFuncOp dispatch : dispatches) {
        auto function = dispatch->getAttrOfType<StringAttr>(vidnet::cpu::kParallelFunctionAttr);
        llvm::json::Array &table = tables[function ? function.str() : std::string()];
        auto id = static_cast<int64_t>(table.size());
        table.push_back(describe(dispatch, id));
        if (failed(define(dispatch, id, hook, symbols)))
          return signalPassFailure();
      }
    }
    module.walk([&](LLVM::LLVMFuncOp f) { // after define(), which makes bodies internal
      if (!f.isExternal() && f.getLinkage() == LLVM::Linkage::External)
        tables[f.getName().str()];
    });
    for (auto &[function, table] : tables)
      if (std::string name = function + kLoopTableSuffix.str(); !function.empty() && !symbols.lookup(name))
        defineTable(module, name, std::move(table));
  }

  // One row of a loop table: the loop's number and what it computes.
  static llvm::json::Object describe(LLVM::LLVMFuncOp dispatch, int64_t id) {
    vidnet::cpu::LoopInfo info = vidnet::cpu::loopInfo(dispatch.getLoc());
    return llvm::json::Object{{"id", id},
                              {"layer", info.layer},
                              {"line", info.line},
                              {"kind", info.kind.empty() ? std::string("loop") : info.kind},
                              {"shape", info.shape},
                              {"flops", info.flops},
                              {"bytes", info.bytes}};
  }

  // const char F_loops[] = "[{...}, ...]": exported, so the runtime finds it with dlsym.
  static void defineTable(ModuleOp module, const std::string &name, llvm::json::Array table) {
    std::string text;
    llvm::raw_string_ostream(text) << llvm::json::Value(std::move(table));
    text.push_back('\0');
    OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
    auto type = LLVM::LLVMArrayType::get(IntegerType::get(module.getContext(), 8), text.size());
    LLVM::GlobalOp::create(b, module.getLoc(), type, /*isConstant=*/true, LLVM::Linkage::External, name,
                           b.getStringAttr(text));
  }

  // void (*vidnet_parallel_for)(void (*range)(void *slots, int64_t begin, int64_t end),
  //                             void *slots, int64_t count, int64_t loop) = 0;
  // set by the runtime after dlopen; `loop` numbers the row in the calling function's table.
  static LLVM::GlobalOp declareHook(ModuleOp module, SymbolTable &symbols) {
    if (auto existing = symbols.lookup<LLVM::GlobalOp>(kHook))
      return existing;
    OpBuilder b = OpBuilder::atBlockBegin(module.getBody());
    auto ptr = LLVM::LLVMPointerType::get(module.getContext());
    auto global =
        LLVM::GlobalOp::create(b, module.getLoc(), ptr, /*isConstant=*/false, LLVM::Linkage::Weak, kHook, Attribute());
    Block *init = b.createBlock(&global.getInitializerRegion());
    b.setInsertionPointToStart(init);
    LLVM::ReturnOp::create(b, module.getLoc(), LLVM::ZeroOp::create(b, module.getLoc(), ptr).getResult());
    return global;
  }

  LogicalResult define(LLVM::LLVMFuncOp dispatch, int64_t id, LLVM::GlobalOp hook, SymbolTable &symbols) {
    auto bodyName = cast<FlatSymbolRefAttr>(dispatch->getAttr(vidnet::cpu::kParallelBodyAttr));
    auto body = symbols.lookup<LLVM::LLVMFuncOp>(bodyName.getValue());
    LLVM::LLVMFunctionType type = dispatch.getFunctionType();
    auto i64 = IntegerType::get(&getContext(), 64);
    if (!body || body.getFunctionType() != type || type.getNumParams() < 1 || type.getParamType(0) != i64)
      return dispatch.emitError("vidnet-cpu-parallel-for-abi: no body function ") << bodyName << " of the same type";
    for (Type t : type.getParams().drop_front())
      if (!isa<LLVM::LLVMPointerType>(t) && !(t.isIntOrFloat() && t.getIntOrFloatBitWidth() <= 64))
        return dispatch.emitError("vidnet-cpu-parallel-for-abi: argument of type ") << t << " does not fit a slot";
    Location loc = dispatch.getLoc();
    MLIRContext *ctx = &getContext();
    auto ptr = LLVM::LLVMPointerType::get(ctx);
    auto voidType = LLVM::LLVMVoidType::get(ctx);
    auto rangeType = LLVM::LLVMFunctionType::get(voidType, {ptr, i64, i64});
    auto slot = [&](OpBuilder &b, Value slots, int64_t i) {
      return LLVM::GEPOp::create(b, loc, ptr, i64, slots, ArrayRef<LLVM::GEPArg>{static_cast<int32_t>(i)});
    };
    auto constant = [&](OpBuilder &b, int64_t v) { return LLVM::ConstantOp::create(b, loc, i64, v); };

    // range(slots, begin, end): for i in [begin, end) body(i, args...)
    OpBuilder b(dispatch);
    auto range =
        LLVM::LLVMFuncOp::create(b, loc, bodyName.getValue().str() + "_range", rangeType, LLVM::Linkage::Internal);
    symbols.insert(range);
    {
      Block *entry = range.addEntryBlock(b);
      Block *header = b.createBlock(&range.getBody(), {}, {i64}, {loc});
      Block *step = b.createBlock(&range.getBody());
      Block *exit = b.createBlock(&range.getBody());
      b.setInsertionPointToStart(entry);
      SmallVector<Value> args = {header->getArgument(0)};
      for (auto [i, t] : llvm::enumerate(type.getParams().drop_front()))
        args.push_back(LLVM::LoadOp::create(b, loc, t, slot(b, entry->getArgument(0), i)));
      LLVM::BrOp::create(b, loc, ValueRange{entry->getArgument(1)}, header);
      b.setInsertionPointToStart(header);
      Value more =
          LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::slt, header->getArgument(0), entry->getArgument(2));
      LLVM::CondBrOp::create(b, loc, more, step, exit);
      b.setInsertionPointToStart(step);
      LLVM::CallOp::create(b, loc, body, args);
      Value next = LLVM::AddOp::create(b, loc, header->getArgument(0), constant(b, 1));
      LLVM::BrOp::create(b, loc, ValueRange{next}, header);
      b.setInsertionPointToStart(exit);
      LLVM::ReturnOp::create(b, loc, ValueRange{});
    }

    // dispatch(count, args...): slots on the stack, then the hook with this loop's number, or
    // the range in place.
    body.setLinkage(LLVM::Linkage::Internal);
    dispatch->removeAttr(vidnet::cpu::kParallelBodyAttr);
    dispatch.setLinkage(LLVM::Linkage::Internal);
    Block *entry = dispatch.addEntryBlock(b);
    Block *inPlace = b.createBlock(&dispatch.getBody());
    Block *threads = b.createBlock(&dispatch.getBody());
    b.setInsertionPointToStart(entry);
    int64_t count = std::max<int64_t>(1, type.getNumParams() - 1);
    Value slots = LLVM::AllocaOp::create(b, loc, ptr, i64, constant(b, count), 8);
    for (unsigned i = 1; i < type.getNumParams(); ++i)
      LLVM::StoreOp::create(b, loc, entry->getArgument(i), slot(b, slots, i - 1));
    Value hookAddress = LLVM::AddressOfOp::create(b, loc, hook);
    Value hookFn = LLVM::LoadOp::create(b, loc, ptr, hookAddress);
    Value null = LLVM::ZeroOp::create(b, loc, ptr);
    Value unset = LLVM::ICmpOp::create(b, loc, LLVM::ICmpPredicate::eq, hookFn, null);
    LLVM::CondBrOp::create(b, loc, unset, inPlace, threads);
    b.setInsertionPointToStart(inPlace);
    LLVM::CallOp::create(b, loc, range, ValueRange{slots, constant(b, 0), entry->getArgument(0)});
    LLVM::ReturnOp::create(b, loc, ValueRange{});
    b.setInsertionPointToStart(threads);
    Value rangeAddress = LLVM::AddressOfOp::create(b, loc, range);
    LLVM::CallOp::create(b, loc, LLVM::LLVMFunctionType::get(voidType, {ptr, ptr, i64, i64}),
                         ValueRange{hookFn, rangeAddress, slots, entry->getArgument(0), constant(b, id)});
    LLVM::ReturnOp::create(b, loc, ValueRange{});
    return success();
  }
};

} // namespace
