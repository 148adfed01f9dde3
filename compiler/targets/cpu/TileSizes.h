// Tile-size arithmetic shared by the CPU schedules (vidnet-cpu-tile-convs, -tile-filter-grads).
#pragma once

#include <algorithm>
#include <cstdint>

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

} // namespace vidnet::cpu
