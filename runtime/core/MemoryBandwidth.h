// The machine's memory read bandwidth, measured: what `vidrun profile` sets a loop's least traffic against.
#pragma once

#include <cstddef>

namespace vidnet::rt {

// GB/s of `threads` threads reading a buffer of `bytes` (far more than a last-level cache holds),
// each its own contiguous share, best of `rounds`. 0 where the buffer cannot be allocated.
double measureReadBandwidth(unsigned threads, std::size_t bytes = std::size_t{256} << 20, int rounds = 3);

} // namespace vidnet::rt
