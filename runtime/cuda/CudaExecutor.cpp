// The manifest's "cuda" launch plan, and the executor that runs it through the driver API.
#include "runtime/cuda/CudaExecutor.h"

#include "runtime/io/JsonReader.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <nlohmann/json.hpp>

namespace vidnet::rt {

namespace {

using nlohmann::json;

constexpr int kJitErrorLogBuffer = 5, kJitErrorLogBufferSizeBytes = 6;  // CUjit_option values
constexpr int64_t kMaxUnsigned = std::numeric_limits<unsigned>::max();
constexpr int64_t kMaxInt64 = std::numeric_limits<int64_t>::max();

// A file the bundle names must stay inside the bundle directory.
bool getFileName(JsonReader &r, const json &parent, const std::string &at, const char *key, std::string &out) {
  if (!r.nonEmptyString(parent, key, at, out))
    return false;
  if (out.find('/') == std::string::npos && out != "." && out != "..")
    return true;
  return r.fail(at + "." + key, "expected a file name inside the bundle, got \"" + out + "\"");
}

// "sm_90" -> 9.0, "sm_120" -> 12.0; a trailing feature letter ("sm_90a") does not change the capability.
bool parseArch(const std::string &arch, int &major, int &minor) {
  size_t end = arch.size();
  if (end > 0 && (arch[end - 1] == 'a' || arch[end - 1] == 'f'))
    --end;
  if (arch.rfind("sm_", 0) != 0 || end < 5 || end > 6)
    return false;
  int number = 0;
  for (size_t i = 3; i < end; ++i) {
    if (arch[i] < '0' || arch[i] > '9')
      return false;
    number = number * 10 + (arch[i] - '0');
  }
  major = number / 10;
  minor = number % 10;
  return true;
}

bool parseDims(JsonReader &r, const json &launch, const std::string &at, const char *key, int64_t (&dims)[3]) {
  const json *v = r.member(launch, key, at);
  if (!v)
    return false;
  int64_t d[3];
  std::string ignored;
  JsonReader quiet("", ignored);  // one message for any problem with the triple
  if (!v->is_array() || v->size() != 3 || !quiet.integerValue((*v)[0], "", d[0], 1, kMaxUnsigned) ||
      !quiet.integerValue((*v)[1], "", d[1], 1, kMaxUnsigned) || !quiet.integerValue((*v)[2], "", d[2], 1, kMaxUnsigned))
    return r.fail(at + "." + key, "expected 3 positive integers");
  for (int i = 0; i < 3; ++i)
    dims[i] = d[i];
  return true;
}

bool parseAbi(JsonReader &r, const json &v, const std::string &at, CudaArgSpec &spec) {
  if (!v.is_object())
    return r.expected(at, "an object", v);
  return r.nonEmptyString(v, "name", at, spec.name) &&
         r.integer(v, "bytes", at, spec.bytes, 1, kMaxInt64, "a positive integer") &&
         r.boolean(v, "output", at, spec.output);
}

bool parseArg(JsonReader &r, const json &v, const std::string &at, const CudaEntryPlan &entry, LaunchArg &arg) {
  if (!v.is_object() || v.contains("abi") == v.contains("arena"))
    return r.fail(at, "expected an object with exactly one of \"abi\" and \"arena\"");
  int64_t last = static_cast<int64_t>(entry.abi.size()) - 1, index = -1;
  arg.arenaOffset = 0;
  bool ok = v.contains("abi")
                ? r.integer(v, "abi", at, index, 0, last, "an index into abi (0 to " + std::to_string(last) + ")")
                : r.integer(v, "arena", at, arg.arenaOffset, 0, entry.arenaBytes - 1,
                            "a byte offset below arena_bytes (" + std::to_string(entry.arenaBytes) + ")");
  arg.abi = static_cast<int>(index);
  return ok;
}

bool parseLaunch(JsonReader &r, const json &v, const std::string &at, const CudaEntryPlan &entry, CudaLaunch &launch) {
  if (!v.is_object())
    return r.expected(at, "an object", v);
  if (!r.nonEmptyString(v, "kernel", at, launch.kernel) || !parseDims(r, v, at, "grid", launch.grid) ||
      !parseDims(r, v, at, "block", launch.block) ||
      (v.contains("shared_bytes") &&
       !r.integer(v, "shared_bytes", at, launch.sharedBytes, 0, kMaxUnsigned, "a non-negative integer")))
    return false;
  return r.array(v, "args", at, launch.args, [&](const json &a, const std::string &here, auto &arg) {
    return parseArg(r, a, here, entry, arg);
  });
}

bool parseEntry(JsonReader &r, const json &v, const std::string &at, CudaEntryPlan &entry) {
  if (!v.is_object())
    return r.expected(at, "an object", v);
  auto abi = [&](const json &a, const std::string &here, CudaArgSpec &spec) { return parseAbi(r, a, here, spec); };
  auto launch = [&](const json &l, const std::string &here, CudaLaunch &out) {
    return parseLaunch(r, l, here, entry, out);
  };
  return r.array(v, "abi", at, entry.abi, abi) &&
         r.integer(v, "arena_bytes", at, entry.arenaBytes, 0, kMaxInt64, "a non-negative integer") &&
         r.array(v, "launches", at, entry.launches, launch);
}

// std::string keeps a NUL after its bytes, which the driver needs to find the end of PTX text (and of garbage it
// takes for PTX).
bool readFile(const std::string &path, std::string &out, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (in)
    out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in && !in.bad())
    return true;
  error = path + ": cannot read: " + std::strerror(errno);
  return false;
}

} // namespace

