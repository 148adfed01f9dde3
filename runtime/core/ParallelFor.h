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
// (from another thread, or nested inside an item) runs in place, except inside an item of
// parallelForHelped, where threads out of items may take chunks of it.
void parallelFor(ParallelRange range, void *arguments, int64_t count);

// parallelFor for items that run parallel loops of their own (a batch's clips, one forward each):
// a thread with no items left takes chunks of the loops that the other threads' items are
// running, until every item is done.
void parallelForHelped(ParallelRange range, void *arguments, int64_t count);

// What the compiled library's hook points at: parallelFor, its wall time added to row `loop`
// of the library's loop table in the active LoopTimer, if any, and the time of any chunks that
// threads out of items of a helped loop take of it (a forward's clips one per thread).
void timedParallelFor(ParallelRange range, void *arguments, int64_t count, int64_t loop);

// The pool's loops since the process started, so that a benchmark can tell the pool's doing from
// the machine's: loops that ran on the calling thread alone because the pool was busy with
// another thread's loop, and chunks a thread took from another thread's share (which that thread
// had not started on: asleep, descheduled or slower). A forward of 2 clips on 2 threads whose
// worker never got a CPU shows as one chunk taken per call.
struct PoolCounters {
  int64_t loopsRunInline = 0, chunksTakenFromOthers = 0;
};
PoolCounters poolCounters();

// Points a loaded library's `vidnet_parallel_for` hook at timedParallelFor, if it has one
// (bundles compiled before the hook existed run their loops serially).
void connectParallelHook(void *library);

} // namespace vidnet::rt
