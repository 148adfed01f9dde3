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

// $CUDA_HOME/bin/ptxas, else /usr/local/cuda/bin/ptxas; empty (and `error` says what to do)
// when neither exists.
std::string findPtxas(std::string &error);

// `ptxas -v` output -> resources per kernel name.
std::map<std::string, KernelResources> parsePtxasReport(const std::string &report);

// Assembles `ptxFile` for `chip` (sm_80, ...) into `cubinFile`; the report comes back parsed.
bool assemblePtx(const std::string &ptxFile, const std::string &chip, const std::string &cubinFile,
                 std::map<std::string, KernelResources> &resources, std::string &error);

} // namespace vidnet::cuda
