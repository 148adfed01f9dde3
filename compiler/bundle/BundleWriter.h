// `vidc build`: compile a model graph for the CPU into a bundle directory NAME.vbundle/.
#pragma once

#include "compiler/ModelGraph.h"
#include "compiler/targets/cpu/ObjectCache.h"
#include "compiler/targets/cpu/ObjectEmitter.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace vidnet {

struct BundleRequest {
  const ModelGraph &graph;
  const std::string &specText; // hashed into the manifest
  int64_t batch = 1;           // train_step's batch (forward is compiled per clip)
  bool trainStep = true;       // also compile vidnet_train_step
  cpu::MachineTarget target;
  std::string outDir;
  // Compile the CUDA target's kernels instead, every launch run as loops on the CPU: slow code,
  // for checking kernel formation against the reference on machines without a GPU.
  bool kernelsOnCpu = false;
  unsigned threads = 1; // LLVM parts compiled at once
  bool printSchedules = false; // the tile schedules print each conv's and filter gradient's on stderr
  // Compiled objects and whole libraries are looked up and stored here when given (vidc
  // passes the user's cache unless --no-cache).
  cpu::ObjectCache *cache = nullptr;
};

struct BundleTimings {
  double mlirSeconds = 0; // mlirgen and the MLIR pass pipeline
  double llvmSeconds = 0; // translation, O3 and code generation
  double linkSeconds = 0;
  cpu::EmitStats emit;           // the LLVM phase in detail
  bool libraryFromCache = false; // model.so came from the cache: no MLIR pipeline, no LLVM
};

// The bundle is assembled in a sibling temporary directory and renamed into place, so an
// existing bundle at `outDir` is replaced whole or not at all. A directory that is not a
// bundle (no manifest.json) is never overwritten. MLIR diagnostics go to the context's
// default handler (stderr); `error` says what failed.
bool writeCpuBundle(const BundleRequest &request, BundleTimings &timings, std::string &error);

// A bundle being assembled in `OUT.tmp.PID`: removed unless committed, which renames it to
// OUT, replacing an existing bundle whole (and refusing to replace anything else).
class BundleStaging {
public:
  BundleStaging() = default;
  ~BundleStaging();
  BundleStaging(const BundleStaging &) = delete;
  BundleStaging &operator=(const BundleStaging &) = delete;
  bool begin(const std::string &outDir, std::string &error);
  std::string path(const std::string &file) const { return (dir_ / file).string(); }
  bool write(const std::string &file, const std::string &text, std::string &error);
  // Records `file` (written or produced in the staging directory) in manifest["files"].
  bool record(const std::string &file, nlohmann::ordered_json &manifest, std::string &error) const;
  bool commit(std::string &error);

private:
  std::filesystem::path dir_, out_;
};

} // namespace vidnet
