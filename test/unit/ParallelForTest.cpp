// The runtime's parallelFor: every item runs exactly once, in contiguous ranges, also when
// threads take items from each other's shares; nested calls run in place on the calling thread,
// except inside parallelForHelped's items, whose loops a thread out of items takes chunks of.
#include "runtime/core/ParallelFor.h"
#include "runtime/core/LoopProfile.h"
#include "runtime/core/Model.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

namespace vidnet::rt {
namespace {

struct Record {
  std::vector<std::atomic<int>> hits;
  std::mutex mutex;
  std::set<std::thread::id> threads;
  explicit Record(int64_t n) : hits(n) {}
};

void countItems(void *arguments, int64_t begin, int64_t end) {
  auto *r = static_cast<Record *>(arguments);
  ASSERT_LE(begin, end);
  for (int64_t i = begin; i < end; ++i)
    ++r->hits[i];
  std::lock_guard<std::mutex> lock(r->mutex);
  r->threads.insert(std::this_thread::get_id());
}

TEST(ParallelForTest, RunsEveryItemExactlyOnce) {
  for (int64_t n : {1, 2, 3, 7, 64, 1000, 100003}) {
    Record r(n);
    parallelFor(&countItems, &r, n);
    for (int64_t i = 0; i < n; ++i)
      ASSERT_EQ(r.hits[i].load(), 1) << "item " << i << " of " << n;
  }
}

void slowFirstItem(void *arguments, int64_t begin, int64_t end) {
  if (begin == 0) // the caller's share: the other threads finish theirs and take from its back
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  countItems(arguments, begin, end);
}

TEST(ParallelForTest, ItemsTakenFromASlowThreadRunOnce) {
  for (int64_t n : {2, 5, 640, 100003}) {
    Record r(n);
    parallelFor(&slowFirstItem, &r, n);
    for (int64_t i = 0; i < n; ++i)
      ASSERT_EQ(r.hits[i].load(), 1) << "item " << i << " of " << n;
  }
}

TEST(ParallelForTest, ZeroItemsCallNothing) {
  Record r(1);
  parallelFor(&countItems, &r, 0);
  EXPECT_EQ(r.hits[0].load(), 0);
  EXPECT_TRUE(r.threads.empty());
}

TEST(ParallelForTest, ManyLoopsInARowAllComplete) {
  // The pool is reused loop after loop, as a training step does (hundreds of loops per call).
  for (int loop = 0; loop < 2000; ++loop) {
    Record r(97);
    parallelFor(&countItems, &r, 97);
    for (int64_t i = 0; i < 97; ++i)
      ASSERT_EQ(r.hits[i].load(), 1) << "loop " << loop;
  }
}

struct Nested {
  Record inner{16};
  std::atomic<int> outerItems{0};
};

void outerItem(void *arguments, int64_t begin, int64_t end) {
  auto *n = static_cast<Nested *>(arguments);
  for (int64_t i = begin; i < end; ++i) {
    ++n->outerItems;
    Record own(16);
    parallelFor(&countItems, &own, 16); // inside an item: runs in place on this thread
    EXPECT_EQ(own.threads.size(), 1u);
    EXPECT_EQ(*own.threads.begin(), std::this_thread::get_id());
    for (int64_t k = 0; k < 16; ++k)
      EXPECT_EQ(own.hits[k].load(), 1);
  }
}

TEST(ParallelForTest, NestedLoopsRunInPlace) {
  Nested n;
  parallelFor(&outerItem, &n, 8);
  EXPECT_EQ(n.outerItems.load(), 8);
}

// Outer item 1 has no work, so its thread is soon out of items. Outer item 0 waits for it to
// finish, then runs loops whose first item waits (up to 50 ms) until another thread has run one
// of the loop's items, until one has (or 10 s have passed).
struct Helped {
  std::vector<std::unique_ptr<Record>> attempts;
  std::atomic<int> outerItems{0}, innerByOthers{0};
  std::atomic<bool> secondDone{false};
  std::thread::id owner;
};

void innerWaitingForHelp(void *arguments, int64_t begin, int64_t end) {
  auto *h = static_cast<Helped *>(arguments);
  if (std::this_thread::get_id() != h->owner)
    ++h->innerByOthers;
  if (begin == 0)
    for (auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
         h->innerByOthers.load() == 0 && std::chrono::steady_clock::now() < until;)
      std::this_thread::yield();
  countItems(h->attempts.back().get(), begin, end);
}

void outerHelpedItem(void *arguments, int64_t begin, int64_t end) {
  auto *h = static_cast<Helped *>(arguments);
  for (int64_t i = begin; i < end; ++i) {
    ++h->outerItems;
    if (i == 1) {
      h->secondDone = true;
      continue;
    }
    h->owner = std::this_thread::get_id();
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!h->secondDone.load() && std::chrono::steady_clock::now() < until)
      std::this_thread::yield();
    while (h->innerByOthers.load() == 0 && std::chrono::steady_clock::now() < until) {
      h->attempts.push_back(std::make_unique<Record>(64));
      parallelFor(&innerWaitingForHelp, h, 64);
    }
  }
}

TEST(ParallelForTest, ThreadsOutOfItemsHelpWithTheLoopsOfOthers) {
  if (Model::threads() == 1)
    GTEST_SKIP() << "one thread (VIDNET_THREADS or the machine): no other thread to help";
  Helped h;
  parallelForHelped(&outerHelpedItem, &h, 2);
  EXPECT_EQ(h.outerItems.load(), 2);
  ASSERT_FALSE(h.attempts.empty());
  for (const auto &attempt : h.attempts)
    for (int64_t k = 0; k < 64; ++k)
      ASSERT_EQ(attempt->hits[k].load(), 1) << "inner item " << k;
  EXPECT_GT(h.innerByOthers.load(), 0) << "the thread out of items took none of the other's loops";
  EXPECT_EQ(h.attempts.back()->threads.size(), 2u);
}

// A helped item's loop run as a compiled loop is (timedParallelFor, loop 0): the chunks that the
// thread out of items takes of it count in its row beside the owner's wall time, which a profile
// of a forward's clips one per thread needs (each row every thread's time in it). The owner's
// first inner item waits (up to 50 ms) until the helper runs one, which then takes 5 ms.
struct TimedHelp {
  std::atomic<bool> secondDone{false};
  std::atomic<int> helperItems{0};
  std::atomic<int64_t> helperNanoseconds{0};
  std::thread::id owner;
  int64_t ownerNanoseconds = 0, attempts = 0;
};

int64_t nanosecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start).count();
}

