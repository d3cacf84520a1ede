// Fixed-size log-linear histogram of per-message processing times.
//
// Values are nanoseconds.  Below 128 ns each value has its own bucket; above,
// every power of two is split into 64 linear buckets, so a reported
// percentile is at most 1/64 (1.6 %) above the true value.  Record() is a
// shift, a count-leading-zeros and an increment: no allocation, no lock.
// Single-threaded: the proxy records and reports on its su_root thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace callvault::proxy {

class LatencyHistogram {
 public:
  void Record(uint64_t ns);

  uint64_t count() const { return count_; }
  uint64_t max_ns() const { return max_; }

  // The smallest bucket upper bound (clamped to the maximum seen) covering
  // at least `percentile` percent of samples; 0 when empty.
  uint64_t PercentileNs(double percentile) const;

  // "latency_us p50=.. p90=.. p99=.. p999=.. max=.. count=.. module=on|off"
  // with microseconds printed to the nanosecond (three decimals).
  std::string FormatLine(bool module_on) const;

  static size_t BucketIndex(uint64_t ns);
  static uint64_t BucketUpperBound(size_t index);

 private:
  static constexpr unsigned kSubBits = 6;                // 64 linear buckets per octave
  static constexpr uint64_t kLinearLimit = 1u << (kSubBits + 1);  // 128
  static constexpr size_t kBuckets = kLinearLimit + (64 - (kSubBits + 1)) * (1u << kSubBits);

  std::array<uint64_t, kBuckets> counts_{};
  uint64_t count_ = 0;
  uint64_t max_ = 0;
};

// Records the time from construction to destruction into a histogram.  The
// proxy opens one at the top of every callback that handles a message from
// the network, so the sample spans the proxy's work including the sends and
// every hook call made while handling it.
class LatencyTimer {
 public:
  explicit LatencyTimer(LatencyHistogram& histogram) : histogram_(histogram), start_(NowNs()) {}
  ~LatencyTimer() { histogram_.Record(NowNs() - start_); }
  LatencyTimer(const LatencyTimer&) = delete;
  LatencyTimer& operator=(const LatencyTimer&) = delete;

  static uint64_t NowNs();  // CLOCK_MONOTONIC

 private:
  LatencyHistogram& histogram_;
  uint64_t start_;
};

}  // namespace callvault::proxy
