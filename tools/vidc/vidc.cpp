// vidc: the vidnet compiler driver. Thin: argument parsing here, all work in the libraries.
#include "compiler/Frontend.h"
#include "compiler/GraphReport.h"
#include "compiler/MLIRGen.h"
#include "compiler/bundle/BundleWriter.h"
#include "compiler/bundle/CudaBundleWriter.h"
#include "compiler/targets/cpu/CpuPipeline.h"
#include "compiler/targets/cuda/CudaPipeline.h"
#include "compiler/targets/cuda/LaunchPlan.h"
#include "dsl/Parser.h"
#include "tools/vidc/KernelsCommand.h"

#include "mlir/IR/Verifier.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/raw_ostream.h"

#include <charconv>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <set>
#include <string>
#include <string_view>
#include <thread>

using namespace vidnet;

namespace {

constexpr const char *kUsage =
    "usage: vidc build [--target cpu|cuda:sm_XY] [--input CxLxHxW] [--classes K] [--batch N] [--cpu NAME]\n"
    "                  [--forward-only] [-j N] [--time] [--no-cache] [--json] [-o DIR] SPEC.vnet\n"
    "       vidc cache stats|clear [--json]\n"
    "       vidc info [--json] [--input CxLxHxW] [--classes K] SPEC.vnet\n"
    "       vidc kernels [--json] BUNDLE\n"
    "       vidc --emit=ast|graph|vidnet|linalg|llvm|gpu|nvvm|ptx [--entry forward|train_step]\n"
    "            [--target cuda:sm_XY] [--cpu NAME] [--input CxLxHxW] [--classes K] [--batch N] SPEC.vnet\n"
    "       vidc --list-diagnostics\n"
    "       vidc --help\n"
    "\n"
    "  build              compile for this machine's CPU into a bundle directory\n"
    "                     (manifest.json + model.so with forward and train_step);\n"
    "                     -o defaults to MODEL.vbundle\n"
    "  --forward-only     build without train_step (about a fifth of the compile time)\n"
    "  --cpu NAME         LLVM CPU to compile for (default: host), e.g. x86-64-v3, znver4; its\n"
    "                     vector registers size the tiles (AVX-512: 8x32, AVX2: 6x16); also\n"
    "                     for --emit=llvm\n"
    "  -j N               compile on N threads (default: every core); the bundle is the same\n"
    "  --time             the build's phases: MLIR, LLVM optimisation, code generation, link\n"
    "                     (VIDNET_PASS_TIMING=1: each MLIR pass's time on stderr)\n"
    "  --no-cache         compile everything; neither read nor write the cache\n"
    "  --print-schedules  the tile schedule of each conv and filter gradient (vidnet-cpu-tile-convs,\n"
    "                     -tile-filter-grads), one line each, on stderr; compiles without the cache\n"
    "  cache              the cache of compiled code (VIDNET_CACHE_DIR, else $XDG_CACHE_HOME/vidnet\n"
    "                     or ~/.cache/vidnet;\n"
    "                     at most VIDNET_CACHE_MAX_MB, default 1024): its size, or empty it\n"
    "  --target T         cpu (default) or cuda:sm_80, cuda:sm_90, ...: an NVIDIA GPU bundle\n"
    "                     (PTX + cubin from the CUDA toolkit's ptxas, launch plans; forward and\n"
    "                     train_step both at --batch)\n"
    "  kernels            a CUDA bundle's kernels: launch, registers, shared memory, spills, the\n"
    "                     ops each computes, and kernels per entry point beside vidnet ops\n"
    "  info               per-layer table: output shape, parameters, MACs, M_i; totals\n"
    "  --json             the same as one JSON object (for build: phases, parts, cache hits)\n"
    "  --emit=ast         the parsed spec with line:col of every node\n"
    "  --emit=graph       the elaborated model graph as JSON\n"
    "  --emit=vidnet      the forward function in the vidnet MLIR dialect, with spec locations\n"
    "  --emit=linalg      after (2+1)D decomposition and lowering to linalg on tensors\n"
    "  --emit=llvm        LLVM IR from the CPU pipeline\n"
    "  --emit=gpu         CUDA: host launches and the outlined gpu.func kernels\n"
    "  --emit=nvvm        CUDA: the kernels in the LLVM/NVVM dialects\n"
    "  --emit=ptx         CUDA: the kernels' PTX (default --target cuda:sm_90)\n"
    "  --entry E          what --emit shows: forward (default) or train_step, the training\n"
    "                     step vidnet-derive-train-step derives (BN in training form, loss,\n"
    "                     backward, SGD); --emit=vidnet then shows the generated backward\n"
    "  --batch N          clips per batch: train_step's (forward is compiled per clip; default 1)\n"
    "  --input CxLxHxW    override the spec's input clip (e.g. 3x8x112x112)\n"
    "  --classes K        override the head's class count\n"
    "  --list-diagnostics every diagnostic kind vidc can report\n"
    "  the spec language and every stage: docs/dsl.md, docs/design.md\n";

int usage(const std::string &problem) {
  std::cerr << "vidc: " << problem << "\n" << kUsage;
  return 2;
}

bool parsePositive(std::string_view text, int64_t &out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size() && out > 0 && out <= dsl::kMaxInteger;
}

bool parseShape(std::string_view text, Shape &out) {
  int64_t parts[4];
  for (int i = 0; i < 4; ++i) {
    size_t x = i < 3 ? text.find('x') : text.size();
    if (x == std::string_view::npos || !parsePositive(text.substr(0, x), parts[i]))
      return false;
    text = i < 3 ? text.substr(x + 1) : std::string_view{};
  }
  out = Shape{parts[0], parts[1], parts[2], parts[3]};
  return true;
}

struct CpuBuildFlags {
  std::string cpuName, outDir;
  unsigned threads = 0; // 0: every core
  bool time = false, noCache = false, json = false, printSchedules = false;
};

int build(const ModelGraph &graph, const std::string &specText, int64_t batch, bool trainStep, CpuBuildFlags flags) {
  cpu::MachineTarget target = cpu::namedTarget(flags.cpuName);
  if (flags.outDir.empty())
    flags.outDir = graph.name + ".vbundle";
  BundleRequest request{graph, specText, batch, trainStep, target, flags.outDir};
  request.threads = flags.threads ? flags.threads : std::max(1u, std::thread::hardware_concurrency());
  cpu::ObjectCache cache(cpu::ObjectCache::defaultDirectory(), cpu::ObjectCache::defaultLimitBytes());
  request.printSchedules = flags.printSchedules;
  if (!flags.noCache && !flags.printSchedules)
    request.cache = &cache;
  BundleTimings t;
  std::string error;
  if (!writeCpuBundle(request, t, error)) {
    std::cerr << "vidc: " << error << '\n';
    return 1;
  }
  const cpu::EmitStats &e = t.emit;
  if (flags.json) {
    std::cout << nlohmann::ordered_json{{"bundle", flags.outDir},
                                        {"model", graph.name},
                                        {"batch", batch},
                                        {"input", toString(graph.input)},
                                        {"train_step", trainStep},
                                        {"cpu", target.cpu},
                                        {"threads", request.threads},
                                        {"seconds", t.mlirSeconds + t.llvmSeconds + t.linkSeconds},
                                        {"mlir_s", t.mlirSeconds},
                                        {"llvm_ir_s", e.translateSeconds},
                                        {"llvm_parallel_s", e.parallelSeconds},
                                        {"optimize_s", e.optimizeSeconds},
                                        {"codegen_s", e.codegenSeconds},
                                        {"link_s", t.linkSeconds},
                                        {"functions", e.functions},
                                        {"parts", e.parts},
                                        {"parts_from_cache", e.partsFromCache},
                                        {"library_from_cache", t.libraryFromCache},
                                        {"damaged_cache_entries", cache.corruptEntries()}}
                     .dump()
              << '\n';
    return 0;
  }
  char line[512];
  std::snprintf(line, sizeof line,
                "%s, batch %lld, %s, %s, %lld params; %.1f s (MLIR %.1f s, LLVM %.1f s, link %.1f s)",
                graph.name.c_str(), static_cast<long long>(batch), toString(graph.input).c_str(), target.cpu.c_str(),
                static_cast<long long>(graph.params), t.mlirSeconds + t.llvmSeconds + t.linkSeconds, t.mlirSeconds,
                t.llvmSeconds, t.linkSeconds);
  std::cout << "vidc: wrote " << flags.outDir << ": " << line << (t.libraryFromCache ? " from the cache" : "") << '\n';
  if (cache.corruptEntries())
    std::cerr << "vidc: " << cache.corruptEntries() << " damaged cache entries in " << cache.directory()
              << " were removed and rebuilt\n";
  if (flags.time && t.libraryFromCache) {
    std::cout << "  model.so from the cache in " << cache.directory() << "; MLIR only for the buffer layout\n";
  } else if (flags.time) {
    std::snprintf(line, sizeof line,
                  "  MLIR (mlirgen + pass pipeline)       %6.2f s\n"
                  "  LLVM IR + loop extraction + parts    %6.2f s\n"
                  "  LLVM O3 + codegen on %2u threads      %6.2f s  (O3 %.2f s + codegen %.2f s summed)\n"
                  "  link                                 %6.2f s\n"
                  "  %zu functions in %zu parts, %zu parts from the cache\n",
                  t.mlirSeconds, e.translateSeconds, request.threads, e.parallelSeconds, e.optimizeSeconds,
                  e.codegenSeconds, t.linkSeconds, e.functions, e.parts, e.partsFromCache);
    std::cout << line;
  }
  return 0;
}

int cacheCommand(const std::string &action, bool json) {
  cpu::ObjectCache cache(cpu::ObjectCache::defaultDirectory(), cpu::ObjectCache::defaultLimitBytes());
  if (action == "clear") {
    size_t removed = cache.clear();
    if (json)
      std::cout << nlohmann::ordered_json{{"directory", cache.directory()}, {"removed", removed}}.dump() << '\n';
    else
      std::cout << "vidc: removed " << removed << " entries from " << cache.directory() << '\n';
    return 0;
  }
  cpu::CacheStats s = cache.stats();
  if (json) {
    std::cout << nlohmann::ordered_json{{"directory", cache.directory()},
                                        {"entries", s.entries},
                                        {"bytes", s.bytes},
                                        {"limit_bytes", cache.limitBytes()}}
                     .dump()
              << '\n';
  } else {
    char line[256];
    std::snprintf(line, sizeof line, "%zu entries, %.1f MiB of %.0f MiB", s.entries, s.bytes / 1048576.0,
                  cache.limitBytes() / 1048576.0);
    std::cout << cache.directory() << ": " << line << '\n';
  }
  return 0;
}

int buildCuda(const ModelGraph &graph, const std::string &specText, int64_t batch, bool trainStep,
              const cuda::GpuTarget &target, std::string outDir) {
  if (outDir.empty())
    outDir = graph.name + ".vbundle";
  CudaBundleSummary s;
  std::string error;
  if (!writeCudaBundle({graph, specText, batch, trainStep, target, outDir}, s, error)) {
    std::cerr << "vidc: " << error << '\n';
    return 1;
  }
  std::cout << "vidc: wrote " << outDir << ": " << graph.name << ", batch " << batch << ", " << toString(graph.input)
            << ", " << target.chip << "; forward " << s.forwardKernels << " kernels for " << s.forwardOps
            << " vidnet ops";
  if (trainStep)
    std::cout << ", train_step " << s.trainKernels << " kernels for " << s.trainOps << " ops";
  char line[128];
  std::snprintf(line, sizeof line, "; %d distinct kernels, max %d registers, %d kernels spill; %.1f s",
                s.distinctKernels, s.maxRegisters, s.spillingKernels, s.seconds);
  std::cout << line << '\n';
  return 0;
}

// --emit=gpu|nvvm|ptx: the CUDA pipeline up to that stage, printed.
int emitCuda(const ModelGraph &graph, int64_t batch, cuda::Entry entry, const std::string &emit,
             const cuda::GpuTarget &target) {
  mlir::DialectRegistry registry;
  cuda::registerCudaPipelineDialects(registry);
  mlir::MLIRContext context(registry);
  loadMLIRGenDialects(context);
  mlir::OwningOpRef<mlir::ModuleOp> module = generateForward(context, graph, batch);
  if (mlir::failed(mlir::verify(*module)) || mlir::failed(cuda::formKernels(*module, entry))) {
    std::cerr << "vidc: internal error: the CUDA pipeline failed (see above)\n";
    return 1;
  }
  if (emit == "gpu") {
    module->print(llvm::outs(), mlir::OpPrintingFlags().enableDebugInfo(true, false));
    llvm::outs() << "\n";
    return 0;
  }
  mlir::OwningOpRef<mlir::ModuleOp> kernels = mlir::ModuleOp::create(module->getLoc());
  if (mlir::failed(
          cuda::extractLaunchPlan(*module, entry == cuda::Entry::Forward ? "forward" : "train_step", *kernels)) ||
      mlir::failed(cuda::lowerKernels(*kernels, target, emit == "ptx" ? cuda::Stage::PTX : cuda::Stage::NVVM))) {
    std::cerr << "vidc: internal error: lowering the kernels failed (see above)\n";
    return 1;
  }
  if (emit == "ptx")
    llvm::outs() << cuda::ptxOf(*kernels);
  else
    kernels->print(llvm::outs());
  return 0;
}

// `vidc --emit=vidnet|linalg|llvm`: the CPU pipeline's IR of one entry point at that stage.
int emitCpu(const ModelGraph &graph, int64_t batch, cpu::Entry compiled, const std::string &emit,
            const std::string &cpuName) {
  mlir::DialectRegistry registry;
  cpu::registerCpuPipelineDialects(registry);
  mlir::MLIRContext context(registry);
  loadMLIRGenDialects(context);
  mlir::OwningOpRef<mlir::ModuleOp> module = generateForward(context, graph, batch);
  cpu::Stage stage = emit == "vidnet" ? cpu::Stage::Vidnet : emit == "linalg" ? cpu::Stage::Linalg : cpu::Stage::LLVM;
  // The forward is shown as mlirgen writes it; train_step after it has been derived.
  bool runPipeline = emit != "vidnet" || compiled == cpu::Entry::TrainStep;
  // A verifier or pass failure here is a compiler bug: the front end accepted the spec.
  if (mlir::failed(mlir::verify(*module)) ||
      (runPipeline &&
       mlir::failed(cpu::runCpuPipeline(*module, stage, compiled, cpu::vectorBits(cpu::namedTarget(cpuName)))))) {
    std::cerr << "vidc: internal error: compiling the spec failed (see above)\n";
    return 1;
  }
  if (emit == "llvm") {
    llvm::LLVMContext llvmContext;
    std::unique_ptr<llvm::Module> llvmModule = mlir::translateModuleToLLVMIR(*module, llvmContext);
    if (!llvmModule) {
      std::cerr << "vidc: internal error: translation to LLVM IR failed\n";
      return 1;
    }
    llvmModule->print(llvm::outs(), nullptr);
  } else {
    module->print(llvm::outs(), mlir::OpPrintingFlags().enableDebugInfo(true, false));
    llvm::outs() << "\n";
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) {
  std::string command, emit, specPath, outDir, cpuName, entry = "forward", targetName;
  cuda::GpuTarget gpuTarget;
  bool json = false, forwardOnly = false;
  int64_t batch = 1;
  CpuBuildFlags buildFlags;
  ElaborateOptions options;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    // `--flag value` or `--flag=value`; `--flagx` is a different (unknown) flag.
    auto is = [&](std::string_view flag) {
      return arg == flag || (arg.size() > flag.size() && arg.substr(0, flag.size()) == flag && arg[flag.size()] == '=');
    };
    auto value = [&](std::string_view flag) -> std::optional<std::string_view> {
      if (arg != flag)
        return arg.substr(flag.size() + 1);
      if (i + 1 < argc)
        return std::string_view(argv[++i]);
      return std::nullopt;
    };
    if (arg == "--help" || arg == "-h") {
      std::cout << kUsage;
      return 0;
    } else if (arg == "--list-diagnostics") {
      for (const dsl::DiagKindInfo &k : dsl::allDiagKinds())
        std::cout << k.name << ": " << k.summary << '\n';
      return 0;
    } else if (arg == "--json") {
      json = true;
    } else if (is("--emit")) {
      auto v = value("--emit");
      static const std::set<std::string_view> stages = {"ast",  "graph", "vidnet", "linalg",
                                                        "llvm", "gpu",   "nvvm",   "ptx"};
      if (!v || !stages.count(*v))
        return usage("--emit takes ast, graph, vidnet, linalg, llvm, gpu, nvvm or ptx");
      if (!emit.empty())
        return usage("--emit given twice");
      emit = *v;
    } else if (is("--input")) {
      Shape shape;
      auto v = value("--input");
      if (!v || !parseShape(*v, shape))
        return usage("--input takes CxLxHxW with positive integers, e.g. 3x8x112x112");
      options.input = shape;
    } else if (is("--batch")) {
      auto v = value("--batch");
      if (!v || !parsePositive(*v, batch))
        return usage("--batch takes a positive integer");
    } else if (is("--classes")) {
      int64_t k = 0;
      auto v = value("--classes");
      if (!v || !parsePositive(*v, k))
        return usage("--classes takes a positive integer");
      options.classes = k;
    } else if (arg == "--forward-only") {
      forwardOnly = true;
    } else if (arg == "--time") {
      buildFlags.time = true;
    } else if (arg == "--no-cache") {
      buildFlags.noCache = true;
    } else if (arg == "--print-schedules") {
      buildFlags.printSchedules = true;
    } else if (is("-j") || (arg.size() > 2 && arg.substr(0, 2) == "-j" && arg[2] != '=')) {
      int64_t n = 0;
      auto v = arg.size() > 2 && arg[2] != '=' ? std::optional<std::string_view>(arg.substr(2)) : value("-j");
      if (!v || !parsePositive(*v, n) || n > 1024)
        return usage("-j takes a thread count from 1 to 1024");
      buildFlags.threads = static_cast<unsigned>(n);
    } else if (is("--entry")) {
      auto v = value("--entry");
      if (!v || (*v != "forward" && *v != "train_step"))
        return usage("--entry takes forward or train_step");
      entry = *v;
    } else if (is("-o")) {
      auto v = value("-o");
      if (!v || v->empty())
        return usage("-o takes the bundle directory to write");
      outDir = *v;
    } else if (is("--target")) {
      auto v = value("--target");
      std::string problem;
      if (!v || (*v != "cpu" && !cuda::parseGpuTarget(std::string(*v), gpuTarget, problem)))
        return usage(v ? problem : "--target takes cpu or cuda:sm_XY");
      targetName = *v;
    } else if (is("--cpu")) {
      auto v = value("--cpu");
      if (!v || v->empty())
        return usage("--cpu takes an LLVM CPU name, e.g. x86-64-v3 or znver4");
      cpuName = *v;
    } else if (arg.size() > 1 && arg[0] == '-') {
      return usage("unknown option '" + std::string(arg) + "'");
    } else if (command.empty() && emit.empty() && specPath.empty() &&
               (arg == "info" || arg == "build" || arg == "kernels" || arg == "cache")) {
      command = arg;
    } else if (specPath.empty()) {
      specPath = arg;
    } else {
      return usage("unexpected argument '" + std::string(arg) + "'");
    }
  }
  if (command.empty() == emit.empty())
    return usage(command.empty() ? "say what to do: build, info, kernels, cache or --emit=..."
                                 : "use either " + command + " or --emit");
  if (command == "cache") {
    if (specPath != "stats" && specPath != "clear")
      return usage("cache takes stats or clear");
    if (buildFlags.time || buildFlags.threads || buildFlags.noCache || forwardOnly || !outDir.empty() ||
        !cpuName.empty() || !targetName.empty() || options.input || options.classes || batch != 1)
      return usage("cache takes only stats or clear and --json");
    return cacheCommand(specPath, json);
  }
  if (command == "kernels") {
    if (specPath.empty())
      return usage("kernels takes a bundle directory");
    return printKernels(specPath, json);
  }
  if (specPath.empty())
    return usage("no spec file given");
  bool cudaTarget = targetName.rfind("cuda:", 0) == 0;
  bool cudaEmit = emit == "gpu" || emit == "nvvm" || emit == "ptx";
  if (!targetName.empty() && command != "build" && !cudaEmit)
    return usage("--target goes with build and --emit=gpu|nvvm|ptx");
  if (cudaEmit && targetName == "cpu")
    return usage("--emit=" + emit + " is CUDA code; give --target cuda:sm_XY or leave --target out");
  if (cudaTarget && !cpuName.empty())
    return usage("--cpu goes with the CPU target, not " + targetName);
  if (json && command != "info" && command != "kernels" && !(command == "build" && !cudaTarget))
    return usage("--json goes with info, kernels, cache and CPU builds (--emit=graph is JSON already)");
  buildFlags.json = json;
  if (!outDir.empty() && command != "build")
    return usage("-o goes with build");
  if (!cpuName.empty() && command != "build" && emit != "llvm")
    return usage("--cpu goes with build and --emit=llvm");
  if ((forwardOnly || buildFlags.time || buildFlags.threads || buildFlags.noCache) && command != "build")
    return usage("--forward-only, -j, --time and --no-cache go with build");
  if ((buildFlags.time || buildFlags.threads || buildFlags.noCache) && cudaTarget)
    return usage("-j, --time and --no-cache go with the CPU target");
  if (buildFlags.printSchedules && (command != "build" || cudaTarget))
    return usage("--print-schedules goes with CPU builds");
  if (entry != "forward" && (command == "build" || command == "info" || emit == "ast" || emit == "graph"))
    return usage("--entry goes with --emit=vidnet, linalg, llvm, gpu, nvvm or ptx");
  if (command == "info" && batch != 1)
    return usage("--batch goes with build and --emit");
  if (emit == "ast" && (options.input || options.classes))
    return usage("--input and --classes change elaboration; --emit=ast shows the spec as written");

  FrontendStage until = emit == "ast" ? FrontendStage::Parse : FrontendStage::Elaborate;
  FrontendResult r = runFrontend(specPath, options, until);
  r.diags->render(std::cerr);
  if (!r.ok())
    return 1;
  if (command == "build" && cudaTarget)
    return buildCuda(*r.graph, r.source->text(), batch, !forwardOnly, gpuTarget, outDir);
  if (command == "build") {
    buildFlags.cpuName = cpuName;
    buildFlags.outDir = outDir;
    return build(*r.graph, r.source->text(), batch, !forwardOnly, buildFlags);
  }
  if (cudaEmit)
    return emitCuda(*r.graph, batch, entry == "train_step" ? cuda::Entry::TrainStep : cuda::Entry::Forward, emit,
                    gpuTarget);
  if (emit == "ast") {
    dsl::printAST(r.spec, std::cout);
  } else if (emit == "vidnet" || emit == "linalg" || emit == "llvm") {
    return emitCpu(*r.graph, batch, entry == "train_step" ? cpu::Entry::TrainStep : cpu::Entry::Forward, emit,
                   cpuName);
  } else if (emit == "graph" || json) {
    std::cout << graphToJson(*r.graph).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
  } else {
    printInfoTable(*r.graph, std::cout);
  }
  return 0;
}
