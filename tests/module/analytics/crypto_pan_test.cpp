#include "module/analytics/crypto_pan.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "module/analytics/address.h"

namespace callvault {
namespace {

// shared/reference/test-vectors.md, "Sample key".
SecretBytes SampleKey() {
  const uint8_t k[32] = {21,  34,  23,  141, 51,  164, 207, 128, 19,  10, 91,
                         22,  73,  144, 125, 16,  216, 152, 143, 131, 121, 121,
                         101, 39,  98,  87,  76,  45,  42,  132, 34,  2};
  return SecretBytes(k, sizeof(k));
}

std::string Anon4(CryptoPan& pan, const std::string& in) {
  std::array<uint8_t, 4> a;
  EXPECT_EQ(inet_pton(AF_INET, in.c_str(), a.data()), 1) << in;
  const auto out = pan.Anonymise4(a);
  char buf[INET_ADDRSTRLEN];
  return inet_ntop(AF_INET, out.data(), buf, sizeof(buf));
}

std::string Anon6(CryptoPan& pan, const std::string& in) {
  std::array<uint8_t, 16> a;
  EXPECT_EQ(inet_pton(AF_INET6, in.c_str(), a.data()), 1) << in;
  const auto out = pan.Anonymise6(a);
  char buf[INET6_ADDRSTRLEN];
  return inet_ntop(AF_INET6, out.data(), buf, sizeof(buf));
}

TEST(CryptoPan, EveryIpv4VectorOfTheSampleKey) {
  auto pan = CryptoPan::Create(SampleKey());
  ASSERT_NE(pan, nullptr);
  const std::vector<std::pair<std::string, std::string>> vectors = {
      {"128.11.68.132", "135.242.180.132"}, {"129.118.74.4", "134.136.186.123"},
      {"130.132.252.244", "133.68.164.234"}, {"141.223.7.43", "141.167.8.160"},
      {"192.102.249.13", "252.138.62.131"}, {"24.5.0.80", "100.9.15.210"},
      {"24.13.62.231", "100.2.192.247"},    {"208.234.120.210", "227.154.67.17"},
      {"209.238.72.3", "226.6.119.243"},    {"207.105.49.5", "241.118.205.138"},
      {"209.68.60.238", "226.184.220.233"}, {"64.14.118.196", "0.255.183.58"},
      {"4.3.88.225", "124.60.155.63"},
  };
  for (const auto& [in, out] : vectors) EXPECT_EQ(Anon4(*pan, in), out) << in;
}

TEST(CryptoPan, Ipv6CrossCheckVectorsOfTheSampleKey) {
  auto pan = CryptoPan::Create(SampleKey());
  ASSERT_NE(pan, nullptr);
  EXPECT_EQ(Anon6(*pan, "::1"), "78ff:f001:9fc0:20df:8380:b1f1:704:ed");
  EXPECT_EQ(Anon6(*pan, "2001:db8::1"), "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1e");
}

TEST(CryptoPan, VectorsOfTheSecondImplementation) {
  const std::string key = "32-char-str-for-AES-key-and-pad.";
  auto pan = CryptoPan::Create(SecretBytes(key.data(), key.size()));
  ASSERT_NE(pan, nullptr);
  EXPECT_EQ(Anon4(*pan, "192.0.2.1"), "192.0.125.244");
  EXPECT_EQ(Anon6(*pan, "2001:db8::1"), "27fe:8bc7:fee:1e:1e1f:f0fe:f0e1:83fd");
}

TEST(CryptoPan, RefusesKeysOfTheWrongSize) {
  EXPECT_EQ(CryptoPan::Create(SecretBytes::Random(16)), nullptr);
  EXPECT_EQ(CryptoPan::Create(SecretBytes::Random(33)), nullptr);
}

int CommonPrefixBits(const std::array<uint8_t, 16>& a, const std::array<uint8_t, 16>& b, int n) {
  for (int i = 0; i < n; ++i) {
    const uint8_t m = static_cast<uint8_t>(0x80u >> (i & 7));
    if ((a[i >> 3] & m) != (b[i >> 3] & m)) return i;
  }
  return n;
}

TEST(CryptoPan, PreservesPrefixesExactly) {
  auto pan = CryptoPan::Create(SecretBytes::Random(32));
  ASSERT_NE(pan, nullptr);
  std::array<uint8_t, 16> base{};
  inet_pton(AF_INET6, "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff", base.data());
  const auto base_out = pan->Anonymise6(base);
  for (int flip = 0; flip < 128; ++flip) {
    auto other = base;
    other[flip >> 3] ^= static_cast<uint8_t>(0x80u >> (flip & 7));
    const auto other_out = pan->Anonymise6(other);
    // Same first `flip` bits in, so same first `flip` bits out, and the
    // differing bit stays different (the map is a bijection on prefixes).
    EXPECT_EQ(CommonPrefixBits(base_out, other_out, 128), flip) << flip;
  }
}

TEST(IpTruncation, KeepsSlash24AndSlash48) {
  IpAddress ip;
  ASSERT_TRUE(ParseIpLiteral("198.51.100.23:5060", &ip));
  EXPECT_EQ(PseudonymiseIp(ip, IpMode::kTruncate, nullptr), "198.51.100.0");
  ASSERT_TRUE(ParseIpLiteral("[2001:db8:1234:5678::99]:5060", &ip));
  EXPECT_EQ(PseudonymiseIp(ip, IpMode::kTruncate, nullptr), "2001:db8:1234::");
  ASSERT_TRUE(ParseIpLiteral("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", &ip));
  EXPECT_EQ(PseudonymiseIp(ip, IpMode::kTruncate, nullptr), "2001:db8:ffff::");
}

TEST(IpParsing, FormsAndMappedAddresses) {
  IpAddress ip;
  EXPECT_TRUE(ParseIpLiteral("10.1.2.3", &ip));
  EXPECT_EQ(ip.family, AF_INET);
  EXPECT_TRUE(ParseIpLiteral("2001:db8::1", &ip));
  EXPECT_EQ(ip.family, AF_INET6);
  EXPECT_TRUE(ParseIpLiteral("[2001:db8::1]", &ip));
  ASSERT_TRUE(ParseIpLiteral("[::ffff:198.51.100.23]:5060", &ip));
  EXPECT_EQ(ip.family, AF_INET);
  EXPECT_EQ(PseudonymiseIp(ip, IpMode::kTruncate, nullptr), "198.51.100.0");
  EXPECT_FALSE(ParseIpLiteral("gw.example.com:5060", &ip));
  EXPECT_FALSE(ParseIpLiteral("", &ip));
  EXPECT_FALSE(ParseIpLiteral("[2001:db8::1", &ip));
  EXPECT_FALSE(ParseIpLiteral("1.2.3.4.5", &ip));
}

TEST(IpParsing, CryptoPanOfMappedEqualsCryptoPanOfPlainIpv4) {
  auto pan = CryptoPan::Create(SampleKey());
  IpAddress a, b;
  ASSERT_TRUE(ParseIpLiteral("128.11.68.132:5060", &a));
  ASSERT_TRUE(ParseIpLiteral("[::ffff:128.11.68.132]:5060", &b));
  EXPECT_EQ(PseudonymiseIp(a, IpMode::kCryptoPan, pan.get()), "135.242.180.132");
  EXPECT_EQ(PseudonymiseIp(b, IpMode::kCryptoPan, pan.get()), "135.242.180.132");
}

}  // namespace
}  // namespace callvault

