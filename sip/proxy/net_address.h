// IP addresses and CIDR prefixes for trunk matching.  Plain values, parsed
// once at config load; matching is a few byte compares so it can run on the
// SIP thread for every request.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sockaddr;

namespace callvault::proxy {

// An IPv4 or IPv6 address.  bytes holds 4 or 16 bytes in network order;
// family is 4 or 6 (0 = unset).
struct IpAddress {
  uint8_t family = 0;
  uint8_t bytes[16] = {};

  bool operator==(const IpAddress& other) const;

  // Parses a numeric address ("127.0.0.1", "::1", "[::1]").  No DNS.
  static std::optional<IpAddress> Parse(std::string_view text);
  // Reads the address of an AF_INET / AF_INET6 sockaddr; nullopt otherwise.
  static std::optional<IpAddress> FromSockaddr(const sockaddr* sa);
};

// A prefix such as "10.0.0.0/8" or "2001:db8::/32".  A bare address means a
// host prefix (/32 or /128).  Host bits beyond the prefix must be zero.
struct Cidr {
  IpAddress network;
  unsigned prefix_len = 0;

  bool Contains(const IpAddress& address) const;

  // On failure returns nullopt and sets *why to what is wrong (never the text).
  static std::optional<Cidr> Parse(std::string_view text, std::string* why);
};

}  // namespace callvault::proxy
