#include "module/ctl/cdr_output.h"

#include <algorithm>
#include <array>
#include <ctime>
#include <string>
#include <utility>

#include "module/cdr/cdr_json.h"

namespace callvault::ctl {
namespace {

constexpr size_t kColumns = 12;
constexpr std::array<const char*, kColumns> kHeaders = {
    "record_id", "caller", "callee", "ingress",  "egress",      "invite_time",
    "answer",    "end",    "dur_ms", "status",   "disposition", "released_by"};
// Numbers align right, text left.
constexpr std::array<bool, kColumns> kRight = {false, false, false, false, false, false,
                                               false, false, true,  true,  false, false};

std::string Text(std::string_view s) {
  if (s.empty()) return "-";
  std::string out(s);
  for (char& c : out) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  return out;
}

std::string Time(int64_t ms) {
  if (ms <= 0) return "-";
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[80];  // ample for any int fields, so never truncated
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

// The last group of the record id: the leading groups are the INVITE time
// (shown in its own column, and equal for calls in the same minute), the last
// one carries the ring generation and sequence that tell calls apart.
std::string_view ShortId(std::string_view id) {
  return id.size() > 12 ? id.substr(id.size() - 12) : id;
}

// Display width in terminal columns: UTF-8 continuation bytes take none.
size_t Width(const std::string& s) {
  size_t w = 0;
  for (unsigned char c : s) w += (c & 0xC0) != 0x80;
  return w;
}

std::array<std::string, kColumns> Row(const Cdr& c) {
  return {Text(ShortId(c.record_id)),
          Text(c.caller),
          Text(c.callee),
          Text(c.ingress_trunk),
          Text(c.egress_trunk),
          Time(c.invite_time_ms),
          Time(c.answer_time_ms),
          Time(c.end_time_ms),
          std::to_string(c.duration_ms),
          c.final_status == 0 ? "-" : std::to_string(c.final_status),
          Text(ToString(c.disposition)),
          Text(ToString(c.released_by))};
}

void PrintRow(const std::array<std::string, kColumns>& cells,
              const std::array<size_t, kColumns>& widths, FILE* out) {
  std::string line;
  for (size_t i = 0; i < kColumns; ++i) {
    const size_t pad = widths[i] - Width(cells[i]);
    if (i > 0) line += "  ";
    if (kRight[i]) line.append(pad, ' ');
    line += cells[i];
    if (!kRight[i] && i + 1 < kColumns) line.append(pad, ' ');
  }
  line += '\n';
  std::fputs(line.c_str(), out);
}

}  // namespace

void PrintCdrTable(const std::vector<Cdr>& cdrs, FILE* out) {
  std::vector<std::array<std::string, kColumns>> rows;
  rows.reserve(cdrs.size());
  std::array<size_t, kColumns> widths{};
  std::array<std::string, kColumns> header;
  for (size_t i = 0; i < kColumns; ++i) {
    header[i] = kHeaders[i];
    widths[i] = header[i].size();
  }
  for (const Cdr& c : cdrs) {
    rows.push_back(Row(c));
    for (size_t i = 0; i < kColumns; ++i) widths[i] = std::max(widths[i], Width(rows.back()[i]));
  }
  PrintRow(header, widths, out);
  std::array<std::string, kColumns> rule;
  for (size_t i = 0; i < kColumns; ++i) rule[i] = std::string(widths[i], '-');
  PrintRow(rule, widths, out);
  for (const auto& r : rows) PrintRow(r, widths, out);
}

void PrintCdrJsonl(const Cdr& cdr, FILE* out) {
  std::string line = CdrToJson(cdr);
  line += '\n';
  std::fputs(line.c_str(), out);
}

void CdrPrinter::Add(Cdr cdr) {
  if (jsonl_) {
    PrintCdrJsonl(cdr, out_);
  } else {
    table_.push_back(std::move(cdr));
  }
}

void CdrPrinter::Finish() {
  if (!jsonl_) PrintCdrTable(table_, out_);
  std::fflush(out_);
}

}  // namespace callvault::ctl
