#include "module/cdr/cdr_json.h"

#include <array>
#include <cstdio>
#include <utility>

#include <nlohmann/json.hpp>

namespace callvault {
namespace {

using nlohmann::json;

// The field tables are the single list of what a CDR holds; writer and reader
// both walk them, so a field cannot be written and then forgotten on read.
constexpr std::array<std::pair<const char*, std::string Cdr::*>, 19> kStrings{{
    {"record_id", &Cdr::record_id},
    {"node_id", &Cdr::node_id},
    {"call_id", &Cdr::call_id},
    {"ingress_trunk", &Cdr::ingress_trunk},
    {"egress_trunk", &Cdr::egress_trunk},
    {"caller", &Cdr::caller},
    {"caller_pai", &Cdr::caller_pai},
    {"callee", &Cdr::callee},
    {"callee_to", &Cdr::callee_to},
    {"diversion", &Cdr::diversion},
    {"caller_host", &Cdr::caller_host},
    {"callee_host", &Cdr::callee_host},
    {"src_addr", &Cdr::src_addr},
    {"dst_addr", &Cdr::dst_addr},
    {"caller_ua", &Cdr::caller_ua},
    {"callee_ua", &Cdr::callee_ua},
    {"reason", &Cdr::reason},
    {"codecs_offered", &Cdr::codecs_offered},
    {"codecs_answered", &Cdr::codecs_answered},
}};

constexpr std::array<std::pair<const char*, int64_t Cdr::*>, 4> kTimes{{
    {"invite_time", &Cdr::invite_time_ms},
    {"ring_time", &Cdr::ring_time_ms},
    {"answer_time", &Cdr::answer_time_ms},
    {"end_time", &Cdr::end_time_ms},
}};

constexpr std::array<std::pair<const char*, int64_t Cdr::*>, 3> kInt64s{{
    {"post_dial_delay_ms", &Cdr::post_dial_delay_ms},
    {"duration_ms", &Cdr::duration_ms},
    {"billable_seconds", &Cdr::billable_seconds},
}};

constexpr std::array<std::pair<const char*, int Cdr::*>, 2> kInts{{
    {"final_status", &Cdr::final_status},
    {"q850_cause", &Cdr::q850_cause},
}};

constexpr std::array<std::pair<const char*, uint32_t>, 4> kFlags{{
    {"max-duration", kCdrFlagMaxDuration},
    {"no-final-response", kCdrFlagNoFinalResponse},
    {"reinvite", kCdrFlagReinvite},
    {"host-li", kCdrFlagHostLi},
}};

// Howard Hinnant's civil-date algorithms: exact for the proleptic Gregorian
// calendar and independent of the process time zone (unlike timegm/gmtime).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool Digits(std::string_view s, size_t pos, size_t n, unsigned* out) {
  unsigned v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + static_cast<unsigned>(s[i] - '0');
  }
  *out = v;
  return true;
}

bool Fail(std::string* error, const std::string& what) {
  if (error) *error = "CDR JSON: " + what;
  return false;
}

}  // namespace

std::string FormatIsoMs(int64_t unix_ms) {
  const int64_t days = FloorDiv(unix_ms, 86400000);
  const int64_t ms_of_day = unix_ms - days * 86400000;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  const auto secs = static_cast<unsigned>(ms_of_day / 1000);  // < 86400
  const auto millis = static_cast<unsigned>(ms_of_day % 1000);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02u:%02u:%02u.%03uZ", static_cast<long long>(y),
                m, d, (secs / 3600) % 24, (secs / 60) % 60, secs % 60, millis % 1000);
  return buf;
}

bool ParseIsoMs(std::string_view s, int64_t* unix_ms) {
  // Exactly the form FormatIsoMs writes: YYYY-MM-DDTHH:MM:SS.mmmZ
  if (s.size() != 24 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
      s[16] != ':' || s[19] != '.' || s[23] != 'Z') {
    return false;
  }
  unsigned y, mo, d, h, mi, se, ms;
  if (!Digits(s, 0, 4, &y) || !Digits(s, 5, 2, &mo) || !Digits(s, 8, 2, &d) ||
      !Digits(s, 11, 2, &h) || !Digits(s, 14, 2, &mi) || !Digits(s, 17, 2, &se) ||
      !Digits(s, 20, 3, &ms)) {
    return false;
  }
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || se > 59) return false;
  static constexpr unsigned kMonthDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (d > kMonthDays[mo - 1] + (mo == 2 && leap ? 1 : 0)) return false;
  const int64_t days = DaysFromCivil(y, mo, d);
  *unix_ms = ((days * 24 + h) * 60 + mi) * 60000 + se * 1000 + ms;
  return true;
}

