// LLVM IR generation, then O3 and object emission for the host CPU in parallel parts; linking.
#include "compiler/targets/cpu/ObjectEmitter.h"
#include "compiler/targets/cpu/CpuPasses.h"
#include "compiler/targets/cpu/ObjectCache.h"

#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/Analysis/LoopInfo.h"
#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/IR/Dominators.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/IR/PassManager.h"
#include "llvm/MC/MCSubtargetInfo.h"
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
#include "llvm/Transforms/Utils/Cloning.h"
#include "llvm/Transforms/Utils/LoopSimplify.h"
#include "llvm/Transforms/Utils/LoopUtils.h"
#include "llvm/Transforms/Utils/Mem2Reg.h"

#include <atomic>
#include <chrono>
#include <memory>
#include <thread>
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
  llvm::DenseSet<const llvm::Function *> before;
  for (llvm::Function &f : ir)
    before.insert(&f);
  passes.run(ir, mam);
  for (llvm::Function *f : internal)
    f->removeFnAttr(llvm::Attribute::OptimizeNone);
  // The extracted nests and vidnet-cpu-outline-serial's functions are the serial code between
  // parallel loops (BN sums, the optimizer, copies), scalar loops with small constant trip
  // counts that O3 would vectorize and then unroll whole: r3d_18's train_step grew to 225k
  // lines of IR, 30 of its 45 s of LLVM time. They stay vectorized, not unrolled.
  for (llvm::Function &f : ir)
    if ((!before.contains(&f) || f.hasFnAttribute(kSerialCodeAttr)) && !f.isDeclaration()) {
      llvm::DominatorTree dominators(f);
      llvm::LoopInfo loops(dominators);
      for (llvm::Loop *loop : loops.getLoopsInPreorder())
        llvm::addStringMetadataToLoop(loop, "llvm.loop.unroll.disable", 1);
    }
  for (llvm::Function &f : ir)
    if (!f.isDeclaration() && f.hasLocalLinkage())
      f.addFnAttr(llvm::Attribute::NoInline);
}

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct PartTimes {
  double optimizeSeconds = 0, codegenSeconds = 0;
};

