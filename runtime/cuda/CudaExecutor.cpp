// The manifest's "cuda" launch plan, and the executor that runs it through the driver API.
#include "runtime/cuda/CudaExecutor.h"

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

// What a rejected value was, for "expected ..., got ..." messages.
std::string got(const json &v) {
  if (v.is_number() || v.is_boolean() || v.is_null())
    return v.dump();
  return std::string(v.is_array() || v.is_object() ? "an " : "a ") + v.type_name();
}

bool fail(std::string &error, const std::string &at, const std::string &expected, const json &v) {
  error = at + ": expected " + expected + ", got " + got(v);
  return false;
}

const json *member(const json &parent, const std::string &at, const char *key, std::string &error) {
  auto it = parent.find(key);
  if (it == parent.end()) {
    error = at + "." + key + ": missing";
    return nullptr;
  }
  return &*it;
}

bool integerIn(const json &v, int64_t min, int64_t max, int64_t &out) {
  // A value above INT64_MAX is stored unsigned and must not wrap into range.
  if (!v.is_number_integer() || (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(kMaxInt64)))
    return false;
  out = v.get<int64_t>();
  return out >= min && out <= max;
}

bool getInteger(const json &parent, const std::string &at, const char *key, int64_t min, int64_t max,
                const char *expected, int64_t &out, std::string &error) {
  const json *v = member(parent, at, key, error);
  return v && (integerIn(*v, min, max, out) || fail(error, at + "." + key, expected, *v));
}

bool getString(const json &parent, const std::string &at, const char *key, std::string &out, std::string &error) {
  const json *v = member(parent, at, key, error);
  if (!v)
    return false;
  if (!v->is_string() || v->get_ref<const std::string &>().empty())
    return fail(error, at + "." + key, "a non-empty string", *v);
  out = v->get<std::string>();
  return true;
}