namespace callvault {
namespace {

// The event's address text is formatted by hand; it must be what inet_ntop
// (RFC 5952) writes.
std::string Ntop(int family, const uint8_t* bytes) {
  char buf[INET6_ADDRSTRLEN];
  return inet_ntop(family, bytes, buf, sizeof(buf));
}

TEST(IpText, MatchesInetNtop) {
  auto pan = CryptoPan::Create(SecretBytes::Random(32));
  for (const char* text : {"2001:db8::1", "2001:db8:0:0:1:0:0:1", "2001:0:0:1:0:0:0:1", "1::",
                           "0:1:0:1:0:1:0:1", "fe80::1:2", "2001:db8:1234:5678:9abc:def0:1:0"}) {
    IpAddress ip;
    ASSERT_TRUE(ParseIpLiteral(text, &ip));
    EXPECT_EQ(PseudonymiseIp(ip, IpMode::kCryptoPan, pan.get()),
              Ntop(AF_INET6, pan->Anonymise6(ip.bytes).data()))
        << text;
  }
  EXPECT_EQ(PseudonymiseIp(IpAddress{AF_INET6, {0, 1}}, IpMode::kTruncate, nullptr), "1::");
  // Random addresses with zero groups of every run length.
  for (int i = 0; i < 2000; ++i) {
    const SecretBytes r = SecretBytes::Random(16);
    IpAddress ip{AF_INET6, {}};
    std::copy(r.data(), r.data() + 6, ip.bytes.begin());  // what a /48 keeps
    for (int g = 0; g < 3; ++g) {
      if ((r.data()[8 + g] & 1) == 0) ip.bytes[2 * g] = ip.bytes[2 * g + 1] = 0;
    }
    EXPECT_EQ(PseudonymiseIp(ip, IpMode::kTruncate, nullptr), Ntop(AF_INET6, ip.bytes.data()));
    ip.family = AF_INET;
    ip.bytes[3] = 0;
    EXPECT_EQ(PseudonymiseIp(ip, IpMode::kTruncate, nullptr), Ntop(AF_INET, ip.bytes.data()));
  }
}

}  // namespace
}  // namespace callvault
