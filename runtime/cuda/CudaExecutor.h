// Runs a CUDA bundle's entry points: the manifest's launch plan, device buffers, and kernels launched in order.
#pragma once

#include "common/LaunchPlan.h"
#include "runtime/cuda/CudaDriver.h"

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <utility>
#include <vector>

namespace vidnet::rt {

using CudaArgSpec = launch_plan::AbiBuffer;
using CudaLaunch = launch_plan::KernelLaunch;
using CudaEntryPlan = launch_plan::EntryPlan;
using launch_plan::CudaPlan;
using launch_plan::LaunchArg;

// Parses manifest["cuda"]. Every missing or ill-typed field is an error naming its path, e.g.
// "cuda.entry_points.forward.launches[3].grid: expected 3 positive integers".
bool parseCudaPlan(const nlohmann::json &cuda, CudaPlan &plan, std::string &error);

// What the last run() of an entry point did, for benchmarks: wall-clock seconds of each phase
// (each ends with the device idle) and the kernels launched.
struct CudaRunStats {
  int64_t launches = 0;
  double copyInSeconds = 0, kernelSeconds = 0, copyOutSeconds = 0;
};

// Where run() takes an input from: the host buffer (copied in), its device buffer as it is (what upload() or an
// earlier run left there), or an output buffer of the same entry point as the last run left it (copied on the
// device: a training step's new weights become the next step's weights without a round trip through the host).
struct CudaInput {
  enum class From { Host, Device, Output };
  From from = From::Host;
  size_t output = 0;  // the output's ABI index, for From::Output
};

class CudaExecutor {
public:
  // Loads the bundle's cubin (or JIT-compiles its PTX when the device is another architecture), resolves every
  // kernel and allocates every entry point's buffers up front, so that run() only copies and launches.
  static std::unique_ptr<CudaExecutor> open(const std::string &bundleDir, const CudaPlan &plan, std::string &error);
  ~CudaExecutor();
  CudaExecutor(const CudaExecutor &) = delete;
  CudaExecutor &operator=(const CudaExecutor &) = delete;

  // host[i] holds ABI argument i (its plan's byte size): inputs are copied in, the kernels run in order on the
  // default stream, outputs are copied back. Not reentrant: the entry point's device buffers are shared.
  // `inputs`, when given, says per ABI argument where an input comes from (outputs ignore it).
  bool run(const std::string &entry, const std::vector<void *> &host, std::string &error,
           const std::vector<CudaInput> &inputs = {});
  // Copies `host` into input `arg` of `entry` now, for runs that take it as it is (CudaInput::From::Device).
  bool upload(const std::string &entry, size_t arg, const void *host, std::string &error);
  // The ABI index of the argument called `name` ("params", "new_params", ...) of `entry`; -1 if there is none.
  int argIndex(const std::string &entry, const std::string &name) const;
  std::string deviceName() const { return name_; }
  const CudaRunStats &lastRun() const { return lastRun_; }
  // Device memory this executor allocated: every entry point's buffers and arena.
  int64_t deviceBytes() const { return deviceBytes_; }

private:
  struct Entry {
    std::vector<CUdeviceptr> abi;
    CUdeviceptr arena = 0;
    std::vector<CUfunction> functions;            // per launch
    std::vector<std::vector<CUdeviceptr>> args;   // per launch: the kernel's pointer arguments
  };

  CudaExecutor(const CudaDriver &driver, const CudaPlan &plan) : cu_(driver), plan_(plan) {}
  bool attach(std::string &error);
  bool loadModule(const std::string &bundleDir, std::string &error);
  bool loadPtx(const std::string &path, std::string &error);
  bool prepare(const std::string &name, const CudaEntryPlan &plan, std::string &error);
  bool allocate(CUdeviceptr &pointer, int64_t bytes, const std::string &what, std::string &error);
  bool launchAll(const CudaEntryPlan &plan, Entry &entry, std::string &error);
  bool check(CUresult result, const std::string &what, std::string &error) const;

  const CudaDriver &cu_;
  CudaPlan plan_;
  CUdevice device_ = 0;
  CUcontext context_ = nullptr;
  CUmodule module_ = nullptr;
  int major_ = 0, minor_ = 0;
  std::string name_;
  std::map<std::string, Entry> entries_;
  CudaRunStats lastRun_;
  int64_t deviceBytes_ = 0;
};

} // namespace vidnet::rt
