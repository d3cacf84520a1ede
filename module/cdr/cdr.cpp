#include "module/cdr/cdr.h"

#include <array>
#include <utility>

namespace callvault {
namespace {

// One table per enum so ToString and Parse can never disagree.
constexpr std::array<std::pair<Disposition, std::string_view>, 5> kDispositions{{
    {Disposition::kAnswered, "answered"},
    {Disposition::kBusy, "busy"},
    {Disposition::kNoAnswer, "no-answer"},
    {Disposition::kCancelled, "cancelled"},
    {Disposition::kFailed, "failed"},
}};

constexpr std::array<std::pair<ReleasedBy, std::string_view>, 5> kReleasedBy{{
    {ReleasedBy::kNone, "none"},
    {ReleasedBy::kCaller, "caller"},
    {ReleasedBy::kCallee, "callee"},
    {ReleasedBy::kProxy, "proxy"},
    {ReleasedBy::kTimeout, "timeout"},
}};

template <typename Enum, size_t N>
std::string_view NameOf(const std::array<std::pair<Enum, std::string_view>, N>& table, Enum v) {
  for (const auto& [value, name] : table) {
    if (value == v) return name;
  }
  return "unknown";
}

template <typename Enum, size_t N>
bool ValueOf(const std::array<std::pair<Enum, std::string_view>, N>& table, std::string_view s,
             Enum* out) {
  for (const auto& [value, name] : table) {
    if (name == s) {
      *out = value;
      return true;
    }
  }
  return false;
}

}  // namespace

std::string_view ToString(Disposition d) { return NameOf(kDispositions, d); }
std::string_view ToString(ReleasedBy r) { return NameOf(kReleasedBy, r); }
bool ParseDisposition(std::string_view s, Disposition* out) { return ValueOf(kDispositions, s, out); }
bool ParseReleasedBy(std::string_view s, ReleasedBy* out) { return ValueOf(kReleasedBy, s, out); }

}  // namespace callvault
