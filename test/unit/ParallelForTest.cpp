// The runtime's parallelFor: every item runs exactly once, in contiguous ranges, also when
// threads take items from each other's shares; nested calls run in place on the calling thread.
#include "runtime/core/ParallelFor.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
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

} // namespace
} // namespace vidnet::rt
