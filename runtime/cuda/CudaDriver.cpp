// Opens libcuda.so.1, binds the driver entry points the CUDA executor uses, and finds the device.
#include "runtime/cuda/CudaDriver.h"

#include <charconv>
#include <cstdlib>
#include <initializer_list>
#include <dlfcn.h>

namespace vidnet::rt {

namespace {

constexpr int kAttributeComputeMajor = 75;
constexpr int kAttributeComputeMinor = 76;

// Binds `fn` to the first of `names` the library exports. The names are the versioned ones <cuda.h> maps the API
// to: the unversioned symbols of those calls are kept for old binaries and have older (e.g. 32-bit size) ABIs.
template <typename Fn>
bool bind(void *library, Fn &fn, std::initializer_list<const char *> names, std::string &error) {
  for (const char *name : names)
    if (void *symbol = ::dlsym(library, name)) {
      fn = reinterpret_cast<Fn>(symbol);
      return true;
    }
  error = std::string("no CUDA driver: libcuda.so.1 lacks ") + *names.begin() + " (driver too old?)";
  return false;
}

bool bindAll(void *l, CudaDriver &d, std::string &e) {
  return bind(l, d.cuInit, {"cuInit"}, e) && bind(l, d.cuDeviceGetCount, {"cuDeviceGetCount"}, e) &&
         bind(l, d.cuDeviceGet, {"cuDeviceGet"}, e) && bind(l, d.cuDeviceGetName, {"cuDeviceGetName"}, e) &&
         bind(l, d.cuDeviceGetAttribute, {"cuDeviceGetAttribute"}, e) &&
         bind(l, d.cuDeviceTotalMem, {"cuDeviceTotalMem_v2"}, e) &&
         bind(l, d.cuDevicePrimaryCtxRetain, {"cuDevicePrimaryCtxRetain"}, e) &&
         bind(l, d.cuDevicePrimaryCtxRelease, {"cuDevicePrimaryCtxRelease_v2", "cuDevicePrimaryCtxRelease"}, e) &&
         bind(l, d.cuCtxSetCurrent, {"cuCtxSetCurrent"}, e) && bind(l, d.cuCtxSynchronize, {"cuCtxSynchronize"}, e) &&
         bind(l, d.cuMemAlloc, {"cuMemAlloc_v2"}, e) && bind(l, d.cuMemFree, {"cuMemFree_v2"}, e) &&
         bind(l, d.cuMemcpyHtoD, {"cuMemcpyHtoD_v2"}, e) && bind(l, d.cuMemcpyDtoH, {"cuMemcpyDtoH_v2"}, e) &&
         bind(l, d.cuMemcpyDtoD, {"cuMemcpyDtoD_v2"}, e) &&
         bind(l, d.cuMemsetD8, {"cuMemsetD8_v2"}, e) && bind(l, d.cuModuleLoadData, {"cuModuleLoadData"}, e) &&
         bind(l, d.cuModuleLoadDataEx, {"cuModuleLoadDataEx"}, e) &&
         bind(l, d.cuModuleUnload, {"cuModuleUnload"}, e) &&
         bind(l, d.cuModuleGetFunction, {"cuModuleGetFunction"}, e) &&
         bind(l, d.cuLaunchKernel, {"cuLaunchKernel"}, e) && bind(l, d.cuGetErrorName, {"cuGetErrorName"}, e) &&
         bind(l, d.cuGetErrorString, {"cuGetErrorString"}, e);
}

// A loaded library is kept for the life of the process: the driver keeps threads and state behind it.
bool openDriver(CudaDriver &driver, std::string &error) {
  void *library = ::dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!library) {
    const char *why = ::dlerror();
    error = std::string("no CUDA driver: cannot load libcuda.so.1 (") + (why ? why : "unknown reason") +
            "); this machine has no NVIDIA driver/GPU";
    return false;
  }
  if (!bindAll(library, driver, error))
    return false;
  // The toolkit's stub library cannot name its own error codes, so its case is spelled out here.
  if (CUresult r = driver.cuInit(0); r != kCudaSuccess) {
    error = "no CUDA device: cuInit failed: " +
            (r == kCudaErrorStubLibrary ? "CUDA_ERROR_STUB_LIBRARY: the libcuda.so.1 found is the CUDA toolkit's "
                                          "stub, not an NVIDIA driver"
                                        : driver.describe(r));
    return false;
  }
  if (CUresult r = driver.cuDeviceGetCount(&driver.deviceCount); r != kCudaSuccess) {
    error = "no CUDA device: cuDeviceGetCount failed: " + driver.describe(r);
    return false;
  }
  if (driver.deviceCount <= 0) {
    error = "no CUDA device: the driver reports 0 devices";
    return false;
  }
  return true;
}

struct LoadedDriver {
  CudaDriver driver{};
  std::string error;
  bool ok = false;
};

} // namespace

const CudaDriver *CudaDriver::load(std::string &error) {
  // A function-local static: initialized exactly once even when threads race to the first use.
  static const LoadedDriver loaded = [] {
    LoadedDriver l;
    l.ok = openDriver(l.driver, l.error);
    return l;
  }();
  if (!loaded.ok) {
    error = loaded.error;
    return nullptr;
  }
  return &loaded.driver;
}

std::string CudaDriver::describe(CUresult result) const {
  const char *name = nullptr, *text = nullptr;
  if (!cuGetErrorName || cuGetErrorName(result, &name) != kCudaSuccess || !name)
    return "CUDA error " + std::to_string(result);
  if (cuGetErrorString(result, &text) != kCudaSuccess || !text)
    return name;
  return std::string(name) + ": " + text;
}

bool CudaDriver::selectDevice(CUdevice &device, std::string &error) const {
  int ordinal = 0;
  if (const char *value = std::getenv("VIDNET_CUDA_DEVICE"); value && *value) {
    const char *end = value + std::char_traits<char>::length(value);
    auto [rest, ec] = std::from_chars(value, end, ordinal);
    if (ec != std::errc() || rest != end || ordinal < 0 || ordinal >= deviceCount) {
      error = std::string("VIDNET_CUDA_DEVICE=") + value + ": expected a device ordinal in [0, " +
              std::to_string(deviceCount) + ")";
      return false;
    }
  }
  if (CUresult r = cuDeviceGet(&device, ordinal); r != kCudaSuccess) {
    error = "cuDeviceGet(" + std::to_string(ordinal) + ") failed: " + describe(r);
    return false;
  }
  return true;
}

std::string CudaDriver::deviceName(CUdevice device) const {
  char name[256] = {};
  if (cuDeviceGetName(name, sizeof name - 1, device) != kCudaSuccess)
    return "CUDA device " + std::to_string(device);
  return name;
}

bool CudaDriver::computeCapability(CUdevice device, int &major, int &minor, std::string &error) const {
  CUresult r = cuDeviceGetAttribute(&major, kAttributeComputeMajor, device);
  if (r == kCudaSuccess)
    r = cuDeviceGetAttribute(&minor, kAttributeComputeMinor, device);
  if (r != kCudaSuccess)
    error = "cannot query the compute capability: " + describe(r);
  return r == kCudaSuccess;
}

} // namespace vidnet::rt
