#include "module/analytics/epoch.h"

namespace callvault {
namespace {

constexpr int64_t kMsPerDay = 86400000;

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Days since 1970-01-01 -> civil date (H. Hinnant's algorithm).
void CivilFromDays(int64_t z, int* y, int* m, int* d) {
  z += 719468;
  const int64_t era = FloorDiv(z, 146097);
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  *m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  *y = static_cast<int>(yoe + era * 400 + (*m <= 2));
}

int64_t DaysFromCivil(int y, int m, int d) {
  y -= m <= 2;
  const int64_t era = FloorDiv(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

bool ParseEpochGranularity(std::string_view s, EpochGranularity* out) {
  if (s == "month") {
    *out = EpochGranularity::kMonth;
  } else if (s == "week") {
    *out = EpochGranularity::kWeek;
  } else if (s == "day") {
    *out = EpochGranularity::kDay;
  } else {
    return false;
  }
  return true;
}

UtcTime ToUtc(int64_t unix_ms) {
  UtcTime t;
  const int64_t days = FloorDiv(unix_ms, kMsPerDay);
  CivilFromDays(days, &t.year, &t.month, &t.day);
  t.hour = static_cast<int>((unix_ms - days * kMsPerDay) / 3600000);
  return t;
}

std::string EpochIdFor(int64_t unix_ms, EpochGranularity granularity) {
  // Formatted by hand: this runs for every event.
  auto append = [](std::string* out, int v, int width) {
    char buf[8];
    for (int i = width - 1; i >= 0; --i, v /= 10) buf[i] = static_cast<char>('0' + v % 10);
    out->append(buf, static_cast<size_t>(width));
  };
  const int64_t days = FloorDiv(unix_ms, kMsPerDay);
  int y, m, d;
  std::string id;
  id.reserve(10);
  switch (granularity) {
    case EpochGranularity::kMonth:
    case EpochGranularity::kDay:
      CivilFromDays(days, &y, &m, &d);
      append(&id, y, 4);
      id += '-';
      append(&id, m, 2);
      if (granularity == EpochGranularity::kDay) {
        id += '-';
        append(&id, d, 2);
      }
      break;
    case EpochGranularity::kWeek: {
      // ISO 8601: the week belongs to the year of its Thursday.
      const int64_t weekday = ((days + 3) % 7 + 7) % 7;  // Monday = 0 (1970-01-01 was a Thursday)
      const int64_t thursday = days - weekday + 3;
      CivilFromDays(thursday, &y, &m, &d);
      const int64_t week = (thursday - DaysFromCivil(y, 1, 1)) / 7 + 1;
      append(&id, y, 4);
      id += "-W";
      append(&id, static_cast<int>(week), 2);
      break;
    }
  }
  return id;
}

bool IsValidEpochId(std::string_view id) {
  int y, m, d, w;
  if (!Digits(id, 0, 4, &y) || id.size() < 7 || id[4] != '-') return false;
  if (id.size() == 8 && id[5] == 'W') return Digits(id, 6, 2, &w) && w >= 1 && w <= 53;
  if (!Digits(id, 5, 2, &m) || m < 1 || m > 12) return false;
  if (id.size() == 7) return true;
  return id.size() == 10 && id[7] == '-' && Digits(id, 8, 2, &d) && d >= 1 && d <= 31;
}

bool EpochEnded(std::string_view id, int64_t now_unix_ms) {
  if (!IsValidEpochId(id)) return false;
  int y = 0, m = 0, d = 0, w = 0;
  Digits(id, 0, 4, &y);
  int64_t end_day = 0;
  if (id[5] == 'W') {
    Digits(id, 6, 2, &w);
    const int64_t jan4 = DaysFromCivil(y, 1, 4);
    const int64_t week1_monday = jan4 - (((jan4 + 3) % 7 + 7) % 7);
    end_day = week1_monday + int64_t{w} * 7;
  } else if (id.size() == 7) {
    Digits(id, 5, 2, &m);
    end_day = m == 12 ? DaysFromCivil(y + 1, 1, 1) : DaysFromCivil(y, m + 1, 1);
  } else {
    Digits(id, 5, 2, &m);
    Digits(id, 8, 2, &d);
    end_day = DaysFromCivil(y, m, d) + 1;
  }
  return end_day * kMsPerDay <= now_unix_ms;
}

}  // namespace callvault
