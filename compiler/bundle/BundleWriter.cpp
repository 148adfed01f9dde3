// Drives mlirgen, the CPU pipeline, object emission, linking and the manifest for one bundle.
#include "compiler/bundle/BundleWriter.h"

#include "compiler/GraphReport.h"
#include "compiler/MLIRGen.h"
#include "compiler/bundle/Manifest.h"
#include "compiler/targets/cpu/CpuPipeline.h"
#include "compiler/targets/cpu/ObjectCache.h"
#include "compiler/targets/cuda/CudaPipeline.h"

#include "mlir/IR/Threading.h"
#include "mlir/IR/Verifier.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace vidnet {
namespace {

using bundle::kLibraryFile;
constexpr int64_t kForwardClipsPerCall = 1;

double secondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

} // namespace

// Moves `staging` to `outDir`, replacing an existing bundle there.
static bool publishBundle(const fs::path &staging, const fs::path &outDir, std::string &error) {
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

BundleStaging::~BundleStaging() {
  if (!dir_.empty()) {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }
}

bool BundleStaging::begin(const std::string &outDir, std::string &error) {
  out_ = fs::path(outDir).lexically_normal();
  if (out_.filename().empty())
    out_ = out_.parent_path();
  dir_ = out_.string() + ".tmp." + std::to_string(getpid());
  std::error_code ec;
  fs::remove_all(dir_, ec);
  if (!fs::create_directories(dir_, ec) || ec) {
    error = "cannot create " + dir_.string() + ": " + (ec ? ec.message() : "it exists");
    dir_.clear();
    return false;
  }
  return true;
}

bool BundleStaging::write(const std::string &file, const std::string &text, std::string &error) {
  std::ofstream out(dir_ / file, std::ios::binary);
  out << text;
  if (!out.flush()) {
    error = "cannot write " + (dir_ / file).string();
    return false;
  }
  return true;
}

bool BundleStaging::record(const std::string &file, nlohmann::ordered_json &manifest, std::string &error) const {
  std::ifstream in(dir_ / file, std::ios::binary);
  std::string contents((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) {
    error = "cannot read " + (dir_ / file).string();
    return false;
  }
  manifest["files"][file] = fileRecord(contents);
  return true;
}

bool BundleStaging::commit(std::string &error) {
  if (!publishBundle(dir_, out_, error))
    return false;
  dir_.clear();
  return true;
}

// mlirgen at `batch` and the CPU pipeline for one entry point, down to the LLVM dialect.
static mlir::OwningOpRef<mlir::ModuleOp> compileEntry(mlir::MLIRContext &context, const ModelGraph &graph,
                                                      int64_t batch, cpu::Entry entry, int64_t vectorBits,
                                                      bool printSchedules, BufferLayout &layout, bool kernelsOnCpu,
                                                      std::string &error) {
  mlir::OwningOpRef<mlir::ModuleOp> module = generateForward(context, graph, batch);
  if (mlir::failed(mlir::verify(*module))) {
    error = "internal error: the generated vidnet module does not verify";
    return nullptr;
  }
  layout = layoutForwardArguments(module->lookupSymbol<mlir::func::FuncOp>("forward"));
  if (mlir::failed(kernelsOnCpu ? cuda::compileKernelsForCpu(*module, entry)
                                : cpu::runCpuPipeline(*module, cpu::Stage::LLVM, entry, vectorBits, printSchedules))) {
    error = "internal error: the CPU pipeline failed (see above)";
    return nullptr;
  }
  return module;
}

// The elaborated graph as JSON, less where the spec was read from (which does not change the
// code: the same spec built from another directory reads the same library).
static std::string graphWithoutPath(const ModelGraph &graph) {
  nlohmann::ordered_json j = graphToJson(graph);
  j.erase("spec");
  return j.dump();
}

// Everything that decides model.so's bytes, for the whole-library cache entry.
static cpu::CacheKey libraryKey(const BundleRequest &request) {
  return cpu::CacheKeyBuilder("library")
      .add(cpu::compilerIdentity())
      .add(request.specText)
      .add(graphWithoutPath(request.graph))
      .add(request.batch)
      .add(request.trainStep)
      .add(request.kernelsOnCpu)
      .add(request.target.triple)
      .add(request.target.cpu)
      .add(request.target.features)
      .key();
}

bool writeCpuBundle(const BundleRequest &request, BundleTimings &timings, std::string &error) {
  auto start = std::chrono::steady_clock::now();
  mlir::DialectRegistry registry;
  cuda::registerCudaPipelineDialects(registry);
  mlir::MLIRContext context(registry);
  loadMLIRGenDialects(context);
  BundleStaging staging;
  if (!staging.begin(request.outDir, error))
    return false;
  auto finish = [&](const BufferLayout &layout) {
    nlohmann::ordered_json manifest = bundleManifest({request.graph, request.specText, request.batch, request.trainStep,
                                                      kForwardClipsPerCall, layout, request.target, kLibraryFile,
                                                      /*prepare=*/true},
                                                     error);
    return !manifest.is_null() && staging.record(kLibraryFile, manifest, error) &&
           staging.write(bundle::kManifestFile, manifest.dump(2) + "\n", error) && staging.commit(error);
  };

  // A build of the same spec, shapes, target and compiler: the library from the cache, and
  // from the compiler only the buffer layout (mlirgen of the forward, no pipeline).
  std::optional<cpu::CacheKey> key;
  if (request.cache)
    key = libraryKey(request);
  if (key)
    if (std::optional<llvm::SmallVector<char, 0>> library = request.cache->read(*key)) {
      BufferLayout layout = layoutForwardArguments(
          generateForward(context, request.graph, kForwardClipsPerCall)->lookupSymbol<mlir::func::FuncOp>("forward"));
      timings.mlirSeconds = secondsSince(start);
      timings.libraryFromCache = true;
      return staging.write(kLibraryFile, std::string(library->begin(), library->end()), error) && finish(layout);
    }

  // Eval-mode forward is independent per clip: it is compiled for one clip per call and the
  // runtime runs clips on worker threads (both cores on these machines). train_step needs the
  // whole batch at once (BN batch statistics). The two go through MLIR and into LLVM parts at
  // the same time (one MLIR context, two modules), and their parts are compiled together.
  struct EntryBuild {
    cpu::Entry entry = cpu::Entry::Forward;
    int64_t batch = 1;
    std::string localPrefix; // of its module-local symbols, unique in the library
    mlir::OwningOpRef<mlir::ModuleOp> module;
    BufferLayout layout;
    std::vector<std::string> parts;
    size_t functions = 0;
    double mlirSeconds = 0, translateSeconds = 0;
    std::vector<std::string> objects; // when its parts were compiled while the other entry was in MLIR
    cpu::EmitStats emitted;
    std::string error;
  };
  std::vector<EntryBuild> entries;
  entries.resize(request.trainStep ? 2 : 1);
  entries[0].entry = cpu::Entry::Forward;
  entries[0].batch = kForwardClipsPerCall;
  entries[0].localPrefix = "vidnet.forward.";
  if (request.trainStep) {
    entries[1].entry = cpu::Entry::TrainStep;
    entries[1].batch = request.batch;
    entries[1].localPrefix = "vidnet.train_step.";
  }
  const int64_t vectorBits = cpu::vectorBits(request.target);
  auto buildEntry = [&](EntryBuild &e) {
    auto begin = std::chrono::steady_clock::now();
    e.module = compileEntry(context, request.graph, e.batch, e.entry, vectorBits, request.printSchedules, e.layout,
                            request.kernelsOnCpu, e.error);
    e.mlirSeconds = secondsSince(begin);
    begin = std::chrono::steady_clock::now();
    if (e.module && !cpu::cutIntoParts(*e.module, request.target, e.localPrefix, cpu::kPartInstructions, e.parts,
                                       e.functions, e.error))
      e.module = nullptr;
    e.translateSeconds = secondsSince(begin);
    // The forward is through MLIR long before train_step (r2plus1d_18: 1.0 s against 3.9, most of
    // train_step's passes on one thread): its parts are compiled on this thread meanwhile instead
    // of waiting for train_step's. Object files are numbered as if compiled together.
    if (e.module && e.entry == cpu::Entry::Forward && request.trainStep) {
      cpu::EmitOptions options;
      options.cache = request.cache;
      if (!cpu::compileParts(e.parts, request.target, staging.path("code"), options, e.objects, e.emitted, e.error))
        e.module = nullptr;
    }
  };
  // A pass manager loads the dialects its passes depend on when it starts, which must not
  // happen while another one runs in the same context: all of them are loaded here first.
  // parallelForEach runs the entries on the context's threads (one after the other when the
  // context is single-threaded).
  context.loadAllAvailableDialects();
  mlir::parallelForEach(&context, entries, buildEntry);
  std::vector<std::string> parts, objects;
  for (EntryBuild &e : entries) {
    if (!e.module) {
      error = e.error;
      return false;
    }
    // Concurrent: the longer entry point's times are the phases' (train_step's when built).
    timings.mlirSeconds = std::max(timings.mlirSeconds, e.mlirSeconds);
    timings.emit.translateSeconds = std::max(timings.emit.translateSeconds, e.translateSeconds);
    timings.emit.functions += e.functions;
    if (!e.objects.empty()) {
      objects.insert(objects.end(), e.objects.begin(), e.objects.end());
      timings.emit.partsFromCache += e.emitted.partsFromCache;
      timings.emit.optimizeSeconds += e.emitted.optimizeSeconds;
      timings.emit.codegenSeconds += e.emitted.codegenSeconds;
      timings.emit.parts += e.emitted.parts;
      continue;
    }
    for (std::string &part : e.parts)
      parts.push_back(std::move(part));
  }
  const BufferLayout &layout = entries[0].layout;
  if (request.trainStep && (entries[1].layout.paramElements != layout.paramElements ||
                            entries[1].layout.stateElements != layout.stateElements)) {
    error = "internal error: forward and train_step disagree on the buffer layout";
    return false;
  }

  start = std::chrono::steady_clock::now();
  std::vector<std::string> rest;
  cpu::EmitOptions options;
  options.threads = request.threads;
  options.cache = request.cache;
  options.firstPart = objects.size();
  if (!cpu::compileParts(parts, request.target, staging.path("code"), options, rest, timings.emit, error))
    return false;
  objects.insert(objects.end(), rest.begin(), rest.end());
  timings.llvmSeconds = timings.emit.translateSeconds + secondsSince(start);
  start = std::chrono::steady_clock::now();
  if (!cpu::linkSharedObject(objects, staging.path(kLibraryFile), error))
    return false;
  std::error_code ec;
  for (const std::string &object : objects)
    fs::remove(object, ec);
  timings.linkSeconds = secondsSince(start);
  if (request.cache) {
    std::ifstream in(staging.path(kLibraryFile), std::ios::binary);
    std::string library((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.good() || in.eof())
      request.cache->write(*key, llvm::ArrayRef<char>(library.data(), library.size()));
    request.cache->trim();
  }
  return finish(layout);
}

} // namespace vidnet
