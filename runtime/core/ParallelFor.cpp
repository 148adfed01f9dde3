// The worker pool behind parallelFor: workers spin briefly, then sleep on a condition variable
// between loops. Each thread (the caller too) claims chunks from the front of its own share of
// the items, then takes chunks from the back of the others' shares. In a loop of items that run
// loops of their own (parallelForHelped), a thread out of items then takes chunks of those.
// A training step runs a hundred loops or more, many of them short: a sleeping worker's wake-up
// (tens of microseconds on a VM) would cost more than the work it takes over.
#include "runtime/core/ParallelFor.h"

#include "runtime/core/LoopProfile.h"
#include "runtime/core/Model.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <dlfcn.h>
#include <mutex>
#include <thread>
#include <vector>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

namespace vidnet::rt {
namespace {

thread_local bool inlineOnly = false; // inside an item
thread_local int selfIndex = 0;       // the thread's place in the pool, while it claims items
thread_local int64_t timedLoop = -1;  // the compiled loop timedParallelFor runs, for its helpers
std::atomic<int64_t> loopsRunInline{0}, chunksTakenFromOthers{0}; // poolCounters()

// About 10-20 microseconds of polling before sleeping: enough to bridge the serial code between
// two loops, short enough not to starve another process of the core.
constexpr int kSpins = 4000;

constexpr int64_t kChunksPerThread = 64;

// A thread's share of a loop's chunks, [first, end) packed in one word (first in the low half):
// its owner claims from the front and the others from the back, each with a compare-and-swap.
struct alignas(64) Share {
  std::atomic<uint64_t> span{0};

  void set(uint64_t first, uint64_t end) { span.store(first | end << 32, std::memory_order_relaxed); }
  // The claimed chunk, or -1 when the share is empty.
  int64_t take(bool fromFront) {
    uint64_t old = span.load(std::memory_order_relaxed);
    for (;;) {
      uint64_t first = old & 0xffffffffu, end = old >> 32;
      if (first >= end)
        return -1;
      uint64_t rest = fromFront ? (first + 1) | end << 32 : first | (end - 1) << 32;
      if (span.compare_exchange_weak(old, rest, std::memory_order_acq_rel, std::memory_order_relaxed))
        return static_cast<int64_t>(fromFront ? first : end - 1);
    }
  }
};

// Chunk `c` of a loop of `count` items in chunks of `chunk`: items [c * chunk, (c + 1) * chunk).
void runChunkOf(ParallelRange range, void *arguments, int64_t count, int64_t chunk, int64_t c) {
  range(arguments, c * chunk, std::min(count, (c + 1) * chunk));
}

// A loop that an item of a helped loop runs inside itself (one clip's forward runs hundreds),
// published for the threads that have no items of their own left: its owner claims chunks from
// the front, they take from the back. Its description is written before its chunks are
// published (release) and read by a helper only after it took a chunk, which the owner waits
// for, so it cannot change under the helper.
struct alignas(64) Nested {
  Share left;                         // chunks not yet claimed
  std::atomic<int64_t> unfinished{0}; // chunks not yet done
  std::atomic<ParallelRange> range{nullptr};
  std::atomic<void *> arguments{nullptr};
  std::atomic<int64_t> count{0}, chunk{1};
  std::atomic<int64_t> timed{-1}; // its row in the loop table, or -1

