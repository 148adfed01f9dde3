// The runtime's threads for the compiled library's parallel loops: a persistent pool that the
// library's `vidnet_parallel_for` hook points at, so the library itself stays libc-only.
#pragma once

#include <cstdint>

namespace vidnet::rt {

// What a compiled parallel loop hands over: run items [begin, end) with the loop's arguments.
using ParallelRange = void (*)(void *arguments, int64_t begin, int64_t end);

// Runs range(arguments, ., .) over [0, count) on up to threads() workers (the caller is one
// of them) and returns when every item is done. Items are claimed in contiguous chunks; which
// thread runs an item never changes what it computes. A call made while the pool is busy
// (from another thread, or nested inside an item) or inside a SerialScope runs in place.
void parallelFor(ParallelRange range, void *arguments, int64_t count);

// Points a loaded library's `vidnet_parallel_for` hook at parallelFor (timed by the active
// LoopTimer, if any), if it has one (bundles compiled before the hook existed run their loops
// serially).
void connectParallelHook(void *library);

// While alive, this thread's parallelFor calls run in place: for callers that already run
// one compiled call per thread (Model::forward's clip workers).
class SerialScope {
public:
  SerialScope();
  ~SerialScope();
  SerialScope(const SerialScope &) = delete;
  SerialScope &operator=(const SerialScope &) = delete;

private:
  bool previous_;
};

} // namespace vidnet::rt
