// `vidc kernels BUNDLE`: the kernels of a CUDA bundle as ptxas reported them.
#pragma once

#include <string>

namespace vidnet {

// Prints per entry point the kernel count beside the vidnet op count, then one line per
// kernel (launch, registers, shared memory, spills, the ops it computes); with `json`, the
// same as one JSON object. Returns the process exit code.
int printKernels(const std::string &bundleDir, bool json);

} // namespace vidnet