namespace {

json ToValue(const Cdr& cdr) {
  json j = json::object();
  for (const auto& [key, member] : kStrings) j[key] = cdr.*member;
  for (const auto& [key, member] : kTimes) {
    const int64_t t = cdr.*member;
    j[key] = t == 0 ? json(nullptr) : json(FormatIsoMs(t));
  }
  for (const auto& [key, member] : kInt64s) j[key] = cdr.*member;
  for (const auto& [key, member] : kInts) j[key] = cdr.*member;
  j["released_by"] = std::string(ToString(cdr.released_by));
  j["disposition"] = std::string(ToString(cdr.disposition));
  json flags = json::array();
  for (const auto& [name, bit] : kFlags) {
    if (cdr.flags & bit) flags.push_back(name);
  }
  j["flags"] = std::move(flags);
  return j;
}

}  // namespace

std::string CdrToJson(const Cdr& cdr) {
  // Strings come from the network; the parser keeps them valid UTF-8, and
  // "replace" makes sure a stray byte can never turn into an exception here.
  return ToValue(cdr).dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

bool FromValue(const json& j, Cdr* out, std::string* error) {
  if (!j.is_object()) return Fail(error, "top level is not an object");
  Cdr cdr;
  for (const auto& [key, member] : kStrings) {
    auto it = j.find(key);
    if (it == j.end()) continue;
    if (!it->is_string()) return Fail(error, std::string("key '") + key + "' must be a string");
    cdr.*member = it->get<std::string>();
  }
  for (const auto& [key, member] : kTimes) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) continue;
    if (!it->is_string() || !ParseIsoMs(it->get_ref<const std::string&>(), &(cdr.*member))) {
      return Fail(error, std::string("key '") + key +
                             "' must be null or an ISO-8601 UTC time like "
                             "2026-11-27T21:03:04.123Z");
    }
  }
  for (const auto& [key, member] : kInt64s) {
    auto it = j.find(key);
    if (it == j.end()) continue;
    if (!it->is_number_integer()) return Fail(error, std::string("key '") + key + "' must be an integer");
    cdr.*member = it->get<int64_t>();
  }
  for (const auto& [key, member] : kInts) {
    auto it = j.find(key);
    if (it == j.end()) continue;
    if (!it->is_number_integer()) return Fail(error, std::string("key '") + key + "' must be an integer");
    cdr.*member = it->get<int>();
  }
  if (auto it = j.find("released_by"); it != j.end()) {
    if (!it->is_string() || !ParseReleasedBy(it->get_ref<const std::string&>(), &cdr.released_by)) {
      return Fail(error, "key 'released_by' must be one of none, caller, callee, proxy, timeout");
    }
  }
  if (auto it = j.find("disposition"); it != j.end()) {
    if (!it->is_string() || !ParseDisposition(it->get_ref<const std::string&>(), &cdr.disposition)) {
      return Fail(error,
                  "key 'disposition' must be one of answered, busy, no-answer, cancelled, failed");
    }
  }
  if (auto it = j.find("flags"); it != j.end()) {
    if (!it->is_array()) return Fail(error, "key 'flags' must be an array");
    for (size_t i = 0; i < it->size(); ++i) {
      const json& f = (*it)[i];
      uint32_t bit = 0;
      if (f.is_string()) {
        for (const auto& [name, b] : kFlags) {
          if (f.get_ref<const std::string&>() == name) bit = b;
        }
      }
      if (bit == 0) {
        return Fail(error, "key 'flags' element " + std::to_string(i) +
                               " is not one of max-duration, no-final-response, reinvite, host-li");
      }
      cdr.flags |= bit;
    }
  }
  *out = std::move(cdr);
  return true;
}

}  // namespace

bool CdrFromJson(std::string_view text, Cdr* out, std::string* error) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Fail(error, "not valid JSON");
  return FromValue(j, out, error);
}

}  // namespace callvault
