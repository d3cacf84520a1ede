#include "sip/proxy/latency_histogram.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <regex>

namespace callvault::proxy {
namespace {

TEST(LatencyHistogram, BucketsAreMonotonicAndTight) {
  uint64_t previous_upper = 0;
  for (size_t i = 1; i < 3000; ++i) {
    const uint64_t upper = LatencyHistogram::BucketUpperBound(i);
    ASSERT_GT(upper, previous_upper) << "bucket " << i;
    previous_upper = upper;
  }
  // Every value lands in a bucket whose upper bound is >= the value and at
  // most 1/64 above it.
  for (uint64_t v : {0ull, 1ull, 127ull, 128ull, 129ull, 1000ull, 4095ull, 4096ull, 123456789ull,
                     (1ull << 40) + 12345, ~0ull}) {
    const size_t i = LatencyHistogram::BucketIndex(v);
    const uint64_t upper = LatencyHistogram::BucketUpperBound(i);
    EXPECT_GE(upper, v) << v;
    if (v >= 128) {
      EXPECT_LE(upper - v, v / 64) << v;
    }
    if (i > 0) {
      EXPECT_LT(LatencyHistogram::BucketUpperBound(i - 1), v) << v;
    }
  }
}

TEST(LatencyHistogram, PercentilesOfAKnownDistribution) {
  LatencyHistogram h;
  EXPECT_EQ(h.PercentileNs(50), 0u);
  // 1..1000 microseconds, one sample each.
  for (uint64_t us = 1; us <= 1000; ++us) h.Record(us * 1000);
  EXPECT_EQ(h.count(), 1000u);
  EXPECT_EQ(h.max_ns(), 1000000u);
  auto near = [](uint64_t got, uint64_t want) {
    return got >= want && got - want <= want / 64;
  };
  EXPECT_TRUE(near(h.PercentileNs(50), 500000)) << h.PercentileNs(50);
  EXPECT_TRUE(near(h.PercentileNs(90), 900000)) << h.PercentileNs(90);
  EXPECT_TRUE(near(h.PercentileNs(99), 990000)) << h.PercentileNs(99);
  EXPECT_TRUE(near(h.PercentileNs(99.9), 999000)) << h.PercentileNs(99.9);
  EXPECT_EQ(h.PercentileNs(100), 1000000u);  // clamped to the exact maximum
}

TEST(LatencyHistogram, LineFormatIsWhatScriptsParse) {
  LatencyHistogram h;
  h.Record(1500);     // 1.5 us
  h.Record(2000000);  // 2 ms
  const std::string line = h.FormatLine(true);
  EXPECT_TRUE(std::regex_match(
      line, std::regex(R"(latency_us p50=[0-9]+\.[0-9]{3} p90=[0-9]+\.[0-9]{3} p99=[0-9]+\.[0-9]{3} )"
                       R"(p999=[0-9]+\.[0-9]{3} max=2000\.000 count=2 module=on)")))
      << line;
  EXPECT_NE(line.find("p50=1.5"), std::string::npos) << line;
  EXPECT_NE(LatencyHistogram().FormatLine(false).find("count=0 module=off"), std::string::npos);
}

TEST(LatencyTimer, RecordsOneSamplePerScope) {
  LatencyHistogram h;
  { LatencyTimer t(h); }
  { LatencyTimer t(h); }
  EXPECT_EQ(h.count(), 2u);
  EXPECT_LT(h.max_ns(), 1000000000u);
}

}  // namespace
}  // namespace callvault::proxy