bool parseCudaPlan(const json &cuda, CudaPlan &plan, std::string &error) {
  plan = {};
  error.clear();
  JsonReader r("", error);
  const std::string at = "cuda";
  if (!cuda.is_object())
    return r.expected(at, "an object", cuda);
  int major = 0, minor = 0;
  if (!r.nonEmptyString(cuda, "arch", at, plan.arch))
    return false;
  if (!parseArch(plan.arch, major, minor))
    return r.fail("cuda.arch", "expected sm_<major><minor> such as \"sm_90\", got \"" + plan.arch + "\"");
  if (!getFileName(r, cuda, at, "cubin", plan.cubinFile) || !getFileName(r, cuda, at, "ptx", plan.ptxFile))
    return false;
  const json *entries = r.member(cuda, "entry_points", at);
  if (!entries)
    return false;
  if (!entries->is_object() || entries->empty())
    return r.expected("cuda.entry_points", "a non-empty object", *entries);
  for (const auto &[name, value] : entries->items())
    if (!parseEntry(r, value, "cuda.entry_points." + name, plan.entries[name]))
      return false;
  return true;
}

std::unique_ptr<CudaExecutor> CudaExecutor::open(const std::string &bundleDir, const CudaPlan &plan,
                                                 std::string &error) {
  const CudaDriver *driver = CudaDriver::load(error);
  if (!driver)
    return nullptr;
  std::unique_ptr<CudaExecutor> executor(new CudaExecutor(*driver, plan));
  // A failure part-way leaves what was made so far to the destructor.
  if (!executor->attach(error) || !executor->loadModule(bundleDir, error))
    return nullptr;
  for (const auto &[name, entry] : executor->plan_.entries)
    if (!executor->prepare(name, entry, error))
      return nullptr;
  return executor;
}

CudaExecutor::~CudaExecutor() {
  if (!context_)
    return;
  // Calls need the context current on this thread, which need not be the one that opened the executor.
  cu_.cuCtxSetCurrent(context_);
  for (const auto &[name, entry] : entries_) {
    for (CUdeviceptr pointer : entry.abi)
      if (pointer)
        cu_.cuMemFree(pointer);
    if (entry.arena)
      cu_.cuMemFree(entry.arena);
  }
  if (module_)
    cu_.cuModuleUnload(module_);
  // The primary context is shared with anything else in the process that uses the device: released, not destroyed.
  cu_.cuDevicePrimaryCtxRelease(device_);
}

bool CudaExecutor::check(CUresult result, const std::string &what, std::string &error) const {
  if (result == kCudaSuccess)
    return true;
  error = what + ": " + cu_.describe(result);
  return false;
}

bool CudaExecutor::attach(std::string &error) {
  if (!cu_.selectDevice(device_, error) || !cu_.computeCapability(device_, major_, minor_, error))
    return false;
  name_ = cu_.deviceName(device_);
  CUcontext context = nullptr;
  if (!check(cu_.cuDevicePrimaryCtxRetain(&context, device_), name_ + ": cuDevicePrimaryCtxRetain", error))
    return false;
  context_ = context;
  return check(cu_.cuCtxSetCurrent(context_), name_ + ": cuCtxSetCurrent", error);
}

// The cubin when it was built for this device; otherwise the driver compiles the PTX for it.
bool CudaExecutor::loadModule(const std::string &bundleDir, std::string &error) {
  int major = 0, minor = 0;
  std::string rejected;
  if (parseArch(plan_.arch, major, minor) && major == major_ && minor == minor_) {
    std::string path = bundleDir + "/" + plan_.cubinFile, image;
    if (!readFile(path, image, error))
      return false;
    CUresult r = cu_.cuModuleLoadData(&module_, image.data());
    if (r != kCudaErrorNoBinaryForGpu && r != kCudaErrorInvalidImage)
      return check(r, path + ": cuModuleLoadData", error);
    rejected = "; the driver rejected its cubin: " + cu_.describe(r);
  }
  std::fprintf(stderr, "vidrun: JIT-compiling PTX for sm_%d%d (bundle compiled for %s%s)\n", major_, minor_,
               plan_.arch.c_str(), rejected.c_str());
  return loadPtx(bundleDir + "/" + plan_.ptxFile, error);
}