void innerTimedItem(void *arguments, int64_t begin, int64_t) {
  auto *t = static_cast<TimedHelp *>(arguments);
  const auto start = std::chrono::steady_clock::now();
  if (std::this_thread::get_id() == t->owner) {
    while (begin == 0 && t->helperItems.load() == 0 && nanosecondsSince(start) < 50'000'000)
      std::this_thread::yield();
    return;
  }
  ++t->helperItems;
  while (nanosecondsSince(start) < 5'000'000)
    std::this_thread::yield();
  t->helperNanoseconds += nanosecondsSince(start);
}

void outerTimedItem(void *arguments, int64_t begin, int64_t end) {
  auto *t = static_cast<TimedHelp *>(arguments);
  for (int64_t i = begin; i < end; ++i) {
    if (i == 1) {
      t->secondDone = true;
      continue;
    }
    t->owner = std::this_thread::get_id();
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!t->secondDone.load() && std::chrono::steady_clock::now() < until)
      std::this_thread::yield();
    while (t->helperItems.load() == 0 && std::chrono::steady_clock::now() < until) {
      const auto start = std::chrono::steady_clock::now();
      timedParallelFor(&innerTimedItem, t, 64, 0);
      t->ownerNanoseconds += nanosecondsSince(start);
      ++t->attempts;
    }
  }
}