  void runChunk(int64_t c) const {
    runChunkOf(range.load(std::memory_order_relaxed), arguments.load(std::memory_order_relaxed),
               count.load(std::memory_order_relaxed), chunk.load(std::memory_order_relaxed), c);
  }
};

int64_t nanosecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
}

void relax() {
#if defined(__x86_64__)
  _mm_pause();
#endif
}

class Pool {
public:
  explicit Pool(int threads) : shares_(threads), nested_(threads) {
    for (int i = 1; i < threads; ++i)
      workers_.emplace_back([this, i] { work(i); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    wake_.notify_all();
    for (std::thread &t : workers_)
      t.join();
  }

  int threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Items per chunk of a loop of `count` (see run).
  int64_t chunkSize(int64_t count) const { return std::max<int64_t>(1, count / (kChunksPerThread * threads())); }

  // A loop inside an item of a helped loop: shared with the threads out of items, if there are
  // any (else false: run it in place).
  bool runNested(ParallelRange range, void *arguments, int64_t count) {
    if (helpers_.load(std::memory_order_relaxed) == 0)
      return false;
    Nested &loop = nested_[selfIndex];
    const int64_t chunk = chunkSize(count), chunks = (count + chunk - 1) / chunk;
    loop.range.store(range, std::memory_order_relaxed);
    loop.arguments.store(arguments, std::memory_order_relaxed);
    loop.count.store(count, std::memory_order_relaxed);
    loop.chunk.store(chunk, std::memory_order_relaxed);
    loop.timed.store(timedLoop, std::memory_order_relaxed);
    loop.unfinished.store(chunks, std::memory_order_relaxed);
    loop.left.span.store(static_cast<uint64_t>(chunks) << 32, std::memory_order_release);
    int64_t done = 0;
    for (int64_t c; (c = loop.left.take(true)) >= 0; ++done)
      loop.runChunk(c);
    if (loop.unfinished.fetch_sub(done, std::memory_order_acq_rel) != done)
      while (loop.unfinished.load(std::memory_order_acquire) != 0)
        relax();
    return true;
  }

  // False when another loop holds the pool.
  bool run(ParallelRange range, void *arguments, int64_t count, bool helped) {
    std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
    if (!busy.owns_lock())
      return false;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      range_ = range;
      arguments_ = arguments;
      count_ = count;
      // Many small chunks per thread: a loop's threads end together even when one of them runs
      // slower (a VM's neighbours, the other thread's misses), and a loop of few heavy items (18
      // filter blocks) gets one item per chunk instead of 9 chunks of 2 for 2 threads. With 4
      // chunks per thread, torchvision r2plus1d_18's forward was 3% and r3d_18's step 2.5% slower
      // on 2 threads; an atomic per chunk of tens of tiles costs nothing measurable.
      chunk_ = chunkSize(count);
      // Thread t starts on the t-th share of the chunks, so a loop run again and again (a filter
      // gradient's loop, once per chunk of positions) gives each thread mostly the same items,
      // whose sums stay in its own cache. Claimed from one counter before, each call sent about
      // half of r3d_18's 442 KB layer1 filter gradient from one core's L2 to the other's.
      const int64_t chunks = (count + chunk_ - 1) / chunk_;
      for (int t = 0; t < threads(); ++t)
        shares_[t].set(static_cast<uint64_t>(chunks * t / threads()),
                       static_cast<uint64_t>(chunks * (t + 1) / threads()));
      active_ = static_cast<int>(workers_.size());
      helped_ = helped;
      claiming_.store(threads(), std::memory_order_relaxed);
      generation_.fetch_add(1, std::memory_order_release);
    }
    wake_.notify_all();
    claim(0);
    for (int i = 0; i < kSpins && active_.load(std::memory_order_acquire) != 0; ++i)
      relax();
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [&] { return active_.load() == 0; });
    return true;
  }

private:
  void claim(int self) {
    bool previous = inlineOnly;
    inlineOnly = true;
    selfIndex = self;
    const int n = threads();
    for (int k = 0; k < n; ++k) {
      Share &share = shares_[(self + k) % n];
      for (int64_t c; (c = share.take(k == 0)) >= 0;) {
        if (k > 0)
          chunksTakenFromOthers.fetch_add(1, std::memory_order_relaxed);
        runChunkOf(range_, arguments_, count_, chunk_, c);
      }
    }
    if (helped_) {
      // Until every thread is out of items: chunks of the loops the others run inside theirs.
      // Batch 2 on 2 threads is one clip each, and a clip's forward on a core that something
      // else slows down would otherwise take the whole call with it. r3d_18's forward at batch
      // 2 (the two threads pinned one per CPU, a busy loop sharing the second): 0.66-0.72 s per
      // call with this help, 0.98-1.04 s without.
      helpers_.fetch_add(1, std::memory_order_relaxed);
      claiming_.fetch_sub(1, std::memory_order_acq_rel);
      while (claiming_.load(std::memory_order_acquire) != 0) {
        bool took = false;
        for (int k = 1; k < n; ++k) {
          Nested &loop = nested_[(self + k) % n];
          for (int64_t c; (c = loop.left.take(false)) >= 0; took = true) {
            // The chunk's time goes to the loop's row, as the owner's does: a profile's rows are
            // every thread's time in them (the owner's wait for this chunk is in its own).
            if (LoopTimer *timer = LoopTimer::active()) {
              const int64_t timed = loop.timed.load(std::memory_order_relaxed);
              const auto start = std::chrono::steady_clock::now();
              loop.runChunk(c);
              timer->addHelp(timed, nanosecondsSince(start));
            } else {
              loop.runChunk(c);
            }
            loop.unfinished.fetch_sub(1, std::memory_order_release);
          }
        }
        if (!took)
          relax();
      }
      helpers_.fetch_sub(1, std::memory_order_relaxed);
    }
    inlineOnly = previous;
  }

