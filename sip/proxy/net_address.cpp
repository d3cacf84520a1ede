#include "sip/proxy/net_address.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <cstring>

namespace callvault::proxy {

bool IpAddress::operator==(const IpAddress& other) const {
  if (family != other.family) return false;
  const size_t n = family == 4 ? 4 : 16;
  return std::memcmp(bytes, other.bytes, n) == 0;
}

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress out;
  if (inet_pton(AF_INET, buf, out.bytes) == 1) {
    out.family = 4;
    return out;
  }
  if (inet_pton(AF_INET6, buf, out.bytes) == 1) {
    out.family = 6;
    return out;
  }
  return std::nullopt;
}

std::optional<IpAddress> IpAddress::FromSockaddr(const sockaddr* sa) {
  if (sa == nullptr) return std::nullopt;
  IpAddress out;
  if (sa->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(sa);
    out.family = 4;
    std::memcpy(out.bytes, &in->sin_addr, 4);
    return out;
  }
  if (sa->sa_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(sa);
    out.family = 6;
    std::memcpy(out.bytes, &in6->sin6_addr, 16);
    return out;
  }
  return std::nullopt;
}

namespace {

// True when every bit of a at or beyond bit position `from` is zero.
bool HostBitsZero(const IpAddress& a, unsigned from) {
  const unsigned total = a.family == 4 ? 32 : 128;
  for (unsigned bit = from; bit < total; ++bit) {
    if (a.bytes[bit / 8] & (0x80u >> (bit % 8))) return false;
  }
  return true;
}

}  // namespace

bool Cidr::Contains(const IpAddress& address) const {
  if (address.family != network.family) return false;
  const unsigned full = prefix_len / 8;
  if (std::memcmp(address.bytes, network.bytes, full) != 0) return false;
  const unsigned rest = prefix_len % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xFFu << (8 - rest));
  return (address.bytes[full] & mask) == (network.bytes[full] & mask);
}

std::optional<Cidr> Cidr::Parse(std::string_view text, std::string* why) {
  const size_t slash = text.find('/');
  const std::string_view addr_text = text.substr(0, slash);
  auto address = IpAddress::Parse(addr_text);
  if (!address) {
    *why = "not a numeric IPv4 or IPv6 address";
    return std::nullopt;
  }
  const unsigned max_len = address->family == 4 ? 32 : 128;
  unsigned len = max_len;
  if (slash != std::string_view::npos) {
    const std::string_view len_text = text.substr(slash + 1);
    const auto [end, ec] =
        std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
    if (ec != std::errc() || end != len_text.data() + len_text.size() || len_text.empty()) {
      *why = "prefix length is not a number";
      return std::nullopt;
    }
    if (len > max_len) {
      *why = "prefix length exceeds the address size";
      return std::nullopt;
    }
  }
  if (!HostBitsZero(*address, len)) {
    *why = "address has bits set beyond the prefix length";
    return std::nullopt;
  }
  return Cidr{*address, len};
}

}  // namespace callvault::proxy