TEST(ParallelForTest, HelpersTimeCountsInTheHelpedLoopsRow) {
  if (Model::threads() == 1)
    GTEST_SKIP() << "one thread (VIDNET_THREADS or the machine): no other thread to help";
  LoopTimer timer(1);
  TimedHelp t;
  parallelForHelped(&outerTimedItem, &t, 2);
  ASSERT_GT(t.helperItems.load(), 0) << "the thread out of items took none of the other's loop";
  EXPECT_EQ(timer.calls(0), t.attempts) << "a helper's chunks are not calls of their own";
  // Without the helper's time the row is at most the owner's wall time (timed inside its call).
  EXPECT_GE(timer.seconds(0) + 1e-3, 1e-9 * static_cast<double>(t.ownerNanoseconds + t.helperNanoseconds.load()));
}

// Many helped calls of items that each run many loops of their own, of uneven sizes: every item
// of every loop exactly once, whichever threads ran them.
struct Busy {
  std::vector<std::unique_ptr<Record>> loops;
};

void outerBusyItem(void *arguments, int64_t begin, int64_t end) {
  auto *b = static_cast<Busy *>(arguments);
  for (int64_t i = begin; i < end; ++i)
    for (int64_t loop = 0; loop < 50; ++loop) {
      Record &r = *b->loops[static_cast<size_t>(i * 50 + loop)];
      parallelFor(&countItems, &r, static_cast<int64_t>(r.hits.size()));
    }
}

TEST(ParallelForTest, HelpedLoopsRunEveryItemExactlyOnce) {
  for (int64_t outer : {1, 2, 3, 8}) {
    Busy b;
    for (int64_t i = 0; i < outer * 50; ++i)
      b.loops.push_back(std::make_unique<Record>(1 + (i * 37 + outer) % 300));
    parallelForHelped(&outerBusyItem, &b, outer);
    for (size_t l = 0; l < b.loops.size(); ++l)
      for (size_t k = 0; k < b.loops[l]->hits.size(); ++k)
        ASSERT_EQ(b.loops[l]->hits[k].load(), 1) << outer << " outer items, loop " << l << ", item " << k;
  }
}

TEST(ParallelForTest, ConcurrentCallersAllComplete) {
  // Two threads calling at once (e.g. two models in one process): one gets the pool, the other
  // runs in place; both finish every item.
  Record a(5000), b(5000);
  std::thread other([&] { parallelFor(&countItems, &b, 5000); });
  parallelFor(&countItems, &a, 5000);
  other.join();
  for (int64_t i = 0; i < 5000; ++i) {
    ASSERT_EQ(a.hits[i].load(), 1);
    ASSERT_EQ(b.hits[i].load(), 1);
  }
}

TEST(ParallelForTest, CountersSayWhichLoopsRanInlineAndWhichChunksMoved) {
  if (Model::threads() < 2)
    GTEST_SKIP() << "one thread (VIDNET_THREADS or the machine): the pool never runs a loop itself";
  // The caller's first chunk sleeps, so the other threads finish their shares and take from it.
  const PoolCounters start = poolCounters();
  Record slow(640);
  parallelFor(&slowFirstItem, &slow, 640);
  const PoolCounters afterSlow = poolCounters();
  EXPECT_GT(afterSlow.chunksTakenFromOthers, start.chunksTakenFromOthers);
  EXPECT_EQ(afterSlow.loopsRunInline, start.loopsRunInline);

  // A second caller while the first holds the pool: its loop runs on its own thread, counted.
  struct Hold {
    std::atomic<bool> started{false}, released{false};
  } hold;
  auto holdPool = [](void *arguments, int64_t, int64_t) {
    auto *h = static_cast<Hold *>(arguments);
    h->started = true;
    while (!h->released)
      std::this_thread::yield();
  };
  std::thread holder([&] { parallelFor(holdPool, &hold, 2); });
  while (!hold.started)
    std::this_thread::yield();
  Record other(100);
  parallelFor(&countItems, &other, 100);
  hold.released = true;
  holder.join();
  for (int64_t i = 0; i < 100; ++i)
    ASSERT_EQ(other.hits[i].load(), 1);
  EXPECT_EQ(poolCounters().loopsRunInline, afterSlow.loopsRunInline + 1);
}

} // namespace
} // namespace vidnet::rt
