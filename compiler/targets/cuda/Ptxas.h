// The CUDA toolkit's ptxas: finds it, assembles PTX into a cubin and reads its per-kernel
// resource report (registers, shared memory, stack, spills).
#pragma once

#include <map>
#include <string>

namespace vidnet::cuda {

struct KernelResources {
  int registers = 0;
  int sharedBytes = 0;  // static shared memory
  int stackBytes = 0;
  int spillStoreBytes = 0, spillLoadBytes = 0;
};

// The CUDA toolkit: $CUDA_HOME if it has bin/ptxas, else /usr/local/cuda; empty (and `error`
// says what to do) when neither has.
std::string findCudaToolkit(std::string &error);
std::string findPtxas(std::string &error);
// nvvm/libdevice/libdevice.10.bc of the toolkit (math functions: rsqrt, exp, log), or empty.
std::string findLibdevice();

// `ptxas -v` output -> resources per kernel name.
std::map<std::string, KernelResources> parsePtxasReport(const std::string &report);

// Assembles `ptxFile` for `chip` (sm_80, ...) into `cubinFile`; the report comes back parsed.
bool assemblePtx(const std::string &ptxFile, const std::string &chip, const std::string &cubinFile,
                 std::map<std::string, KernelResources> &resources, std::string &error);

} // namespace vidnet::cuda
