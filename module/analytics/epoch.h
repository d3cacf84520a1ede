// Analytics epochs: the period one pseudonym key covers.  Within an epoch the
// same number gives the same token; across epochs tokens are unlinkable.
// Epoch ids are derived from the call's INVITE time in UTC, so replaying a
// CDR always lands in the same epoch:
//   month "2026-11"   week (ISO 8601) "2026-W48"   day "2026-11-27"
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace callvault {

enum class EpochGranularity { kMonth, kWeek, kDay };

// "month" | "week" | "day".
bool ParseEpochGranularity(std::string_view s, EpochGranularity* out);

std::string EpochIdFor(int64_t unix_ms, EpochGranularity granularity);

// True for a well-formed id of any granularity (range-checked month, week
// 01..53, day of month 01..31).
bool IsValidEpochId(std::string_view id);

// True once the whole period of a valid epoch id lies before now_unix_ms
// (false for an invalid id).  Retiring an epoch that has not ended would
// drop the events of the rest of it.
bool EpochEnded(std::string_view id, int64_t now_unix_ms);

// UTC calendar fields of a wall-clock time.
struct UtcTime {
  int year = 1970;
  int month = 1;  // 1..12
  int day = 1;    // 1..31
  int hour = 0;
};
UtcTime ToUtc(int64_t unix_ms);

}  // namespace callvault
