// User-Agent / Server reduction for analytics: "Asterisk PBX 18.2.1" ->
// "Asterisk/18".  Only product names from a fixed list are ever emitted, with
// at most the major version; anything else becomes "other".  User agents
// often carry device serials, MAC addresses, extension numbers or user names
// ("MicroSIP/3.21 (alice)"), so nothing is copied from the input except the
// digits of a major version.
#pragma once

#include <string>
#include <string_view>

namespace callvault {

// "" for an empty input (no header), else "<Product>[/<major>]" or "other".
std::string ReduceUserAgent(std::string_view user_agent);

}  // namespace callvault
