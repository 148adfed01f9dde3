// The CUDA pipeline as narrated lists: kernel formation (host + device), then device lowering.
#include "compiler/targets/cuda/CudaPipeline.h"

#include "compiler/targets/cpu/CpuPasses.h"
#include "compiler/targets/cuda/CudaPasses.h"
#include "compiler/targets/cuda/Ptxas.h"
#include "compiler/transforms/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Threading.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVM/NVVM/Target.h"
#include "mlir/Target/LLVMIR/Dialect/GPU/GPUToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"

#include <regex>

namespace vidnet::cuda {

bool parseGpuTarget(const std::string &text, GpuTarget &target, std::string &error) {
  static const std::regex form("cuda:sm_([0-9])([0-9])a?");
  std::smatch m;
  if (!std::regex_match(text, m, form) || m[1].str()[0] < '8') {
    error = "unknown target '" + text +
            "': expected cpu or cuda:sm_XY with compute capability 8.0 or newer "
            "(cuda:sm_80, cuda:sm_86, cuda:sm_89, cuda:sm_90)";
    return false;
  }
  target.chip = text.substr(5);
  return true;
}

void registerCudaPipelineDialects(mlir::DialectRegistry &registry) {
  cpu::registerCpuPipelineDialects(registry);
  mlir::NVVM::registerNVVMTargetInterfaceExternalModels(registry);
  mlir::registerGPUDialectTranslation(registry);
  mlir::registerNVVMDialectTranslation(registry);
}

namespace {

void registerPasses() {
  static const bool registered = [] {
    mlir::registerAllPasses();
    registerVidnetPasses();
    registerVidnetCudaPasses();
    cpu::registerVidnetCpuPasses();
    return true;
  }();
  (void)registered;
}

mlir::LogicalResult runPipeline(mlir::Operation *op, const std::string &pipeline) {
  registerPasses();
  mlir::PassManager pm(op->getContext());
  std::string error;
  llvm::raw_string_ostream errors(error);
  if (mlir::failed(mlir::parsePassPipeline(pipeline, pm, errors)))
    return op->emitError("internal error: bad CUDA pipeline: ") << error;
  return pm.run(op);
}

// From the vidnet dialect to kernels (gpu.launch) in the host function. `cpuAbi`: the kernels
// run as loops in a CPU bundle, whose forward takes a prepared-weights buffer (empty here).
std::string formPipeline(Entry entry, bool cpuAbi) {
  // The same target-independent front as the CPU ((2+1)D split, training derived, linalg),
  // then elementwise chains fused (BN + ReLU + residual add as one generic).
  std::string p = cpu::frontPipeline(cpu::Stage::Linalg, entry);
  auto add = [&](const std::string &pass) { p += "," + pass; };
  add("func.func(vidnet-fuse-elementwise)");
  // No CSE before bufferization: merged zero fills would be shared inits, each conv then
  // copying one in before accumulating (a whole extra kernel per conv).
  add("canonicalize");
  if (cpuAbi)
    add("vidnet-cpu-hoist-weight-packing");
  add("vidnet-export-abi");
  add("one-shot-bufferize");
  add("func.func(vidnet-memref-copy-to-linalg)");
  // Straight-line host code with static offsets: each kernel argument is one bare pointer.
  add("func.func(vidnet-cuda-unroll-host-loops)");
  add("canonicalize");
  add("func.func(linalg-generalize-named-ops)");
  add("func.func(vidnet-cuda-form-kernels)");
  return p;
}

} // namespace

std::string cudaKernelPipeline(Entry entry) {
  std::string p = formPipeline(entry, /*cpuAbi=*/false);
  auto add = [&](const std::string &pass) { p += "," + pass; };
  // Outline before any canonicalization: the host function is not isolated from above, so
  // it would hoist the kernels' constants out of them and make each a kernel argument.
  add("gpu-kernel-outlining");
  add("canonicalize");
  add("cse");
  return p;
}

std::string kernelsOnCpuPipeline(Entry entry) {
  std::string p = formPipeline(entry, /*cpuAbi=*/true);
  auto add = [&](const std::string &pass) { p += "," + pass; };
  add("func.func(vidnet-cuda-launches-to-loops)");
  add("canonicalize");
  add("func.func(vidnet-free-buffers)");
  add(cpu::cpuLoweringToLLVM());
  return p;
}

std::string cudaDevicePipeline(const GpuTarget &target, Stage until) {
  std::string p;
  auto add = [&](const std::string &pass) { p += (p.empty() ? "" : ",") + pass; };
  // libdevice from the toolkit found like ptxas: MLIR itself only looks where $CUDA_HOME says.
  std::string libdevice = findLibdevice();
  add("nvvm-attach-target{chip=" + target.chip + " features=" + target.features + " O=3" +
      (libdevice.empty() ? "" : " l=" + libdevice) + "}");
  add("gpu.module(expand-strided-metadata)");
  add("gpu.module(lower-affine)");
  add("gpu.module(convert-scf-to-cf)");
  // Bare pointers: a kernel takes one pointer per buffer; views' offsets and strides are
  // static and compiled into the kernel. 32-bit indices: 64-bit division and multiplication
  // are emulated on NVIDIA GPUs (vidnet-cuda-form-kernels refuses buffers of 2^31 elements).
  add("gpu.module(convert-gpu-to-nvvm{use-bare-ptr-memref-call-conv=1 index-bitwidth=32})");
  add("gpu.module(canonicalize)");
  add("gpu.module(cse)");
  add("reconcile-unrealized-casts");
  if (until == Stage::PTX)
    add("gpu-module-to-binary{format=isa}");
  return p;
}

mlir::LogicalResult compileKernelsForCpu(mlir::ModuleOp module, Entry entry) {
  return runPipeline(module, kernelsOnCpuPipeline(entry));
}

mlir::LogicalResult formKernels(mlir::ModuleOp module, Entry entry) {
  return runPipeline(module, cudaKernelPipeline(entry));
}

namespace {

// NVPTX code generation of one LLVM module is serial (r3d_18's 1128 kernels at sm_90: 6.2 s on
// one core), so the kernels are serialized in this many parts at once, each part a gpu.module of
// its own. A fixed count, not the number of cores: the PTX is then the same on every machine.
constexpr int kPtxParts = 8;

bool isKernel(mlir::Operation &op) {
  return op.hasAttr(mlir::gpu::GPUDialect::getKernelFuncAttrName()) || op.hasAttr("nvvm.kernel");
}

// Every gpu.module of `module` (at Stage::NVVM) -> kPtxParts modules (fewer when there are fewer
// kernels) of every kPtxParts-th kernel each, the rest of the gpu.module (declarations, globals)
// in every part, serialized to PTX on the context's threads; their gpu.binary ops replace the
// gpu.module, in part order.
mlir::LogicalResult serializeInParts(mlir::ModuleOp module) {
  mlir::MLIRContext *context = module.getContext();
  std::vector<mlir::OwningOpRef<mlir::ModuleOp>> parts;
  for (auto gpuModule : llvm::make_early_inc_range(module.getOps<mlir::gpu::GPUModuleOp>())) {
    const int kernels = llvm::count_if(gpuModule.getBody()->getOperations(), isKernel);
    const int used = std::clamp(kernels, 1, kPtxParts);
    for (int part = 0; part < used; ++part) {
      // The module's attributes (its target) and an empty body; then only this part's ops.
      mlir::OwningOpRef<mlir::ModuleOp> holder = mlir::ModuleOp::create(gpuModule.getLoc());
      auto copy = mlir::cast<mlir::gpu::GPUModuleOp>(gpuModule->cloneWithoutRegions());
      copy.getBodyRegion().emplaceBlock();
      copy.setName((gpuModule.getName() + "_part" + llvm::Twine(part)).str());
      holder->getBody()->push_back(copy);
      mlir::OpBuilder b = mlir::OpBuilder::atBlockEnd(copy.getBody());
      int kernel = 0;
      for (mlir::Operation &op : gpuModule.getBody()->getOperations())
        if (!isKernel(op) || kernel++ % used == part)
          b.clone(op);
      parts.push_back(std::move(holder));
    }
    gpuModule.erase();
  }
  // Pass managers load their dialects when they start, which must not happen while another runs.
  context->loadAllAvailableDialects();
  if (mlir::failed(mlir::failableParallelForEach(context, parts, [](mlir::OwningOpRef<mlir::ModuleOp> &part) {
        return runPipeline(*part, "gpu-module-to-binary{format=isa}");
      })))
    return mlir::failure();
  for (mlir::OwningOpRef<mlir::ModuleOp> &part : parts)
    for (mlir::Operation &op : llvm::make_early_inc_range(part->getBody()->getOperations()))
      op.moveBefore(module.getBody(), module.getBody()->end());
  return mlir::success();
}

// The PTX header: blank lines, the generator comment, .version, .target and .address_size.
bool isHeaderLine(llvm::StringRef line) {
  line = line.trim();
  return line.empty() || line.starts_with("//") || line.starts_with(".version") || line.starts_with(".target") ||
         line.starts_with(".address_size");
}

} // namespace

mlir::LogicalResult lowerKernels(mlir::ModuleOp module, const GpuTarget &target, Stage until) {
  for (auto func : llvm::make_early_inc_range(module.getOps<mlir::func::FuncOp>()))
    func.erase();
  if (mlir::failed(runPipeline(module, cudaDevicePipeline(target, std::min(until, Stage::NVVM)))))
    return mlir::failure();
  return until == Stage::PTX ? serializeInParts(module) : mlir::success();
}

std::string ptxOf(mlir::ModuleOp module) {
  // One PTX module out of the parts': the first part's header, then every part's body (the
  // kernels are all .entry functions with distinct names; libdevice's are inlined).
  std::string ptx;
  bool first = true;
  module.walk([&](mlir::gpu::BinaryOp binary) {
    for (mlir::Attribute object : binary.getObjects()) {
      llvm::StringRef text = mlir::cast<mlir::gpu::ObjectAttr>(object).getObject().getValue();
      if (!first)
        while (!text.empty() && isHeaderLine(text.take_until([](char c) { return c == '\n'; })))
          text = text.drop_until([](char c) { return c == '\n'; }).drop_front();
      ptx += text.str();
      first = false;
    }
  });
  return ptx;
}

} // namespace vidnet::cuda
