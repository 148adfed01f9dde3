// Tile-size arithmetic shared by the CPU schedules (vidnet-cpu-tile-convs, -tile-filter-grads).
#pragma once

#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <cstdint>
#include <utility>

namespace vidnet::cpu {

// The largest divisor of n that is at most cap (1 when there is none above 1): a static tile
// that covers n exactly, with no tail.
inline int64_t largestDivisorUpTo(int64_t n, int64_t cap) {
  for (int64_t d = std::min(n, cap); d > 1; --d)
    if (n % d == 0)
      return d;
  return 1;
}

inline int64_t roundUp(int64_t n, int64_t multiple) { return (n + multiple - 1) / multiple * multiple; }

// The target's vector registers, which size every register tile: f32 lanes per register and
// how many registers there are. AVX-512: 16 lanes, 32 registers; AVX2 (and AVX): 8 lanes, 16
// registers. A tile made for the first spills on the second (an 8 x 32 tile is 32 AVX2
// accumulators: r3d_18's model.so had a stack store per FMA).
struct VectorRegisters {
  int64_t lanes = 16, count = 32;
  static VectorRegisters forBits(int64_t bits) {
    return bits >= 512 ? VectorRegisters{16, 32} : VectorRegisters{std::max<int64_t>(4, bits / 32), 16};
  }
};

// Products that read W padding are skipped (conv edge tiles, filter-gradient column blocks) where
// they are at least this share of a conv's products: 4.8% at 14x14 outputs and 9.5% at 7x7
// (mc3_18's 1x3x3 convs there 3-4% and 5-8% faster), not 2.4% at 28x28 (no faster) or 1.2% at
// 56x56, which are not worth more copies of the tile's loops to compile.
constexpr double kMinSkippedWShare = 0.03;

// The outputs [first, end) of [begin, end) along one axis whose tap `tap` reads a real input
// position, not padding: input tap + o * stride - lowPadding in [0, extent). Clamped to
// [begin, end) each, so an empty range may have first > end.
inline std::pair<int64_t, int64_t> outputsReadingInput(int64_t begin, int64_t end, int64_t tap, int64_t stride,
                                                       int64_t lowPadding, int64_t extent) {
  const int64_t first = llvm::divideCeilSigned(lowPadding - tap, stride);
  const int64_t last = llvm::divideFloorSigned(lowPadding + extent - 1 - tap, stride) + 1;
  return {std::clamp(first, begin, end), std::clamp(last, begin, end)};
}

} // namespace vidnet::cpu
