// Drives mlirgen, the CPU pipeline, object emission, linking and the manifest for one bundle.
#include "compiler/bundle/BundleWriter.h"

#include "compiler/MLIRGen.h"
#include "compiler/bundle/Manifest.h"
#include "compiler/targets/cpu/CpuPipeline.h"

#include "mlir/IR/Verifier.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace vidnet {
namespace {

constexpr const char *kLibraryName = "model.so";
constexpr int64_t kForwardClipsPerCall = 1;

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Moves `staging` to `outDir`, replacing an existing bundle there.
bool publish(const fs::path &staging, const fs::path &outDir, std::string &error) {
  std::error_code ec;
  fs::path old;
  if (fs::exists(outDir, ec)) {
    if (!fs::is_directory(outDir) || !fs::exists(outDir / "manifest.json")) {
      error = outDir.string() + " exists and is not a bundle (no manifest.json); not overwriting it";
      return false;
    }
    old = outDir.string() + ".old." + std::to_string(getpid());
    fs::rename(outDir, old, ec);
    if (ec) {
      error = "cannot move the old bundle " + outDir.string() + " aside: " + ec.message();
      return false;
    }
  }
  fs::rename(staging, outDir, ec);
  if (ec) {
    error = "cannot rename " + staging.string() + " to " + outDir.string() + ": " + ec.message();
    if (!old.empty())
      fs::rename(old, outDir, ec);
    return false;
  }
  if (!old.empty())
    fs::remove_all(old, ec);
  return true;
}

} // namespace

// mlirgen at `batch` and the CPU pipeline for one entry point, down to the LLVM dialect.
mlir::OwningOpRef<mlir::ModuleOp> compileEntry(mlir::MLIRContext &context, const ModelGraph &graph, int64_t batch,
                                               cpu::Entry entry, BufferLayout &layout, std::string &error) {
  mlir::OwningOpRef<mlir::ModuleOp> module = generateForward(context, graph, batch);
  if (mlir::failed(mlir::verify(*module))) {
    error = "internal error: the generated vidnet module does not verify";
    return nullptr;
  }
  layout = layoutForwardArguments(module->lookupSymbol<mlir::func::FuncOp>("forward"));
  if (mlir::failed(cpu::runCpuPipeline(*module, cpu::Stage::LLVM, entry))) {
    error = "internal error: the CPU pipeline failed (see above)";
    return nullptr;
  }
  return module;
}

bool writeCpuBundle(const BundleRequest &request, BundleTimings &timings, std::string &error) {
  auto start = std::chrono::steady_clock::now();
  mlir::DialectRegistry registry;
  cpu::registerCpuPipelineDialects(registry);
  mlir::MLIRContext context(registry);
  loadMLIRGenDialects(context);
  // Eval-mode forward is independent per clip: it is compiled for one clip per call and the
  // runtime runs clips on worker threads (both cores on these machines). train_step needs the
  // whole batch at once (BN batch statistics).
  std::vector<mlir::OwningOpRef<mlir::ModuleOp>> modules;
  BufferLayout layout, trainLayout;
  modules.push_back(compileEntry(context, request.graph, kForwardClipsPerCall, cpu::Entry::Forward, layout, error));
  if (!modules.back())
    return false;
  if (request.trainStep) {
    modules.push_back(
        compileEntry(context, request.graph, request.batch, cpu::Entry::TrainStep, trainLayout, error));
    if (!modules.back())
      return false;
    if (trainLayout.paramElements != layout.paramElements || trainLayout.stateElements != layout.stateElements) {
      error = "internal error: forward and train_step disagree on the buffer layout";
      return false;
    }
  }
  timings.mlirSeconds = secondsSince(start);

  fs::path outDir = fs::path(request.outDir).lexically_normal();
  if (outDir.filename().empty())
    outDir = outDir.parent_path();
  fs::path staging = outDir.string() + ".tmp." + std::to_string(getpid());
  std::error_code ec;
  fs::remove_all(staging, ec);
  if (!fs::create_directories(staging, ec) || ec) {
    error = "cannot create " + staging.string() + ": " + (ec ? ec.message() : "it exists");
    return false;
  }
  auto fail = [&](std::string message) {
    error = std::move(message);
    std::error_code ignored;
    fs::remove_all(staging, ignored);
    return false;
  };

  start = std::chrono::steady_clock::now();
  std::vector<std::string> objects;
  for (auto &module : modules) {
    objects.push_back((staging / ("entry" + std::to_string(objects.size()) + ".o")).string());
    if (!cpu::emitObjectFile(*module, request.target, objects.back(), error))
      return fail(error);
  }
  timings.llvmSeconds = secondsSince(start);
  start = std::chrono::steady_clock::now();
  if (!cpu::linkSharedObject(objects, (staging / kLibraryName).string(), error))
    return fail(error);
  for (const std::string &object : objects)
    fs::remove(object, ec);
  timings.linkSeconds = secondsSince(start);

  nlohmann::ordered_json manifest = bundleManifest(
      {request.graph, request.specText, request.batch, request.trainStep, kForwardClipsPerCall, layout,
       request.target, kLibraryName},
      error);
  if (manifest.is_null())
    return fail(error);
  {
    std::ofstream out(staging / "manifest.json");
    out << manifest.dump(2) << '\n';
    if (!out.flush())
      return fail("cannot write " + (staging / "manifest.json").string());
  }
  if (!publish(staging, outDir, error))
    return fail(error);
  return true;
}

} // namespace vidnet
