// The CPU target's back end: LLVM-dialect module -> optimized ELF object -> shared object.
#pragma once

#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace vidnet::cpu {

struct MachineTarget {
  std::string triple;    // e.g. x86_64-unknown-linux-gnu
  std::string cpu;       // e.g. znver4; "host" asks LLVM for this machine's CPU
  std::string features;  // LLVM -mattr form, e.g. +avx2,+fma,...; filled in for "host"
};

// The machine vidc runs on (the default target: bundles are built where they run).
MachineTarget hostTarget();

// Translates `module` (LLVM dialect) to LLVM IR, runs the O3 pipeline for `target` and
// writes a position-independent object file. Returns false with a message on failure.
bool emitObjectFile(mlir::ModuleOp module, const MachineTarget &target, const std::string &objectPath,
                    std::string &error);

// Links the objects into one shared object with the system C compiler driver (cc).
bool linkSharedObject(const std::vector<std::string> &objectPaths, const std::string &sharedPath,
                      std::string &error);

} // namespace vidnet::cpu
