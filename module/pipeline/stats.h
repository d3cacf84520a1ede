// Counters are first-class: every stage owns a few, written by the one
// thread that does the work and read by stats() from any thread.  Names are
// fixed strings (never labels built from data), so no identifier can leak
// into metrics.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string_view>

namespace callvault {

using StatFn = std::function<void(std::string_view name, uint64_t value)>;

struct Counter {
  std::atomic<uint64_t> v{0};
  void Add(uint64_t n = 1) { v.fetch_add(n, std::memory_order_relaxed); }
  void Set(uint64_t n) { v.store(n, std::memory_order_relaxed); }
  uint64_t Get() const { return v.load(std::memory_order_relaxed); }
};

}  // namespace callvault
