// What each parallel loop of the CPU schedules computes, carried from the pass that makes the
// loop to the table of loops in the bundle that `vidrun profile` reads.
#pragma once

#include "mlir/IR/Location.h"
#include "common/BundleFormat.h"
#include "llvm/ADT/ArrayRef.h"

#include <cstdint>
#include <string>

namespace vidnet::cpu {

// The work of one parallel loop. `layer` and `line` come from the spec's location.
struct LoopInfo {
  std::string kind;  // one of bundle::loop_kind (common/BundleFormat.h)
  std::string shape; // e.g. "3x3x3 64->64 /1x1x1, out 2x8x56x56"
  int64_t flops = 0; // multiply and add counted apart, products with padding left out; 0 when not a product
  int64_t bytes = 0; // what a loop reads and writes; for products the least their op must (convTrafficBytes)
  std::string layer;
  int64_t line = 0;
};

// Over all `outputs` positions of one axis, the (output, tap) pairs whose input row is real:
// `low` zero rows, then `extent` real ones, read with `stride`. Times the other axes' pairs and
// the channels, the products a convolution does that do not read padding: what GFLOP/s count,
// as the peers' benchmarks do.
inline int64_t realTapPairs(int64_t low, int64_t extent, int64_t stride, int64_t taps, int64_t outputs) {
  int64_t pairs = 0;
  for (int64_t o = 0; o < outputs; ++o)
    for (int64_t k = 0; k < taps; ++k)
      pairs += o * stride + k >= low && o * stride + k < low + extent;
  return pairs;
}

// 2 x the products of a convolution (filter DHWCF, output NDHWC) that read real input rows:
// along axis i the input is `low[i]` zero rows, then `extent[i]` real ones.
inline int64_t convFlops(llvm::ArrayRef<int64_t> filter, llvm::ArrayRef<int64_t> strides, llvm::ArrayRef<int64_t> out,
                         llvm::ArrayRef<int64_t> low, llvm::ArrayRef<int64_t> extent) {
  int64_t flops = 2 * out[0] * out[4] * filter[3];
  for (int i = 0; i < 3; ++i)
    flops *= realTapPairs(low[i], extent[i], strides[i], filter[i], out[i + 1]);
  return flops;
}

// Input rows of one axis that some (output, tap) pair reads: of `low` zero rows then `extent`
// real ones, the real rows that `outputs` outputs `stride` apart with `taps` taps touch.
inline int64_t realRowsRead(int64_t low, int64_t extent, int64_t stride, int64_t taps, int64_t outputs) {
  int64_t rows = 0;
  for (int64_t r = low; r < low + extent; ++r) {
    bool read = false;
    for (int64_t k = 0; k < taps && !read; ++k)
      read = r - k >= 0 && (r - k) % stride == 0 && (r - k) / stride < outputs;
    rows += read;
  }
  return rows;
}

// Taps of one axis that read some real row (the others read only padding, and are skipped).
inline int64_t realTaps(int64_t low, int64_t extent, int64_t stride, int64_t taps, int64_t outputs) {
  int64_t real = 0;
  for (int64_t k = 0; k < taps; ++k)
    real += realTapPairs(low - k, extent, stride, 1, outputs) > 0; // tap k's rows are tap 0's, k further on
  return real;
}

// The bytes a convolution (filter DHWCF, output NDHWC, input as for convFlops) must move at least
// once: the real input rows its products read (all their channels), the filter's taps that read
// them (`wholeFilter`: every tap, for a filter gradient, which writes dW whole), and the output.
// A filter gradient moves the same three tensors (x and dy read, dW written). Beside the FMA
// peak, `vidrun profile` sets their time at the measured memory bandwidth against the products'
// time: rows that cannot overlap the two are held to the share of the peak that leaves.
inline int64_t convTrafficBytes(llvm::ArrayRef<int64_t> filter, llvm::ArrayRef<int64_t> strides,
                                llvm::ArrayRef<int64_t> out, llvm::ArrayRef<int64_t> low,
                                llvm::ArrayRef<int64_t> extent, bool wholeFilter) {
  int64_t input = out[0] * filter[3], weights = filter[3] * filter[4];
  for (int i = 0; i < 3; ++i) {
    input *= realRowsRead(low[i], extent[i], strides[i], filter[i], out[i + 1]);
    weights *= wholeFilter ? filter[i] : realTaps(low[i], extent[i], strides[i], filter[i], out[i + 1]);
  }
  const int64_t output = out[0] * out[1] * out[2] * out[3] * out[4];
  return 4 * (input + weights + output);
}

// `loc` with `info`'s kind, shape, flops and bytes attached as FusedLoc metadata: the location
// survives bufferization, outlining and the LLVM dialect, where a discardable attribute on the
// loop would be dropped by the first pass that rebuilds it.
mlir::Location describeLoop(mlir::Location loc, const LoopInfo &info);

// What describeLoop attached (kind empty if nothing), with the first layer name and spec line
// found in the location.
LoopInfo loopInfo(mlir::Location loc);

// `loc` marked as a store of a whole result that nothing reads back soon and that is aligned to
// its vector's size (at most 64 bytes): vidnet-cpu-stream-stores makes the llvm.store it becomes
// non-temporal. Like describeLoop's metadata, the mark survives bufferization and lowering.
mlir::Location streamedStore(mlir::Location loc);
bool isStreamedStore(mlir::Location loc);

} // namespace vidnet::cpu
