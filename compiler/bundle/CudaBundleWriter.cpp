// Compiles both entry points into kernels, lowers them together to PTX, runs ptxas and writes
// the manifest's "cuda" section (launch plans and per-kernel resources).
#include "compiler/bundle/CudaBundleWriter.h"

#include "compiler/MLIRGen.h"
#include "compiler/bundle/BundleWriter.h"
#include "compiler/bundle/Manifest.h"
#include "compiler/targets/cuda/LaunchPlan.h"
#include "compiler/targets/cuda/Ptxas.h"
#include "dialects/vidnet/VidnetDialect.h"

#include "mlir/IR/Verifier.h"

#include <chrono>
#include <set>

namespace vidnet {

using bundle::kCubinFile;
using bundle::kPtxFile;

int countVidnetOps(mlir::ModuleOp vidnetStage) {
  int count = 0;
  vidnetStage.walk([&](mlir::Operation *op) {
    if (llvm::isa<VidnetDialect>(op->getDialect()))
      ++count;
  });
  return count;
}

namespace {

struct CompiledEntry {
  cuda::EntryPlan plan;
  int vidnetOps = 0;
  BufferLayout layout;
};

bool compileEntry(mlir::MLIRContext &context, const CudaBundleRequest &request, cuda::Entry entry,
                  mlir::ModuleOp kernels, CompiledEntry &out, std::string &error) {
  mlir::OwningOpRef<mlir::ModuleOp> module = generateForward(context, request.graph, request.batch);
  if (mlir::failed(mlir::verify(*module))) {
    error = "internal error: the generated vidnet module does not verify";
    return false;
  }
  out.layout = layoutForwardArguments(module->lookupSymbol<mlir::func::FuncOp>("forward"));
  mlir::OwningOpRef<mlir::ModuleOp> vidnetStage = module->clone();
  if (mlir::failed(cpu::runCpuPipeline(*vidnetStage, cpu::Stage::Vidnet, entry)) ||
      mlir::failed(cuda::formKernels(*module, entry))) {
    error = "internal error: the CUDA pipeline failed (see above)";
    return false;
  }
  out.vidnetOps = countVidnetOps(*vidnetStage);
  mlir::FailureOr<cuda::EntryPlan> plan =
      cuda::extractLaunchPlan(*module, entry == cuda::Entry::Forward ? "forward" : "train_step", kernels);
  if (mlir::failed(plan)) {
    error = "internal error: no launch plan (see above)";
    return false;
  }
  out.plan = std::move(*plan);
  return true;
}

// The kernels an entry point launches: launches of identical layers share one (extractLaunchPlan).
std::set<std::string> launchedKernels(const cuda::EntryPlan &plan) {
  std::set<std::string> names;
  for (const cuda::KernelLaunch &k : plan.launches)
    names.insert(k.kernel);
  return names;
}

nlohmann::ordered_json kernelTable(const std::vector<CompiledEntry> &entries,
                                   const std::map<std::string, cuda::KernelResources> &resources,
                                   CudaBundleSummary &summary) {
  nlohmann::ordered_json table = nlohmann::ordered_json::array();
  for (const CompiledEntry &e : entries)
    for (const cuda::KernelLaunch &k : e.plan.launches) {
      auto it = resources.find(k.kernel);
      cuda::KernelResources r = it == resources.end() ? cuda::KernelResources{} : it->second;
      summary.maxRegisters = std::max(summary.maxRegisters, r.registers);
      summary.spillingKernels += r.spillStoreBytes + r.spillLoadBytes > 0;
      table.push_back({{"name", k.kernel},
                       {"entry", e.plan.entry},
                       {"ops", k.ops},
                       {"spec_lines", k.specLines},
                       {"grid", {k.grid[0], k.grid[1], k.grid[2]}},
                       {"block", {k.block[0], k.block[1], k.block[2]}},
                       {"registers", r.registers},
                       {"shared_bytes", r.sharedBytes},
                       {"stack_bytes", r.stackBytes},
                       {"spill_store_bytes", r.spillStoreBytes},
                       {"spill_load_bytes", r.spillLoadBytes}});
    }
  return table;
}

} // namespace

bool writeCudaBundle(const CudaBundleRequest &request, CudaBundleSummary &summary, std::string &error) {
  auto start = std::chrono::steady_clock::now();
  std::string ptxasError;
  if (cuda::findPtxas(ptxasError).empty()) {
    error = ptxasError;
    return false;
  }
  mlir::DialectRegistry registry;
  cuda::registerCudaPipelineDialects(registry);
  mlir::MLIRContext context(registry);
  loadMLIRGenDialects(context);
  mlir::OwningOpRef<mlir::ModuleOp> kernels = mlir::ModuleOp::create(mlir::UnknownLoc::get(&context));
  std::vector<CompiledEntry> entries(request.trainStep ? 2 : 1);
  if (!compileEntry(context, request, cuda::Entry::Forward, *kernels, entries[0], error))
    return false;
  if (request.trainStep && !compileEntry(context, request, cuda::Entry::TrainStep, *kernels, entries[1], error))
    return false;
  if (mlir::failed(cuda::lowerKernels(*kernels, request.target, cuda::Stage::PTX))) {
    error = "internal error: lowering the kernels to PTX failed (see above)";
    return false;
  }

  BundleStaging staging;
  std::map<std::string, cuda::KernelResources> resources;
  if (!staging.begin(request.outDir, error) || !staging.write(kPtxFile, cuda::ptxOf(*kernels), error) ||
      !cuda::assemblePtx(staging.path(kPtxFile), request.target.chip, staging.path(kCubinFile), resources, error))
    return false;

  nlohmann::ordered_json manifest =
      bundleManifest({request.graph, request.specText, request.batch, request.trainStep, request.batch,
                      entries[0].layout, cpu::MachineTarget{}, ""},
                     error);
  if (manifest.is_null())
    return false;
  manifest["target"] = {{"kind", "cuda"}, {"arch", request.target.chip}, {"ptx_features", request.target.features}};
  manifest.erase("library");
  nlohmann::ordered_json cudaSection;
  cudaSection["arch"] = request.target.chip;
  cudaSection["cubin"] = kCubinFile;
  cudaSection["ptx"] = kPtxFile;
  for (const CompiledEntry &e : entries) {
    nlohmann::ordered_json plan = cuda::toJson(e.plan);
    plan["vidnet_ops"] = e.vidnetOps;
    plan["kernels"] = e.plan.launches.size();
    plan["distinct_kernels"] = launchedKernels(e.plan).size();
    plan["unplanned_bytes"] = e.plan.unplannedBytes;
    cudaSection["entry_points"][e.plan.entry] = plan;
  }
  cudaSection["kernels"] = kernelTable(entries, resources, summary);
  manifest["cuda"] = cudaSection;
  if (!staging.record(kCubinFile, manifest, error) || !staging.record(kPtxFile, manifest, error) ||
      !staging.write(bundle::kManifestFile, manifest.dump(2) + "\n", error) || !staging.commit(error))
    return false;

  std::set<std::string> compiled;
  for (const CompiledEntry &e : entries)
    compiled.merge(launchedKernels(e.plan));
  summary.distinctKernels = static_cast<int>(compiled.size());
  summary.forwardKernels = static_cast<int>(entries[0].plan.launches.size());
  summary.forwardOps = entries[0].vidnetOps;
  if (request.trainStep) {
    summary.trainKernels = static_cast<int>(entries[1].plan.launches.size());
    summary.trainOps = entries[1].vidnetOps;
  }
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return true;
}

} // namespace vidnet