// A file the bundle names must stay inside the bundle directory.
bool getFileName(const json &parent, const std::string &at, const char *key, std::string &out, std::string &error) {
  if (!getString(parent, at, key, out, error))
    return false;
  if (out.find('/') == std::string::npos && out != "." && out != "..")
    return true;
  error = at + "." + key + ": expected a file name inside the bundle, got \"" + out + "\"";
  return false;
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

bool parseDims(const json &launch, const std::string &at, const char *key, unsigned (&dims)[3], std::string &error) {
  const json *v = member(launch, at, key, error);
  if (!v)
    return false;
  int64_t d[3];
  if (!v->is_array() || v->size() != 3 || !integerIn((*v)[0], 1, kMaxUnsigned, d[0]) ||
      !integerIn((*v)[1], 1, kMaxUnsigned, d[1]) || !integerIn((*v)[2], 1, kMaxUnsigned, d[2])) {
    error = at + "." + key + ": expected 3 positive integers";
    return false;
  }
  for (int i = 0; i < 3; ++i)
    dims[i] = static_cast<unsigned>(d[i]);
  return true;
}

// parent[key] must be an array; parse(element, its path, out[i]) fills each element.
template <typename T, typename Parse>
bool parseArray(const json &parent, const std::string &at, const char *key, std::vector<T> &out, std::string &error,
                Parse parse) {
  const json *v = member(parent, at, key, error);
  if (!v)
    return false;
  if (!v->is_array() || v->empty())
    return fail(error, at + "." + key, "a non-empty array", *v);
  out.resize(v->size());
  for (size_t i = 0; i < v->size(); ++i)
    if (!parse((*v)[i], at + "." + key + "[" + std::to_string(i) + "]", out[i]))
      return false;
  return true;
}

bool parseAbi(const json &v, const std::string &at, CudaArgSpec &spec, std::string &error) {
  if (!v.is_object())
    return fail(error, at, "an object", v);
  if (!getString(v, at, "name", spec.name, error) ||
      !getInteger(v, at, "bytes", 1, kMaxInt64, "a positive integer", spec.bytes, error))
    return false;
  const json *output = member(v, at, "output", error);
  if (!output)
    return false;
  if (!output->is_boolean())
    return fail(error, at + ".output", "true or false", *output);
  spec.output = output->get<bool>();
  return true;
}

bool parseArg(const json &v, const std::string &at, const CudaEntryPlan &entry, std::pair<int, int64_t> &arg,
              std::string &error) {
  if (!v.is_object() || v.contains("abi") == v.contains("arena")) {
    error = at + ": expected an object with exactly one of \"abi\" and \"arena\"";
    return false;
  }
  int64_t last = static_cast<int64_t>(entry.abi.size()) - 1, index = -1;
  arg.second = 0;
  bool ok = v.contains("abi")
                ? getInteger(v, at, "abi", 0, last, ("an index into abi (0 to " + std::to_string(last) + ")").c_str(),
                             index, error)
                : getInteger(v, at, "arena", 0, entry.arenaBytes - 1,
                             ("a byte offset below arena_bytes (" + std::to_string(entry.arenaBytes) + ")").c_str(),
                             arg.second, error);
  arg.first = static_cast<int>(index);
  return ok;
}

bool parseLaunch(const json &v, const std::string &at, const CudaEntryPlan &entry, CudaLaunch &launch,
                 std::string &error) {
  if (!v.is_object())
    return fail(error, at, "an object", v);
  int64_t shared = 0;
  if (!getString(v, at, "kernel", launch.kernel, error) || !parseDims(v, at, "grid", launch.grid, error) ||
      !parseDims(v, at, "block", launch.block, error) ||
      (v.contains("shared_bytes") &&
       !getInteger(v, at, "shared_bytes", 0, kMaxUnsigned, "a non-negative integer", shared, error)))
    return false;
  launch.sharedBytes = static_cast<unsigned>(shared);
  return parseArray(v, at, "args", launch.args, error, [&](const json &a, const std::string &here, auto &arg) {
    return parseArg(a, here, entry, arg, error);
  });
}

bool parseEntry(const json &v, const std::string &at, CudaEntryPlan &entry, std::string &error) {
  if (!v.is_object())
    return fail(error, at, "an object", v);
  auto abi = [&](const json &a, const std::string &here, CudaArgSpec &spec) { return parseAbi(a, here, spec, error); };
  auto launch = [&](const json &l, const std::string &here, CudaLaunch &out) {
    return parseLaunch(l, here, entry, out, error);
  };
  return parseArray(v, at, "abi", entry.abi, error, abi) &&
         getInteger(v, at, "arena_bytes", 0, kMaxInt64, "a non-negative integer", entry.arenaBytes, error) &&
         parseArray(v, at, "launches", entry.launches, error, launch);
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
  const std::string at = "cuda";
  if (!cuda.is_object())
    return fail(error, at, "an object", cuda);
  int major = 0, minor = 0;
  if (!getString(cuda, at, "arch", plan.arch, error))
    return false;
  if (!parseArch(plan.arch, major, minor)) {
    error = "cuda.arch: expected sm_<major><minor> such as \"sm_90\", got \"" + plan.arch + "\"";
    return false;
  }
  if (!getFileName(cuda, at, "cubin", plan.cubinFile, error) || !getFileName(cuda, at, "ptx", plan.ptxFile, error))
    return false;
  const json *entries = member(cuda, at, "entry_points", error);
  if (!entries)
    return false;
  if (!entries->is_object() || entries->empty())
    return fail(error, "cuda.entry_points", "a non-empty object", *entries);
  for (const auto &[name, value] : entries->items())
    if (!parseEntry(value, "cuda.entry_points." + name, plan.entries[name], error))
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
    for (auto [index, offset] : launch.args) {
      // parseCudaPlan has checked this; a plan built some other way must not index past the buffers.
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
    CUresult r = cu_.cuLaunchKernel(entry.functions[k], l.grid[0], l.grid[1], l.grid[2], l.block[0], l.block[1],
                                    l.block[2], l.sharedBytes, nullptr, params.data(), nullptr);
    if (r == kCudaSuccess && syncEach)
      r = cu_.cuCtxSynchronize();
    if (!check(r, "kernel " + std::to_string(k) + " (" + l.kernel + ")", error))
      return false;
  }
  return true;
}

bool CudaExecutor::run(const std::string &name, const std::vector<void *> &host, std::string &error) {
  auto found = entries_.find(name);
  if (found == entries_.end()) {
    error = "no entry point \"" + name + "\" in the CUDA bundle";
    return false;
  }
  Entry &entry = found->second;
  const CudaEntryPlan &plan = plan_.entries.at(name);
  if (host.size() != plan.abi.size()) {
    error = name + ": " + std::to_string(host.size()) + " host buffers for " + std::to_string(plan.abi.size()) +
            " arguments";
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
  for (size_t i = 0; i < host.size(); ++i)
    if (!plan.abi[i].output &&
        !check(cu_.cuMemcpyHtoD(entry.abi[i], host[i], plan.abi[i].bytes), name + ": copying in " + plan.abi[i].name,
               error))
      return false;
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
