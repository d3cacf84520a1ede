// Addresses and URI hosts for analytics: parse what the CDR holds, then
// pseudonymise (Crypto-PAn) or truncate (/24, /48) per config.  Ports are
// always dropped.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace callvault {

class CryptoPan;

enum class IpMode { kCryptoPan, kTruncate };
enum class UriHostMode { kPseudonymise, kGeneralise, kDrop };

bool ParseIpMode(std::string_view s, IpMode* out);            // cryptopan | truncate
bool ParseUriHostMode(std::string_view s, UriHostMode* out);  // pseudonymise | generalise | drop

struct IpAddress {
  int family = 0;  // AF_INET or AF_INET6
  std::array<uint8_t, 16> bytes{};  // network order; IPv4 uses the first 4
};

// Accepts "1.2.3.4", "1.2.3.4:5060", "2001:db8::1", "[2001:db8::1]",
// "[2001:db8::1]:5060".  IPv4-mapped IPv6 addresses become IPv4, so one host
// gets one pseudonym whichever socket family saw it.  False for anything
// else (host names included).
bool ParseIpLiteral(std::string_view text, IpAddress* out);

// Truncation keeps the first 24 (IPv4) or 48 (IPv6) bits and zeroes the rest.
inline constexpr int kTruncateBits4 = 24;
inline constexpr int kTruncateBits6 = 48;

// Text form of the pseudonymised address.  pan is used (and required) only
// for IpMode::kCryptoPan.
std::string PseudonymiseIp(const IpAddress& ip, IpMode mode, CryptoPan* pan);

// A URI host without port or brackets, lower-cased, trailing dot removed:
// "[2001:DB8::1]:5061" -> "2001:db8::1", "Example.COM.:5060" -> "example.com".
std::string NormaliseHost(std::string_view host);

}  // namespace callvault
