// What each parallel loop of the CPU schedules computes, carried from the pass that makes the
// loop to the table of loops in the bundle that `vidrun profile` reads.
#pragma once

#include "mlir/IR/Location.h"

#include <cstdint>
#include <string>

namespace vidnet::cpu {

// The work of one parallel loop. `layer` and `line` come from the spec's location.
struct LoopInfo {
  std::string kind;  // "conv", "conv data gradient", "conv filter gradient", "elementwise"
  std::string shape; // e.g. "3x3x3 64->64 /1x1x1, out 2x8x56x56"
  int64_t flops = 0; // multiply and add counted apart; 0 when not a product
  int64_t bytes = 0; // what an elementwise loop reads and writes; 0 for products
  std::string layer;
  int64_t line = 0;
};

// `loc` with `info`'s kind, shape, flops and bytes attached as FusedLoc metadata: the location
// survives bufferization, outlining and the LLVM dialect, where a discardable attribute on the
// loop would be dropped by the first pass that rebuilds it.
mlir::Location describeLoop(mlir::Location loc, const LoopInfo &info);

// What describeLoop attached (kind empty if nothing), with the first layer name and spec line
// found in the location.
LoopInfo loopInfo(mlir::Location loc);

} // namespace vidnet::cpu
