#include "module/analytics/user_agent.h"

#include <array>

namespace callvault {
namespace {

struct Product {
  std::string_view match;  // lower case; matched at the start of a word
  std::string_view name;   // what the event says
};

// Longer, more specific entries first where one name is a prefix of another.
constexpr std::array<Product, 38> kProducts = {{
    {"asterisk", "Asterisk"},       {"freeswitch", "FreeSWITCH"},
    {"kamailio", "Kamailio"},       {"opensips", "OpenSIPS"},
    {"callvault", "callvault"},     {"sipp", "SIPp"},
    {"linphone", "Linphone"},       {"belle-sip", "Linphone"},
    {"zoiper", "Zoiper"},           {"microsip", "MicroSIP"},
    {"bria", "Bria"},               {"x-lite", "X-Lite"},
    {"jitsi", "Jitsi"},             {"baresip", "baresip"},
    {"pjsua", "PJSIP"},             {"pjsip", "PJSIP"},
    {"grandstream", "Grandstream"}, {"yealink", "Yealink"},
    {"polycom", "Polycom"},         {"cisco", "Cisco"},
    {"avaya", "Avaya"},             {"snom", "snom"},
    {"fanvil", "Fanvil"},           {"obihai", "Obihai"},
    {"gigaset", "Gigaset"},         {"audiocodes", "AudioCodes"},
    {"ribbon", "Ribbon"},           {"sonus", "Ribbon"},
    {"metaswitch", "Metaswitch"},   {"oracle", "Oracle-SBC"},
    {"acme packet", "Oracle-SBC"},  {"huawei", "Huawei"},
    {"mitel", "Mitel"},             {"3cx", "3CX"},
    {"teams", "Microsoft-Teams"},   {"twilio", "Twilio"},
    {"telnyx", "Telnyx"},           {"sofia-sip", "sofia-sip"},
}};

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }
bool IsAlnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// word at pos, not continued by a lower-case letter ("Brian" is not "Bria",
// "PolycomVVX" is "Polycom").
bool MatchesAt(std::string_view s, size_t pos, std::string_view word) {
  if (pos + word.size() > s.size()) return false;
  for (size_t i = 0; i < word.size(); ++i) {
    if (Lower(s[pos + i]) != word[i]) return false;
  }
  const size_t end = pos + word.size();
  return end == s.size() || s[end] < 'a' || s[end] > 'z';
}

}  // namespace

std::string ReduceUserAgent(std::string_view ua) {
  if (ua.empty()) return std::string();
  // Find the earliest known product name that starts a word.
  const Product* found = nullptr;
  size_t found_end = 0;
  for (size_t pos = 0; pos < ua.size() && found == nullptr; ++pos) {
    if (pos > 0 && IsAlnum(ua[pos - 1])) continue;
    for (const auto& p : kProducts) {
      if (MatchesAt(ua, pos, p.match)) {
        found = &p;
        found_end = pos + p.match.size();
        break;
      }
    }
  }
  if (found == nullptr) return "other";
  // The major version: the first digit run after the name that starts a
  // token ("/18.2", " 18.2", "-15.1", "v2", "rv2.10"), before any '('
  // (comments carry user names and device details).  Digits glued to
  // letters ("GXP2160", "T46S") are model names and are skipped; a run of
  // more than four digits is a serial or build number, never a version.
  std::string out(found->name);
  for (size_t i = found_end; i < ua.size() && ua[i] != '('; ++i) {
    if (ua[i] < '0' || ua[i] > '9') continue;
    const char prev = ua[i - 1];
    const bool starts_token = (!IsAlnum(prev) && prev != '_') || prev == 'v' || prev == 'V';
    size_t end = i;
    while (end < ua.size() && ua[end] >= '0' && ua[end] <= '9') ++end;
    if (starts_token) {
      if (end - i <= 4) {
        out += '/';
        out.append(ua.substr(i, end - i));
      }
      break;
    }
    i = end - 1;
  }
  return out;
}

}  // namespace callvault
