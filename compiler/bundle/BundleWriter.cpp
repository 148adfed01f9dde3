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

constexpr const char *kLibraryName = "forward.so";
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

bool writeCpuBundle(const BundleRequest &request, BundleTimings &timings, std::string &error) {
  auto start = std::chrono::steady_clock::now();
  mlir::DialectRegistry registry;
  cpu::registerCpuPipelineDialects(registry);
  mlir::MLIRContext context(registry);
  loadMLIRGenDialects(context);
  // Eval-mode forward is independent per clip: it is compiled for one clip per call and the
  // runtime runs clips on worker threads (both cores on these machines).
  mlir::OwningOpRef<mlir::ModuleOp> module = generateForward(context, request.graph, kForwardClipsPerCall);
  if (mlir::failed(mlir::verify(*module))) {
    error = "internal error: the generated vidnet module does not verify";
    return false;
  }
  BufferLayout layout = layoutForwardArguments(module->lookupSymbol<mlir::func::FuncOp>("forward"));
  if (mlir::failed(cpu::runCpuPipeline(*module, cpu::Stage::LLVM))) {
    error = "internal error: the CPU pipeline failed (see above)";
    return false;
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
  fs::path object = staging / "forward.o";
  if (!cpu::emitObjectFile(*module, request.target, object.string(), error))
    return fail(error);
  timings.llvmSeconds = secondsSince(start);
  start = std::chrono::steady_clock::now();
  if (!cpu::linkSharedObject(object.string(), (staging / kLibraryName).string(), error))
    return fail(error);
  fs::remove(object, ec);
  timings.linkSeconds = secondsSince(start);

  nlohmann::ordered_json manifest = bundleManifest(
      {request.graph, request.specText, request.batch, kForwardClipsPerCall, layout, request.target, kLibraryName},
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