bool CudaExecutor::loadPtx(const std::string &path, std::string &error) {
  std::string text;
  if (!readFile(path, text, error))
    return false;
  // The JIT's own log says which line of the PTX it rejected; the result code alone does not.
  char log[4096] = {};
  int options[] = {kJitErrorLogBuffer, kJitErrorLogBufferSizeBytes};
  void *values[] = {log, reinterpret_cast<void *>(static_cast<uintptr_t>(sizeof log - 1))};
  CUresult r = cu_.cuModuleLoadDataEx(&module_, text.c_str(), 2, options, values);
  if (r == kCudaSuccess)
    return true;
  error = path + ": PTX JIT compilation failed: " + cu_.describe(r);
  if (std::string first(log, std::strcspn(log, "\n")); !first.empty())
    error += " (" + first + ")";
  return false;
}

bool CudaExecutor::allocate(CUdeviceptr &pointer, int64_t bytes, const std::string &what, std::string &error) {
  CUresult r = cu_.cuMemAlloc(&pointer, static_cast<size_t>(bytes));
  if (r != kCudaSuccess) {
    pointer = 0;
    return check(r, name_ + ": cuMemAlloc of " + std::to_string(bytes) + " bytes for " + what, error);
  }
  deviceBytes_ += bytes;
  // Zeroed so that what a kernel reads before any write is defined, not left over from another process.
  return check(cu_.cuMemsetD8(pointer, 0, static_cast<size_t>(bytes)), name_ + ": cuMemsetD8 of " + what, error);
}

bool CudaExecutor::prepare(const std::string &name, const CudaEntryPlan &plan, std::string &error) {
  Entry &entry = entries_[name];
  entry.abi.assign(plan.abi.size(), 0);
  for (size_t i = 0; i < plan.abi.size(); ++i)
    if (!allocate(entry.abi[i], plan.abi[i].bytes, name + "." + plan.abi[i].name, error))
      return false;
  if (plan.arenaBytes > 0 && !allocate(entry.arena, plan.arenaBytes, name + "'s arena", error))
    return false;
  for (size_t k = 0; k < plan.launches.size(); ++k) {
    const CudaLaunch &launch = plan.launches[k];
    std::string which = name + ": kernel " + std::to_string(k) + " (" + launch.kernel + ")";
    CUfunction function = nullptr;
    if (!check(cu_.cuModuleGetFunction(&function, module_, launch.kernel.c_str()), which, error))
      return false;
    entry.functions.push_back(function);
    // Each kernel argument is one bare device pointer; only arena views have a nonzero offset.
    std::vector<CUdeviceptr> &args = entry.args.emplace_back();
    for (const LaunchArg &arg : launch.args) {
      // parseCudaPlan has checked this; a plan built some other way must not index past the buffers.
      const int index = arg.abi;
      const int64_t offset = arg.arenaOffset;
      int64_t limit = index < 0 ? plan.arenaBytes : index < int(plan.abi.size()) ? plan.abi[index].bytes : 0;
      if (offset < 0 || offset >= limit) {
        error = which + ": an argument outside the entry's buffers";
        return false;
      }
      args.push_back((index < 0 ? entry.arena : entry.abi[index]) + static_cast<CUdeviceptr>(offset));
    }
  }
  return true;
}

bool CudaExecutor::launchAll(const CudaEntryPlan &plan, Entry &entry, std::string &error) {
  // Launches are asynchronous: a kernel's fault surfaces later. Synchronizing after each one pins it to its kernel.
  static const bool syncEach = [] {
    const char *value = std::getenv("VIDNET_CUDA_SYNC");
    return value && std::strcmp(value, "1") == 0;
  }();
  for (size_t k = 0; k < plan.launches.size(); ++k) {
    const CudaLaunch &l = plan.launches[k];
    std::vector<void *> params;
    for (CUdeviceptr &arg : entry.args[k])
      params.push_back(&arg);
    // parseCudaPlan has checked that every dimension and the shared bytes fit an unsigned.
    auto u = [](int64_t v) { return static_cast<unsigned>(v); };
    CUresult r = cu_.cuLaunchKernel(entry.functions[k], u(l.grid[0]), u(l.grid[1]), u(l.grid[2]), u(l.block[0]),
                                    u(l.block[1]), u(l.block[2]), u(l.sharedBytes), nullptr, params.data(), nullptr);
    if (r == kCudaSuccess && syncEach)
      r = cu_.cuCtxSynchronize();
    if (!check(r, "kernel " + std::to_string(k) + " (" + l.kernel + ")", error))
      return false;
  }
  return true;
}

