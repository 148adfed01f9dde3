// The loop table's reader and the loop timer.
#include "runtime/core/LoopProfile.h"

#include <dlfcn.h>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace vidnet::rt {

namespace {
std::atomic<LoopTimer *> activeTimer{nullptr};
} // namespace

std::optional<std::vector<LoopRow>> readLoopTable(void *library, const std::string &function, std::string &error) {
  const char *text = library ? static_cast<const char *>(dlsym(library, (function + "_loops").c_str())) : nullptr;
  if (!text) {
    error = "this bundle has no loop table for " + function + " (built by an older vidc): rebuild it";
    return std::nullopt;
  }
  std::vector<LoopRow> rows;
  try {
    for (const nlohmann::json &j : nlohmann::json::parse(text)) {
      LoopRow row;
      row.id = j.at("id").get<int64_t>();
      row.layer = j.at("layer").get<std::string>();
      row.line = j.at("line").get<int64_t>();
      row.kind = j.at("kind").get<std::string>();
      row.shape = j.at("shape").get<std::string>();
      row.flops = j.at("flops").get<int64_t>();
      row.bytes = j.at("bytes").get<int64_t>();
      if (row.id != static_cast<int64_t>(rows.size()))
        throw std::runtime_error("loop " + std::to_string(row.id) + " out of order");
      rows.push_back(std::move(row));
    }
  } catch (const std::exception &e) {
    error = std::string("the bundle's loop table is unreadable: ") + e.what();
    return std::nullopt;
  }
  return rows;
}

LoopTimer::LoopTimer(size_t loops)
    : size_(loops), nanoseconds_(new std::atomic<int64_t>[loops]()), calls_(new std::atomic<int64_t>[loops]()) {
  LoopTimer *none = nullptr;
  if (!activeTimer.compare_exchange_strong(none, this))
    throw std::logic_error("LoopTimer: another timer is active");
}

LoopTimer::~LoopTimer() { activeTimer.store(nullptr); }

LoopTimer *LoopTimer::active() { return activeTimer.load(std::memory_order_relaxed); }

void LoopTimer::add(int64_t loop, int64_t nanoseconds) {
  if (loop < 0 || static_cast<size_t>(loop) >= size_)
    return;
  nanoseconds_[loop].fetch_add(nanoseconds, std::memory_order_relaxed);
  calls_[loop].fetch_add(1, std::memory_order_relaxed);
}

void LoopTimer::addHelp(int64_t loop, int64_t nanoseconds) {
  if (loop >= 0 && static_cast<size_t>(loop) < size_)
    nanoseconds_[loop].fetch_add(nanoseconds, std::memory_order_relaxed);
}

} // namespace vidnet::rt
