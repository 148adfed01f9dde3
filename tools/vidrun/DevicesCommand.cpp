// `vidrun devices`: the CUDA devices this machine's driver offers, one line each; exit 1 with the reason when
// there is none (scripts use it to tell a GPU machine from one without).
#include "runtime/cuda/CudaDriver.h"
#include "tools/vidrun/VideoCommands.h"

#include <cstdio>

namespace vidnet {

int devicesCommand(int argc, char **, Usage usage, Fail fail) {
  if (argc > 2)
    return usage("devices takes no arguments");
  std::string error;
  const rt::CudaDriver *cu = rt::CudaDriver::load(error);
  if (!cu)
    return fail("no CUDA device: " + error);
  for (int i = 0; i < cu->deviceCount; ++i) {
    rt::CUdevice device = 0;
    int major = 0, minor = 0;
    size_t bytes = 0;
    if (cu->cuDeviceGet(&device, i) != rt::kCudaSuccess || !cu->computeCapability(device, major, minor, error) ||
        cu->cuDeviceTotalMem(&bytes, device) != rt::kCudaSuccess)
      return fail("cuda:" + std::to_string(i) + ": cannot query the device" + (error.empty() ? "" : ": " + error));
    std::printf("cuda:%d sm_%d%d %zu MiB %s\n", i, major, minor, bytes >> 20, cu->deviceName(device).c_str());
  }
  return 0;
}

} // namespace vidnet
