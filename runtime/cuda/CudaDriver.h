// The CUDA driver API, opened with dlopen at first use so the runtime builds and runs without the CUDA toolkit.
#pragma once

#include <cstddef>
#include <string>

namespace vidnet::rt {

// The few driver types used, declared here instead of taken from <cuda.h> (same sizes and ABI).
using CUresult = int;
using CUdevice = int;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
using CUdeviceptr = unsigned long long;

constexpr CUresult kCudaSuccess = 0;
constexpr CUresult kCudaErrorStubLibrary = 34;
constexpr CUresult kCudaErrorInvalidImage = 200;
constexpr CUresult kCudaErrorNoBinaryForGpu = 209;

// Function pointers into libcuda.so.1, bound to the versioned symbols <cuda.h> would pick.
struct CudaDriver {
  CUresult (*cuInit)(unsigned flags);
  CUresult (*cuDeviceGetCount)(int *count);
  CUresult (*cuDeviceGet)(CUdevice *device, int ordinal);
  CUresult (*cuDeviceGetName)(char *name, int length, CUdevice device);
  CUresult (*cuDeviceGetAttribute)(int *value, int attribute, CUdevice device);
  CUresult (*cuDeviceTotalMem)(size_t *bytes, CUdevice device);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *context, CUdevice device);
  CUresult (*cuDevicePrimaryCtxRelease)(CUdevice device);
  CUresult (*cuCtxSetCurrent)(CUcontext context);
  CUresult (*cuCtxSynchronize)();
  CUresult (*cuMemAlloc)(CUdeviceptr *pointer, size_t bytes);
  CUresult (*cuMemFree)(CUdeviceptr pointer);
  CUresult (*cuMemcpyHtoD)(CUdeviceptr device, const void *host, size_t bytes);
  CUresult (*cuMemcpyDtoH)(void *host, CUdeviceptr device, size_t bytes);
  CUresult (*cuMemcpyDtoD)(CUdeviceptr to, CUdeviceptr from, size_t bytes);
  CUresult (*cuMemsetD8)(CUdeviceptr device, unsigned char value, size_t bytes);
  CUresult (*cuModuleLoadData)(CUmodule *module, const void *image);
  CUresult (*cuModuleLoadDataEx)(CUmodule *module, const void *image, unsigned count, int *options, void **values);
  CUresult (*cuModuleUnload)(CUmodule module);
  CUresult (*cuModuleGetFunction)(CUfunction *function, CUmodule module, const char *name);
  CUresult (*cuLaunchKernel)(CUfunction function, unsigned gridX, unsigned gridY, unsigned gridZ, unsigned blockX,
                             unsigned blockY, unsigned blockZ, unsigned sharedBytes, CUstream stream, void **params,
                             void **extra);
  CUresult (*cuGetErrorName)(CUresult result, const char **text);
  CUresult (*cuGetErrorString)(CUresult result, const char **text);
  int deviceCount = 0;

  // The process-wide driver, initialized once (thread-safe); nullptr with a one-line reason when this machine has
  // no usable driver or device. The reason is the same on every call.
  static const CudaDriver *load(std::string &error);

  // "CUDA_ERROR_X: explanation" for a failed call.
  std::string describe(CUresult result) const;
  // The ordinal in VIDNET_CUDA_DEVICE (default 0), checked against the device count.
  bool selectDevice(CUdevice &device, std::string &error) const;
  std::string deviceName(CUdevice device) const;
  bool computeCapability(CUdevice device, int &major, int &minor, std::string &error) const;
};

} // namespace vidnet::rt
