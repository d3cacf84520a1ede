#include "module/analytics/address.h"

#include <arpa/inet.h>

#include <cstring>

#include "module/analytics/crypto_pan.h"

namespace callvault {

bool ParseIpMode(std::string_view s, IpMode* out) {
  if (s == "cryptopan") {
    *out = IpMode::kCryptoPan;
  } else if (s == "truncate") {
    *out = IpMode::kTruncate;
  } else {
    return false;
  }
  return true;
}

bool ParseUriHostMode(std::string_view s, UriHostMode* out) {
  if (s == "pseudonymise") {
    *out = UriHostMode::kPseudonymise;
  } else if (s == "generalise") {
    *out = UriHostMode::kGeneralise;
  } else if (s == "drop") {
    *out = UriHostMode::kDrop;
  } else {
    return false;
  }
  return true;
}

namespace {

// inet_ntop formats through sprintf, which costs more than the Crypto-PAn
// it follows; these write the same text (RFC 5952 for IPv6) directly.
std::string FormatIpv4(const uint8_t* b) {
  std::string out;
  out.reserve(15);
  for (int i = 0; i < 4; ++i) {
    if (i) out += '.';
    const unsigned v = b[i];
    if (v >= 100) out += static_cast<char>('0' + v / 100);
    if (v >= 10) out += static_cast<char>('0' + v / 10 % 10);
    out += static_cast<char>('0' + v % 10);
  }
  return out;
}

std::string FormatIpv6(const uint8_t* b) {
  uint16_t g[8];
  for (int i = 0; i < 8; ++i) g[i] = static_cast<uint16_t>(b[2 * i] << 8 | b[2 * i + 1]);
  // The longest run of two or more zero groups (the first if tied) becomes "::".
  int best = -1, best_len = 1;
  for (int i = 0; i < 8;) {
    if (g[i] != 0) {
      ++i;
      continue;
    }
    int j = i;
    while (j < 8 && g[j] == 0) ++j;
    if (j - i > best_len) {
      best = i;
      best_len = j - i;
    }
    i = j;
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(39);
  for (int i = 0; i < 8; ++i) {
    if (i == best) {
      out += "::";
      i += best_len - 1;
      continue;
    }
    if (i > 0 && !(best >= 0 && i == best + best_len)) out += ':';
    bool lead = true;
    for (int shift = 12; shift >= 0; shift -= 4) {
      const int nibble = (g[i] >> shift) & 15;
      if (lead && nibble == 0 && shift > 0) continue;
      lead = false;
      out += kHex[nibble];
    }
  }
  return out;
}

}  // namespace

bool ParseIpLiteral(std::string_view text, IpAddress* out) {
  std::string_view host = text;
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    if (close == std::string_view::npos) return false;
    const std::string_view rest = host.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    host = host.substr(1, close - 1);
  } else if (host.find(':') == host.rfind(':') && host.find(':') != std::string_view::npos) {
    host = host.substr(0, host.find(':'));  // exactly one ':' -> IPv4 (or name) with port
  }
  char buf[INET6_ADDRSTRLEN];
  if (host.empty() || host.size() >= sizeof(buf)) return false;
  std::memcpy(buf, host.data(), host.size());
  buf[host.size()] = '\0';
  *out = IpAddress();
  if (inet_pton(AF_INET, buf, out->bytes.data()) == 1) {
    out->family = AF_INET;
    return true;
  }
  if (inet_pton(AF_INET6, buf, out->bytes.data()) != 1) return false;
  static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  if (std::memcmp(out->bytes.data(), kMapped, 12) == 0) {
    std::memmove(out->bytes.data(), out->bytes.data() + 12, 4);
    std::memset(out->bytes.data() + 4, 0, 12);
    out->family = AF_INET;
  } else {
    out->family = AF_INET6;
  }
  return true;
}

std::string PseudonymiseIp(const IpAddress& ip, IpMode mode, CryptoPan* pan) {
  std::array<uint8_t, 16> bytes = ip.bytes;
  const bool v4 = ip.family == AF_INET;
  if (mode == IpMode::kCryptoPan) {
    if (v4) {
      const auto out = pan->Anonymise4({bytes[0], bytes[1], bytes[2], bytes[3]});
      std::memcpy(bytes.data(), out.data(), 4);
    } else {
      bytes = pan->Anonymise6(bytes);
    }
  } else {
    const int keep = v4 ? kTruncateBits4 : kTruncateBits6;
    const int total = v4 ? 32 : 128;
    for (int bit = keep; bit < total; ++bit) {
      bytes[bit >> 3] &= static_cast<uint8_t>(~(0x80u >> (bit & 7)));
    }
  }
  return v4 ? FormatIpv4(bytes.data()) : FormatIpv6(bytes.data());
}

std::string NormaliseHost(std::string_view host) {
  if (!host.empty() && host.front() == '[') {
    const size_t close = host.find(']');
    host = host.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1);
  } else if (host.find(':') == host.rfind(':') && host.find(':') != std::string_view::npos) {
    host = host.substr(0, host.find(':'));
  }
  while (!host.empty() && host.back() == '.') host.remove_suffix(1);
  std::string out(host);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace callvault