// Null, with the reason in `error`, when LLVM has no machine for `target`.
std::unique_ptr<llvm::TargetMachine> createMachine(const llvm::Target &llvmTarget, const MachineTarget &target,
                                                   std::string &error) {
  std::unique_ptr<llvm::TargetMachine> machine(
      llvmTarget.createTargetMachine(llvm::Triple(target.triple), target.cpu, target.features, llvm::TargetOptions(),
                                     llvm::Reloc::PIC_, std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine)
    error = "no LLVM target machine for " + target.triple + " / " + target.cpu;
  return machine;
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

MachineTarget namedTarget(const std::string &cpuName) {
  MachineTarget t = hostTarget();
  if (!cpuName.empty() && cpuName != "host") {
    t.cpu = cpuName;
    t.features.clear(); // LLVM derives them from the CPU name
  }
  return t;
}

// The LLVM IR of `module` with the entry points' loop nests extracted, target attributes on
// every function, and every module-local symbol external (hidden) and renamed
// `localPrefix`NAME, so that each function can be compiled in a part of its own and the parts
// of several modules linked into one library without two local symbols meeting.
static std::unique_ptr<llvm::Module> prepareModule(mlir::ModuleOp module, const MachineTarget &target,
                                                   const std::string &localPrefix, llvm::TargetMachine &machine,
                                                   llvm::LLVMContext &context, std::string &error) {
  std::unique_ptr<llvm::Module> ir = mlir::translateModuleToLLVMIR(module, context, "vidnet");
  if (!ir) {
    error = "translation to LLVM IR failed";
    return nullptr;
  }
  ir->setTargetTriple(machine.getTargetTriple());
  ir->setDataLayout(machine.createDataLayout());
  // Per-function attributes (also on the extracted loop nests), so that the O3 vectorizers
  // know the vector width.
  extractLoopNests(*ir);
  for (llvm::Function &f : *ir)
    if (!f.isDeclaration()) {
      f.addFnAttr("target-cpu", target.cpu);
      f.addFnAttr("target-features", target.features);
    }
  for (llvm::GlobalValue &g : ir->global_values())
    if (g.hasLocalLinkage()) {
      g.setName(localPrefix + g.getName());
      g.setLinkage(llvm::GlobalValue::ExternalLinkage);
      g.setVisibility(llvm::GlobalValue::HiddenVisibility);
    }
  return ir;
}

// Cuts `ir` into parts of whole functions, in module order, each at least `minInstructions`
// long (the last may be shorter), as bitcode. Global variables go with the first part. The
// cut depends on the module only, never on the number of threads, so the objects do not
// either.
static std::vector<std::string> splitIntoParts(llvm::Module &ir, size_t minInstructions) {
  std::vector<std::vector<const llvm::Function *>> groups(1);
  size_t size = 0;
  for (const llvm::Function &f : ir) {
    if (f.isDeclaration())
      continue;
    if (size >= minInstructions) {
      groups.emplace_back();
      size = 0;
    }
    groups.back().push_back(&f);
    size += f.getInstructionCount();
  }
  std::vector<std::string> parts;
  for (size_t i = 0; i < groups.size(); ++i) {
    llvm::DenseSet<const llvm::GlobalValue *> mine(groups[i].begin(), groups[i].end());
    llvm::ValueToValueMapTy map;
    std::unique_ptr<llvm::Module> part = llvm::CloneModule(ir, map, [&](const llvm::GlobalValue *g) {
      return mine.contains(g) || (i == 0 && isa<llvm::GlobalVariable>(g));
    });
    part->setModuleIdentifier("vidnet.part" + std::to_string(i));
    std::string bitcode;
    llvm::raw_string_ostream out(bitcode);
    llvm::WriteBitcodeToFile(*part, out);
    parts.push_back(std::move(bitcode));
  }
  return parts;
}

namespace {

// O3 and code generation of one part, in a context of its own (one per thread).
struct PartCompiler {
  const llvm::Target &target;
  const MachineTarget &machineTarget;

  bool compile(const std::string &bitcode, llvm::SmallVectorImpl<char> &object, PartTimes &times,
               std::string &error) const {
    auto start = std::chrono::steady_clock::now();
    llvm::LLVMContext context;
    llvm::Expected<std::unique_ptr<llvm::Module>> part =
        llvm::parseBitcodeFile(llvm::MemoryBufferRef(bitcode, "part"), context);
    if (!part) {
      error = "reading back a part's bitcode: " + llvm::toString(part.takeError());
      return false;
    }
    std::unique_ptr<llvm::TargetMachine> machine = createMachine(target, machineTarget, error);
    if (!machine)
      return false;
    if (llvm::Error e = mlir::makeOptimizingTransformer(3, 0, machine.get())(part->get())) {
      error = "LLVM O3 pipeline: " + llvm::toString(std::move(e));
      return false;
    }
    times.optimizeSeconds += secondsSince(start);
    start = std::chrono::steady_clock::now();
    llvm::raw_svector_ostream out(object);
    llvm::legacy::PassManager codegen;
    if (machine->addPassesToEmitFile(codegen, out, nullptr, llvm::CodeGenFileType::ObjectFile)) {
      error = "the LLVM target cannot emit object files";
      return false;
    }
    codegen.run(**part);
    times.codegenSeconds += secondsSince(start);
    return true;
  }
};

} // namespace

// The LLVM target for `target`, initialized once per process.
static const llvm::Target *lookupTarget(const MachineTarget &target, std::string &error) {
  static const bool initialized = [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    return true;
  }();
  (void)initialized;
  return llvm::TargetRegistry::lookupTarget(llvm::Triple(target.triple), error);
}

int64_t vectorBits(const MachineTarget &target) {
  std::string error;
  const llvm::Target *llvmTarget = lookupTarget(target, error);
  if (!llvmTarget || !llvm::Triple(target.triple).isX86())
    return 128;
  std::unique_ptr<llvm::TargetMachine> machine = createMachine(*llvmTarget, target, error);
  if (!machine)
    return 128;
  const llvm::MCSubtargetInfo *info = machine->getMCSubtargetInfo();
  return info->checkFeatures("+avx512f") ? 512 : info->checkFeatures("+avx") ? 256 : 128;
}

bool cutIntoParts(mlir::ModuleOp module, const MachineTarget &target, const std::string &localPrefix,
                  size_t minPartInstructions, std::vector<std::string> &parts, size_t &functions, std::string &error) {
  const llvm::Target *llvmTarget = lookupTarget(target, error);
  if (!llvmTarget)
    return false;
  std::unique_ptr<llvm::TargetMachine> machine = createMachine(*llvmTarget, target, error);
  if (!machine)
    return false;
  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> ir = prepareModule(module, target, localPrefix, *machine, context, error);
  if (!ir)
    return false;
  for (const llvm::Function &f : *ir)
    functions += !f.isDeclaration();
  for (std::string &part : splitIntoParts(*ir, minPartInstructions))
    parts.push_back(std::move(part));
  return true;
}

bool compileParts(const std::vector<std::string> &parts, const MachineTarget &target, const std::string &objectStem,
                  const EmitOptions &options, std::vector<std::string> &objectPaths, EmitStats &stats,
                  std::string &error) {
  const llvm::Target *llvmTarget = lookupTarget(target, error);
  if (!llvmTarget)
    return false;
  auto start = std::chrono::steady_clock::now();
  std::vector<llvm::SmallVector<char, 0>> objects(parts.size());
  std::vector<PartTimes> times(parts.size());
  std::vector<std::string> errors(parts.size());
  std::atomic<size_t> next = 0;
  PartCompiler compiler{*llvmTarget, target};
  std::vector<char> fromCache(parts.size(), 0);
  auto work = [&] {
    for (size_t i; (i = next++) < parts.size();) {
      if (!options.cache) {
        compiler.compile(parts[i], objects[i], times[i], errors[i]);
        continue;
      }
      CacheKey key = CacheKeyBuilder("object")
                         .add(compilerIdentity())
                         .add(target.triple)
                         .add(target.cpu)
                         .add(target.features)
                         .add(parts[i])
                         .key();
      if (std::optional<llvm::SmallVector<char, 0>> cached = options.cache->read(key)) {
        objects[i] = std::move(*cached);
        fromCache[i] = 1;
      } else if (compiler.compile(parts[i], objects[i], times[i], errors[i])) {
        options.cache->write(key, objects[i]);
      }
    }
  };
  unsigned threads = std::max(1u, std::min<unsigned>(options.threads, parts.size()));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t)
    pool.emplace_back(work);
  work();
  for (std::thread &t : pool)
    t.join();
  stats.parallelSeconds += secondsSince(start);
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!errors[i].empty()) {
      error = errors[i];
      return false;
    }
    stats.partsFromCache += fromCache[i];
    stats.optimizeSeconds += times[i].optimizeSeconds;
    stats.codegenSeconds += times[i].codegenSeconds;
    std::string path = objectStem + ".part" + std::to_string(options.firstPart + i) + ".o";
    std::error_code ec;
    llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_None);
    if (ec) {
      error = path + ": " + ec.message();
      return false;
    }
    out.write(objects[i].data(), objects[i].size());
    out.close();
    if (out.has_error()) {
      error = path + ": " + out.error().message();
      out.clear_error();
      return false;
    }
    objectPaths.push_back(path);
  }
  stats.parts += parts.size();
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