int CudaExecutor::argIndex(const std::string &entry, const std::string &name) const {
  auto found = plan_.entries.find(entry);
  if (found == plan_.entries.end())
    return -1;
  for (size_t i = 0; i < found->second.abi.size(); ++i)
    if (found->second.abi[i].name == name)
      return static_cast<int>(i);
  return -1;
}

bool CudaExecutor::upload(const std::string &name, size_t arg, const void *host, std::string &error) {
  auto found = entries_.find(name);
  if (found == entries_.end() || arg >= found->second.abi.size() || plan_.entries.at(name).abi[arg].output) {
    error = "no input " + std::to_string(arg) + " of entry point \"" + name + "\" in the CUDA bundle";
    return false;
  }
  const CudaArgSpec &spec = plan_.entries.at(name).abi[arg];
  return check(cu_.cuCtxSetCurrent(context_), name + ": cuCtxSetCurrent", error) &&
         check(cu_.cuMemcpyHtoD(found->second.abi[arg], host, spec.bytes), name + ": copying in " + spec.name, error) &&
         check(cu_.cuCtxSynchronize(), name + ": copying in " + spec.name, error);
}

bool CudaExecutor::run(const std::string &name, const std::vector<void *> &host, std::string &error,
                       const std::vector<CudaInput> &inputs) {
  auto found = entries_.find(name);
  if (found == entries_.end()) {
    error = "no entry point \"" + name + "\" in the CUDA bundle";
    return false;
  }
  Entry &entry = found->second;
  const CudaEntryPlan &plan = plan_.entries.at(name);
  if (host.size() != plan.abi.size() || (!inputs.empty() && inputs.size() != plan.abi.size())) {
    error = name + ": " + std::to_string(host.size()) + " host buffers and " + std::to_string(inputs.size()) +
            " input sources for " + std::to_string(plan.abi.size()) + " arguments";
    return false;
  }
  for (size_t i = 0; i < inputs.size(); ++i)
    if (!plan.abi[i].output && inputs[i].from == CudaInput::From::Output &&
        (inputs[i].output >= plan.abi.size() || !plan.abi[inputs[i].output].output ||
         plan.abi[inputs[i].output].bytes != plan.abi[i].bytes)) {
      error = name + ": input " + plan.abi[i].name + " cannot be taken from argument " +
              std::to_string(inputs[i].output) + " (not an output of its size)";
      return false;
    }
  if (!check(cu_.cuCtxSetCurrent(context_), name + ": cuCtxSetCurrent", error))
    return false;
  using Clock = std::chrono::steady_clock;
  auto seconds = [](Clock::time_point from, Clock::time_point to) {
    return std::chrono::duration<double>(to - from).count();
  };
  lastRun_ = {};
  lastRun_.launches = static_cast<int64_t>(plan.launches.size());
  const Clock::time_point start = Clock::now();
  for (size_t i = 0; i < host.size(); ++i) {
    if (plan.abi[i].output)
      continue;
    const CudaInput::From from = inputs.empty() ? CudaInput::From::Host : inputs[i].from;
    const std::string what = name + ": copying in " + plan.abi[i].name;
    if ((from == CudaInput::From::Host && !check(cu_.cuMemcpyHtoD(entry.abi[i], host[i], plan.abi[i].bytes), what, error)) ||
        (from == CudaInput::From::Output &&
         !check(cu_.cuMemcpyDtoD(entry.abi[i], entry.abi[inputs[i].output], plan.abi[i].bytes), what, error)))
      return false;
  }
  // Copies from pageable host memory return once the data has left the host buffer, not when it has landed.
  if (!check(cu_.cuCtxSynchronize(), name + ": copying in", error))
    return false;
  const Clock::time_point copiedIn = Clock::now();
  if (!launchAll(plan, entry, error)) {
    error = name + ": " + error;
    return false;
  }
  if (!check(cu_.cuCtxSynchronize(), name + ": one of its " + std::to_string(plan.launches.size()) +
                                         " kernels failed (VIDNET_CUDA_SYNC=1 names which)", error))
    return false;
  const Clock::time_point launched = Clock::now();
  for (size_t i = 0; i < host.size(); ++i)
    if (plan.abi[i].output &&
        !check(cu_.cuMemcpyDtoH(host[i], entry.abi[i], plan.abi[i].bytes), name + ": copying out " + plan.abi[i].name,
               error))
      return false;
  lastRun_.copyInSeconds = seconds(start, copiedIn);
  lastRun_.kernelSeconds = seconds(copiedIn, launched);
  lastRun_.copyOutSeconds = seconds(launched, Clock::now());
  return true;
}

} // namespace vidnet::rt
