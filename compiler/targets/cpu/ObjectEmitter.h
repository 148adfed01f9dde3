// The CPU target's back end: LLVM-dialect module -> optimized ELF object -> shared object.
#pragma once

#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace vidnet::cpu {

struct MachineTarget {
  std::string triple;   // e.g. x86_64-unknown-linux-gnu
  std::string cpu;      // e.g. znver4; "host" asks LLVM for this machine's CPU
  std::string features; // LLVM -mattr form, e.g. +avx2,+fma,...; filled in for "host"
};

// The machine vidc runs on (the default target: bundles are built where they run).
MachineTarget hostTarget();

// The LLVM CPU `cpuName` on this machine's triple, its features derived from the name; the host
// itself for "" or "host".
MachineTarget namedTarget(const std::string &cpuName);

// Bits of `target`'s vector registers, which size the CPU pipeline's register tiles: 512 with
// AVX-512, 256 with AVX or AVX2, 128 otherwise (and for targets other than x86).
int64_t vectorBits(const MachineTarget &target);

class ObjectCache;

// LLVM instructions per part, at least (the last excepted): about 30 parts for r3d_18's
// train_step, enough to keep every core busy and each object worth its own cache entry.
inline constexpr size_t kPartInstructions = 4000;

struct EmitOptions {
  ObjectCache *cache = nullptr; // objects are looked up and stored here, when given
  unsigned threads = 1;         // parts compiled at once
  size_t firstPart = 0;         // number of the first part's object file (objectStem.partN.o)
};

struct EmitStats {
  size_t functions = 0;        // defined LLVM functions, after loop extraction
  size_t parts = 0;            // objects written
  size_t partsFromCache = 0;   // of those, read from the cache instead of compiled
  double translateSeconds = 0; // LLVM IR, loop extraction and the cut into parts
  double optimizeSeconds = 0;  // O3, summed over the parts
  double codegenSeconds = 0;   // instruction selection to object, summed over the parts
  double parallelSeconds = 0;  // wall time of O3 and code generation on `threads` threads
};

// Translates `module` (LLVM dialect) to LLVM IR, moves the loop nests left in its exported
// functions into functions of their own, and cuts it into parts of whole functions, in
// module order, each at least `minPartInstructions` long: bitcode appended to `parts`. The
// cut depends on the module only. Module-local symbols become hidden ones named
// `localPrefix`NAME: give each module linked into one library a prefix of its own.
// `functions` counts the defined functions.
bool cutIntoParts(mlir::ModuleOp module, const MachineTarget &target, const std::string &localPrefix,
                  size_t minPartInstructions, std::vector<std::string> &parts, size_t &functions, std::string &error);

// Runs the O3 pipeline for `target` and code generation on each part (`options.threads` at
// once, objects from `options.cache` where it has them) and writes one position-independent
// object per part, OBJECTSTEM.partN.o, appended to `objectPaths` in the parts' order. The
// objects are the same whatever the number of threads. Returns false with a message on
// failure.
bool compileParts(const std::vector<std::string> &parts, const MachineTarget &target, const std::string &objectStem,
                  const EmitOptions &options, std::vector<std::string> &objectPaths, EmitStats &stats,
                  std::string &error);

// Links the objects into one shared object with the system C compiler driver (cc).
bool linkSharedObject(const std::vector<std::string> &objectPaths, const std::string &sharedPath, std::string &error);

} // namespace vidnet::cpu
