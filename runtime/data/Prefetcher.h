// Results of jobs 0, 1, 2, ... computed on worker threads ahead of the consumer, handed out
// in job order; at most `depth` jobs are claimed beyond the one the consumer waits for.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

namespace vidnet::data {

// A job's result must depend only on its index, never on which thread ran it or when: that
// is what makes a loader deterministic for a seed whatever the number of threads.
template <class T> class Prefetcher {
public:
  // threads = 0: each job runs inside next(), on the caller's thread.
  Prefetcher(int64_t jobs, int64_t threads, int64_t depth, std::function<T(int64_t)> make)
      : jobs_(jobs), depth_(depth < 1 ? 1 : depth), make_(std::move(make)) {
    for (int64_t i = 0; i < threads; ++i)
      workers_.emplace_back([this] { work(); });
  }
  ~Prefetcher() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    changed_.notify_all();
    for (std::thread &t : workers_)
      t.join();
  }
  Prefetcher(const Prefetcher &) = delete;
  Prefetcher &operator=(const Prefetcher &) = delete;

  bool done() const { return consumed_ >= jobs_; }

  // The next job's result, in order; waits for a worker to finish it.
  T next() {
    if (workers_.empty())
      return make_(consumed_++);
    std::unique_lock<std::mutex> lock(mutex_);
    changed_.wait(lock, [&] { return ready_.count(consumed_) > 0; });
    T result = std::move(ready_.at(consumed_));
    ready_.erase(consumed_++);
    lock.unlock();
    changed_.notify_all();
    return result;
  }

private:
  void work() {
    for (;;) {
      std::unique_lock<std::mutex> lock(mutex_);
      changed_.wait(lock, [&] { return stop_ || claimed_ >= jobs_ || claimed_ < consumed_ + depth_; });
      if (stop_ || claimed_ >= jobs_)
        return;
      int64_t job = claimed_++;
      lock.unlock();
      T result = make_(job);
      lock.lock();
      ready_.emplace(job, std::move(result));
      lock.unlock();
      changed_.notify_all();
    }
  }

  const int64_t jobs_, depth_;
  std::function<T(int64_t)> make_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::map<int64_t, T> ready_;
  int64_t claimed_ = 0, consumed_ = 0;
  bool stop_ = false;
  std::vector<std::thread> workers_;
};

} // namespace vidnet::data
