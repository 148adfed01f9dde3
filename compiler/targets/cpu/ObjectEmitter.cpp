// LLVM IR generation, O3 optimization and object emission for the host CPU, and linking.
#include "compiler/targets/cpu/ObjectEmitter.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/PassManager.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/Transforms/IPO/LoopExtractor.h"
#include "llvm/Transforms/Utils/LoopSimplify.h"
#include "llvm/Transforms/Utils/Mem2Reg.h"

#include <memory>
#include <vector>

namespace vidnet::cpu {
namespace {

// Moves every top-level loop nest of the entry points into its own never-inlined function.
// LLVM's IndVarSimplify grows faster than linearly with function size: on a tiny model's
// train_step (one 74k-line function) O3 took 65 s, after extraction 3.6 s. A call per loop
// nest costs nothing next to the nest's work. The internal functions (the parallel loops'
// bodies) are small already and stay whole: extracting a body's loop nest made each value
// live out of it (a tile's accumulators) a store through a pointer argument on every
// iteration, which no later pass could move out of the loop (16 stores per 128 FMAs in the
// filter gradients).
void extractLoopNests(llvm::Module &ir) {
  llvm::PassBuilder builder;
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  builder.registerModuleAnalyses(mam);
  builder.registerCGSCCAnalyses(cgam);
  builder.registerFunctionAnalyses(fam);
  builder.registerLoopAnalyses(lam);
  builder.crossRegisterProxies(lam, fam, cgam, mam);
  llvm::FunctionPassManager canonical;
  canonical.addPass(llvm::PromotePass());
  canonical.addPass(llvm::LoopSimplifyPass());
  llvm::ModulePassManager passes;
  passes.addPass(llvm::createModuleToFunctionPassAdaptor(std::move(canonical)));
  passes.addPass(llvm::LoopExtractorPass());
  // LoopExtractor leaves optnone functions alone: the internal ones are optnone (which needs
  // noinline) while it runs.
  std::vector<llvm::Function *> internal;
  for (llvm::Function &f : ir)
    if (!f.isDeclaration() && f.hasLocalLinkage() && !f.hasOptNone()) {
      internal.push_back(&f);
      f.addFnAttr(llvm::Attribute::NoInline);
      f.addFnAttr(llvm::Attribute::OptimizeNone);
    }
  passes.run(ir, mam);
  for (llvm::Function *f : internal)
    f->removeFnAttr(llvm::Attribute::OptimizeNone);
  for (llvm::Function &f : ir)
    if (!f.isDeclaration() && f.hasLocalLinkage())
      f.addFnAttr(llvm::Attribute::NoInline);
}

} // namespace

MachineTarget hostTarget() {
  MachineTarget t;
  t.triple = llvm::sys::getProcessTriple();
  t.cpu = llvm::sys::getHostCPUName().str();
  std::string features;
  for (const auto &f : llvm::sys::getHostCPUFeatures())
    features += (features.empty() ? "" : ",") + std::string(f.second ? "+" : "-") + f.first().str();
  t.features = features;
  return t;
}

bool emitObjectFile(mlir::ModuleOp module, const MachineTarget &target, const std::string &objectPath,
                    std::string &error) {
  static const bool initialized = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)initialized;

  llvm::Triple triple(target.triple);
  const llvm::Target *llvmTarget = llvm::TargetRegistry::lookupTarget(triple, error);
  if (!llvmTarget)
    return false;
  std::unique_ptr<llvm::TargetMachine> machine(
      llvmTarget->createTargetMachine(triple, target.cpu, target.features, llvm::TargetOptions(), llvm::Reloc::PIC_,
                                      std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine) {
    error = "no LLVM target machine for " + target.triple + " / " + target.cpu;
    return false;
  }

  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> ir = mlir::translateModuleToLLVMIR(module, context);
  if (!ir) {
    error = "translation to LLVM IR failed";
    return false;
  }
  ir->setTargetTriple(triple);
  ir->setDataLayout(machine->createDataLayout());
  // Per-function attributes (also on the extracted loop nests), so that the O3 vectorizers
  // know the vector width.
  extractLoopNests(*ir);
  for (llvm::Function &f : *ir)
    if (!f.isDeclaration()) {
      f.addFnAttr("target-cpu", target.cpu);
      f.addFnAttr("target-features", target.features);
    }
  if (llvm::Error e = mlir::makeOptimizingTransformer(3, 0, machine.get())(ir.get())) {
    error = "LLVM O3 pipeline: " + llvm::toString(std::move(e));
    return false;
  }

  std::error_code ec;
  llvm::raw_fd_ostream out(objectPath, ec, llvm::sys::fs::OF_None);
  if (ec) {
    error = objectPath + ": " + ec.message();
    return false;
  }
  llvm::legacy::PassManager codegen;
  if (machine->addPassesToEmitFile(codegen, out, nullptr, llvm::CodeGenFileType::ObjectFile)) {
    error = "the LLVM target cannot emit object files";
    return false;
  }
  codegen.run(*ir);
  out.close();
  if (out.has_error()) {
    error = objectPath + ": " + out.error().message();
    out.clear_error();
    return false;
  }
  return true;
}

bool linkSharedObject(const std::vector<std::string> &objectPaths, const std::string &sharedPath, std::string &error) {
  llvm::ErrorOr<std::string> cc = llvm::sys::findProgramByName("cc");
  if (!cc) {
    error = "no C compiler driver `cc` on PATH to link the shared object (install gcc or clang)";
    return false;
  }
  llvm::SmallVector<llvm::StringRef> args = {*cc, "-shared", "-o", sharedPath};
  args.append(objectPaths.begin(), objectPaths.end());
  std::string message;
  int rc = llvm::sys::ExecuteAndWait(*cc, args, std::nullopt, {}, 0, 0, &message);
  if (rc != 0) {
    error = "linking " + sharedPath + " with " + *cc + " failed" + (message.empty() ? "" : ": " + message) +
            " (exit code " + std::to_string(rc) + ")";
    return false;
  }
  return true;
}

} // namespace vidnet::cpu
