#include "module/journal/journal.h"

#include <charconv>

namespace callvault {
namespace {

// Decimal digits only (no sign, no spaces), as ToString writes them.
bool ParseU64(std::string_view s, uint64_t* out) {
  if (s.empty() || s.front() < '0' || s.front() > '9') return false;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

std::string JournalPosition::ToString() const {
  return std::to_string(segment) + ":" + std::to_string(offset);
}

bool JournalPosition::Parse(std::string_view s, JournalPosition* out) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos) return false;
  JournalPosition p;
  if (!ParseU64(s.substr(0, colon), &p.segment) || !ParseU64(s.substr(colon + 1), &p.offset)) {
    return false;
  }
  *out = p;
  return true;
}

}  // namespace callvault
