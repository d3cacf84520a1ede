#include "module/analytics/epoch.h"

#include <gtest/gtest.h>

namespace callvault {
namespace {

int64_t Ms(int64_t days, int hour = 0) { return days * 86400000 + hour * 3600000LL; }
// Days since 1970-01-01 of a few dates.
constexpr int64_t k20261127 = 20784;
constexpr int64_t k20201231 = 18627;
constexpr int64_t k20210103 = 18630;
constexpr int64_t k20210104 = 18631;
constexpr int64_t k20241230 = 20087;

TEST(Epoch, MonthWeekDayIds) {
  EXPECT_EQ(EpochIdFor(Ms(k20261127, 21), EpochGranularity::kMonth), "2026-11");
  EXPECT_EQ(EpochIdFor(Ms(k20261127, 21), EpochGranularity::kWeek), "2026-W48");
  EXPECT_EQ(EpochIdFor(Ms(k20261127, 21), EpochGranularity::kDay), "2026-11-27");
  // ISO weeks across year ends.
  EXPECT_EQ(EpochIdFor(Ms(k20201231), EpochGranularity::kWeek), "2020-W53");
  EXPECT_EQ(EpochIdFor(Ms(k20210103, 23), EpochGranularity::kWeek), "2020-W53");
  EXPECT_EQ(EpochIdFor(Ms(k20210104), EpochGranularity::kWeek), "2021-W01");
  EXPECT_EQ(EpochIdFor(Ms(k20241230), EpochGranularity::kWeek), "2025-W01");
  EXPECT_EQ(EpochIdFor(0, EpochGranularity::kWeek), "1970-W01");
  EXPECT_EQ(EpochIdFor(Ms(k20261127) - 1, EpochGranularity::kDay), "2026-11-26");
}

TEST(Epoch, UtcFields) {
  const UtcTime t = ToUtc(Ms(k20261127, 21) + 3 * 60000 + 4123);
  EXPECT_EQ(t.year, 2026);
  EXPECT_EQ(t.month, 11);
  EXPECT_EQ(t.day, 27);
  EXPECT_EQ(t.hour, 21);
}

TEST(Epoch, Granularities) {
  EpochGranularity g;
  EXPECT_TRUE(ParseEpochGranularity("week", &g));
  EXPECT_EQ(g, EpochGranularity::kWeek);
  EXPECT_FALSE(ParseEpochGranularity("year", &g));
}

TEST(Epoch, Validity) {
  for (const char* ok : {"2026-11", "2026-W48", "2026-W01", "2026-11-27", "2020-W53"}) {
    EXPECT_TRUE(IsValidEpochId(ok)) << ok;
  }
  for (const char* bad : {"", "2026", "2026-13", "2026-00", "2026-W54", "2026-W00", "2026-11-32",
                          "2026-11-7", "26-11", "2026/11", "2026-11 ", "../x", "2026-W4"}) {
    EXPECT_FALSE(IsValidEpochId(bad)) << bad;
  }
}

TEST(Epoch, Ended) {
  const int64_t now = Ms(k20261127, 21);
  EXPECT_TRUE(EpochEnded("2026-10", now));
  EXPECT_FALSE(EpochEnded("2026-11", now));
  EXPECT_FALSE(EpochEnded("2026-12", now));
  EXPECT_TRUE(EpochEnded("2026-W47", now));
  EXPECT_FALSE(EpochEnded("2026-W48", now));
  EXPECT_TRUE(EpochEnded("2026-11-26", now));
  EXPECT_FALSE(EpochEnded("2026-11-27", now));
  EXPECT_TRUE(EpochEnded("2026-11-27", Ms(k20261127 + 1)));
  EXPECT_TRUE(EpochEnded("2025-12", Ms(20454)));  // 2026-01-01
  EXPECT_FALSE(EpochEnded("nonsense", now));
}

}  // namespace
}  // namespace callvault