  void work(int self) {
    uint64_t seen = 0;
    for (;;) {
      for (int i = 0; i < kSpins && generation_.load(std::memory_order_acquire) == seen; ++i)
        relax();
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return stopping_ || generation_.load() != seen; });
        if (stopping_)
          return;
        seen = generation_.load();
      }
      claim(self);
      if (active_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mutex_);
        done_.notify_one();
      }
    }
  }

  std::vector<std::thread> workers_;
  std::mutex busy_;  // one loop at a time
  std::mutex mutex_; // guards the loop description and stopping_; held to change generation_
  std::condition_variable wake_, done_;
  ParallelRange range_ = nullptr;
  void *arguments_ = nullptr;
  int64_t count_ = 0, chunk_ = 1;
  std::vector<Share> shares_; // one per thread, the caller's first
  std::vector<Nested> nested_;                // the loop each thread runs inside its item of a helped loop
  bool helped_ = false;                       // the current loop's items run loops of their own
  std::atomic<int> claiming_{0}, helpers_{0}; // threads with items left; threads out of them
  std::atomic<int> active_{0};
  std::atomic<uint64_t> generation_{0};
  bool stopping_ = false;
};

Pool &pool() {
  static Pool instance(Model::threads());
  return instance;
}

} // namespace

void parallelFor(ParallelRange range, void *arguments, int64_t count) {
  if (count <= 0)
    return;
  if (inlineOnly) {
    if (count == 1 || !pool().runNested(range, arguments, count))
      range(arguments, 0, count);
    return;
  }
  if (count == 1 || pool().threads() == 1)
    return range(arguments, 0, count);
  if (!pool().run(range, arguments, count, false)) {
    loopsRunInline.fetch_add(1, std::memory_order_relaxed);
    range(arguments, 0, count);
  }
}

void parallelForHelped(ParallelRange range, void *arguments, int64_t count) {
  if (count <= 0)
    return;
  if (inlineOnly || pool().threads() == 1)
    return range(arguments, 0, count);
  if (!pool().run(range, arguments, count, true)) {
    loopsRunInline.fetch_add(1, std::memory_order_relaxed);
    range(arguments, 0, count);
  }
}

PoolCounters poolCounters() {
  return {loopsRunInline.load(std::memory_order_relaxed), chunksTakenFromOthers.load(std::memory_order_relaxed)};
}

void timedParallelFor(ParallelRange range, void *arguments, int64_t count, int64_t loop) {
  LoopTimer *timer = LoopTimer::active();
  if (!timer)
    return parallelFor(range, arguments, count);
  const int64_t outer = timedLoop;
  timedLoop = loop;
  auto start = std::chrono::steady_clock::now();
  parallelFor(range, arguments, count);
  timer->add(loop, nanosecondsSince(start));
  timedLoop = outer;
}

void connectParallelHook(void *library) {
  using Hook = void (*)(ParallelRange, void *, int64_t, int64_t);
  if (auto *slot = static_cast<Hook *>(dlsym(library, "vidnet_parallel_for")))
    *slot = &timedParallelFor;
}

} // namespace vidnet::rt
