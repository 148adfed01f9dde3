// Per-loop timing of a CPU bundle's compiled code: the table of loops the compiler writes into
// the library (`vidnet_loops`) and a timer the runtime's parallel-for hook feeds.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace vidnet::rt {

// One parallel loop of a compiled entry point: which spec layer it belongs to, and what it
// computes (kind: one of bundle::loop_kind in common/BundleFormat.h; flops for convolutions,
// bytes read and written for the rest).
struct LoopRow {
  int64_t id = 0;
  std::string layer, kind, shape;
  int64_t line = 0, flops = 0, bytes = 0;
};

// The loop table of the loaded library's entry point `function` (the string `function_loops`);
// nullopt when the library has none (built before vidc wrote them) or it is unreadable, with
// the reason in `error`.
std::optional<std::vector<LoopRow>> readLoopTable(void *library, const std::string &function, std::string &error);

// While alive, every compiled parallel loop's wall time (as its caller sees it, plus the chunks
// other threads helped it with) and calls are added to its row. One at a time; loops numbered
// outside [0, loops) are not counted.
class LoopTimer {
public:
  explicit LoopTimer(size_t loops);
  ~LoopTimer();
  LoopTimer(const LoopTimer &) = delete;
  LoopTimer &operator=(const LoopTimer &) = delete;

  double seconds(size_t loop) const { return static_cast<double>(nanoseconds_[loop].load()) * 1e-9; }
  int64_t calls(size_t loop) const { return calls_[loop].load(); }
  size_t loops() const { return size_; }

  // Called by the hook around each loop; addHelp for another thread's chunks of a loop, which
  // add time but not calls.
  static LoopTimer *active();
  void add(int64_t loop, int64_t nanoseconds);
  void addHelp(int64_t loop, int64_t nanoseconds);

private:
  size_t size_;
  std::unique_ptr<std::atomic<int64_t>[]> nanoseconds_, calls_;
};

} // namespace vidnet::rt
