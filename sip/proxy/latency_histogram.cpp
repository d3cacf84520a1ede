#include "sip/proxy/latency_histogram.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <ctime>

namespace callvault::proxy {

uint64_t LatencyTimer::NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + static_cast<uint64_t>(ts.tv_nsec);
}

size_t LatencyHistogram::BucketIndex(uint64_t ns) {
  if (ns < kLinearLimit) return static_cast<size_t>(ns);
  const unsigned exponent = 63u - static_cast<unsigned>(__builtin_clzll(ns));  // >= kSubBits + 1
  const unsigned shift = exponent - kSubBits;
  const uint64_t top = ns >> shift;  // in [64, 128)
  return kLinearLimit + (exponent - (kSubBits + 1)) * (1u << kSubBits) +
         static_cast<size_t>(top - (1u << kSubBits));
}

uint64_t LatencyHistogram::BucketUpperBound(size_t index) {
  if (index < kLinearLimit) return index;
  const size_t j = index - kLinearLimit;
  const unsigned exponent = static_cast<unsigned>(kSubBits + 1 + j / (1u << kSubBits));
  const unsigned shift = exponent - kSubBits;
  const uint64_t top = (1u << kSubBits) + j % (1u << kSubBits);
  return ((top + 1) << shift) - 1;  // wraps to UINT64_MAX for the last bucket
}

void LatencyHistogram::Record(uint64_t ns) {
  ++counts_[BucketIndex(ns)];
  ++count_;
  if (ns > max_) max_ = ns;
}

uint64_t LatencyHistogram::PercentileNs(double percentile) const {
  if (count_ == 0) return 0;
  uint64_t rank = static_cast<uint64_t>(std::ceil(percentile / 100.0 * static_cast<double>(count_)));
  if (rank == 0) rank = 1;
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) {
      const uint64_t upper = BucketUpperBound(i);
      return upper < max_ ? upper : max_;
    }
  }
  return max_;
}

std::string LatencyHistogram::FormatLine(bool module_on) const {
  auto us = [](uint64_t ns, char* out, size_t size) {
    std::snprintf(out, size, "%" PRIu64 ".%03" PRIu64, ns / 1000, ns % 1000);
  };
  char p50[32], p90[32], p99[32], p999[32], max[32];
  us(PercentileNs(50.0), p50, sizeof p50);
  us(PercentileNs(90.0), p90, sizeof p90);
  us(PercentileNs(99.0), p99, sizeof p99);
  us(PercentileNs(99.9), p999, sizeof p999);
  us(max_, max, sizeof max);
  char line[256];
  std::snprintf(line, sizeof line,
                "latency_us p50=%s p90=%s p99=%s p999=%s max=%s count=%" PRIu64 " module=%s",
                p50, p90, p99, p999, max, count_, module_on ? "on" : "off");
  return line;
}

}  // namespace callvault::proxy
